package org.neurite.it.reference;

import org.neurite.it.LayerParityMatrix;
import org.neurite.testkit.BackendParity;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.ReferenceBackend;

/**
 * The layer parity matrix on the reference backend, whose derived ops are the default
 * compositions over the primitives: every built-in layer against the CPU backend's fused kernels
 * within 1e-4 relative + 1e-4 absolute, and its gradients against central differences (the shared
 * {@link GradientChecker}, step 1e-2, tolerance 1e-2). A template for a new backend's test.
 */
class ReferenceLayerParityTest extends LayerParityMatrix {
    ReferenceLayerParityTest() {
        super(ReferenceBackend::checked, new BackendParity.Tolerance(1e-4, 1e-4), new GradientChecker(1e-2, 1e-2, 0x5EED_4EF0L));
    }
}
