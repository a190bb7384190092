package org.neurite.backend.opencl;

import org.neurite.testkit.PyTorchParityTest;

/**
 * The OpenCL backend against PyTorch: every case the PyTorch fixtures hold the CPU backend to
 * (testkit: the fixtures, their reader and the cases), on the shared OpenCL backend, within the
 * same tolerance {@link PyTorchParityTest#TOL} (1e-4, relative + absolute): the device reduces in
 * double where it has it, so float32 rounding is the only difference from the float64 references,
 * as on the CPU.
 */
class ClPyTorchParityTest extends PyTorchParityTest {
    /** The OpenCL backend's tolerance against the float64 references. */
    static final double TOL = PyTorchParityTest.TOL;

    ClPyTorchParityTest() {
        super(OpenClTests::backend, TOL, false); // shared with the other test classes: not closed here
    }
}
