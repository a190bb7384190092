package org.neurite.backend.cpu;

import org.neurite.testkit.BackendContractTest;

/** The CPU backend (two threads) refuses the contract's bad calls with the contract's words. */
class CpuBackendContractTest extends BackendContractTest {
    CpuBackendContractTest() {
        super(() -> new CpuBackend(2));
    }
}
