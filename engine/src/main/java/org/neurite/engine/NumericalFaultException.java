package org.neurite.engine;

/**
 * A NaN or infinity appeared during a training step. The message names the step, the node and
 * layer that produced it and which tensor (its output in forward, or a parameter's gradient in
 * backward); the weights are left as they were before the step, so the last checkpoint is good.
 */
public class NumericalFaultException extends RuntimeException {
    public NumericalFaultException(String message) { super(message); }
}
