package org.neurite.backend.cpu;

import org.neurite.backend.CheckedBackend;
import org.neurite.testkit.PyTorchParityTest;

/**
 * The CPU backend against PyTorch: every case of the fixtures (see {@link PyTorchParityTest}) on a
 * three-thread {@link CpuBackend} behind the checking wrapper, as the runtime hands it out, within
 * {@link PyTorchParityTest#TOL} (1e-4, relative + absolute).
 */
class CpuPyTorchParityTest extends PyTorchParityTest {
    CpuPyTorchParityTest() {
        super(() -> CheckedBackend.wrap(new CpuBackend(3)), TOL, true);
    }
}
