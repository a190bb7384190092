package org.neurite.layer;

/**
 * Implemented by the kernels of recurrent layers that can report, after each backward pass, the
 * norm of dL/dh_t — the gradient reaching the hidden state at every time step t, through the
 * output and through all later steps. Plotted against t it shows whether gradients vanish on
 * their way back through time ({@code nn train --grad-norms}).
 */
public interface StepGradientProbe {
    /** Turns recording on or off; off by default, since recording copies gradients to the host. */
    void recordStepGradients(boolean on);

    /**
     * ‖dL/dh_t‖ (L2 over the batch and the hidden units, for the batch-mean loss) for t = 0..T-1,
     * from the last backward pass, for the top layer's forward direction; null before any.
     */
    double[] stepGradientNorms();
}
