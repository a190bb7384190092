package org.neurite.testkit;

import java.util.List;
import org.neurite.tensor.Shape;

/**
 * What one {@link GradientChecker} run compared: one entry per checked tensor (every input whose
 * gradient was requested, then every trainable parameter in declaration order). Returned only
 * when every entry passed; a failing run throws an {@link AssertionError} that prints the same
 * entries.
 */
public record GradientReport(String layerCase, List<TensorCheck> tensors) {
    public GradientReport {
        tensors = List.copyOf(tensors);
    }

    /** The entry for {@code name} ({@code "input 0"}, {@code "weight"}). */
    public TensorCheck tensor(String name) {
        for (TensorCheck t : tensors) if (t.name().equals(name)) return t;
        throw new IllegalArgumentException("no checked tensor named '" + name + "' in " + tensors.stream().map(TensorCheck::name).toList());
    }

    /**
     * The comparison for one tensor. {@code worst*} describe the element with the largest error
     * relative to its allowance, {@code failures} how many of the {@code checked} elements were
     * outside it.
     *
     * @param shape the tensor's shape as the kernel saw it (inputs include the batch dimension)
     */
    public record TensorCheck(String name, Shape shape, int checked, int failures, int worstIndex,
                              double worstAnalytic, double worstNumeric, double worstAllowed) {
        public boolean passed() { return failures == 0; }

        /** Index of flat element {@code flat} in {@code shape}: {@code [1, 0, 2]}. */
        public String worstPosition() {
            int[] dims = shape.dims();
            int[] at = new int[dims.length];
            int rest = worstIndex;
            for (int d = dims.length - 1; d >= 0; d--) {
                at[d] = dims[d] == 0 ? 0 : rest % dims[d];
                rest = dims[d] == 0 ? 0 : rest / dims[d];
            }
            return java.util.Arrays.toString(at);
        }

        /** One line: {@code input 0 [2, 3]: 6 checked, 0 fail; worst at [1, 2] analytic ... numeric ...}. */
        public String describe() {
            return String.format(java.util.Locale.ROOT,
                    "%s %s: %d checked, %d outside tolerance; worst at %s (flat %d): analytic %.6g, numeric %.6g, |diff| %.3g, allowed %.3g",
                    name, shape, checked, failures, worstPosition(), worstIndex, worstAnalytic, worstNumeric,
                    Math.abs(worstAnalytic - worstNumeric), worstAllowed);
        }
    }
}
