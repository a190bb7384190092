package org.neurite.backend.opencl;

import org.neurite.testkit.BackendContractTest;

/**
 * The OpenCL backend refuses the contract's bad calls with the contract's words: the argument
 * checks come from the wrapper, the index checks (argmax, rows, labels) from its own kernels.
 * Each instance is a backend of its own (a second one supplies the foreign tensor).
 */
class ClBackendContractTest extends BackendContractTest {
    ClBackendContractTest() {
        super(() -> new ClBackend(OpenClTests.device(), ClProgramCache.standard()));
    }
}
