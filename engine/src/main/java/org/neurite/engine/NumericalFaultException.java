package org.neurite.engine;

/**
 * A NaN or infinity appeared during a training step. The message names the step, the node and
 * layer that produced it and which tensor (its output in forward, or a parameter's gradient in
 * backward); the weights are left as they were before the step, so the last checkpoint is good.
 */
public class NumericalFaultException extends RuntimeException {
    /** The optimiser step that failed, 0 when not known. */
    private final int step;

    public NumericalFaultException(String message) { this(message, 0); }

    public NumericalFaultException(String message, int step) {
        super(message);
        this.step = step;
    }

    /** The optimiser step (counted from 1) whose loss or gradient was not finite; 0 when not known. */
    public int step() { return step; }
}
