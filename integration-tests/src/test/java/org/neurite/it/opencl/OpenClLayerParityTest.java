package org.neurite.it.opencl;

import org.neurite.it.LayerParityMatrix;
import org.neurite.testkit.BackendParity;

/**
 * The layer parity matrix on the OpenCL backend (the default device, or
 * {@code -Dneurite.opencl.device}): every registered layer, forward in training and evaluation
 * mode and backward, against the CPU backend within {@link #TOL} relative + {@link #TOL} absolute
 * ({@code |cl - cpu| <= TOL * (1 + |cpu|)}): float sums in a different order over at most a few
 * hundred terms. Gradients are compared with the CPU backend's only; the CPU backend's own are
 * checked against central differences in the plugins' tests. Where OpenCL is unusable the matrix
 * fails with the provider's explanation, or is skipped with {@code -Dneurite.opencl.skip=true}.
 */
class OpenClLayerParityTest extends LayerParityMatrix {
    static final double TOL = 1e-4;

    OpenClLayerParityTest() {
        super(OpenClRuns::opencl, new BackendParity.Tolerance(TOL, TOL), null);
    }
}
