package org.neurite.it.reference;

import org.neurite.testkit.BackendContractTest;
import org.neurite.testkit.ReferenceBackend;

/**
 * The reference backend refuses bad calls with the words every backend uses: the argument checks
 * come from {@code CheckedBackend}, the data refusals (argmax, row index, label) from its own
 * primitives and from the default softmax cross-entropy.
 */
class ReferenceBackendContractTest extends BackendContractTest {
    ReferenceBackendContractTest() {
        super(ReferenceBackend::new);
    }
}
