package org.neurite.it.reference;

import org.neurite.testkit.PyTorchParityTest;
import org.neurite.testkit.ReferenceBackend;

/**
 * The whole PyTorch fixture suite on the reference backend: its primitives and, through them,
 * every derived op's default composition ({@code DerivedOps}) against PyTorch's float64 results,
 * at the tolerance the CPU and OpenCL backends are held to.
 */
class ReferencePyTorchParityTest extends PyTorchParityTest {
    ReferencePyTorchParityTest() {
        super(ReferenceBackend::checked, TOL, true);
    }
}
