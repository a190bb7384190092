package org.neurite.testkit;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.tensor.Shape;

/**
 * One layer configuration for {@link GradientChecker}: the layer type, its bound arguments, the
 * per-sample input shapes (without batch, as in the graph) and the batch size, plus how to pick
 * input values. Immutable; the {@code with...} methods return modified copies, so a test reads
 * as one expression:
 * <pre>{@code
 * GradientCase.of(relu, LayerArgs.empty(), 2, Shape.of(3, 4)).avoidingKinksAt(0)
 * }</pre>
 *
 * <p>Input values are uniform in [-1, 1) by default. Layers with kinks (ReLU at 0, max pooling at
 * ties) need inputs away from them, or the central difference straddles the kink and disagrees
 * with the one-sided analytic gradient: {@link #avoidingKinksAt} redraws values that fall within
 * twice the checker's step of a kink, {@link #withDistinctInputs} makes every input element
 * distinct by at least four steps so no window of a max pool has a near tie.
 */
public final class GradientCase {
    private final LayerType type;
    private final LayerArgs args;
    private final int batch;
    private final List<Shape> inputShapes;
    private final Set<Integer> skippedInputs;
    private final double[] kinks;
    private final boolean distinctInputs;
    private final boolean training;

    private GradientCase(LayerType type, LayerArgs args, int batch, List<Shape> inputShapes, Set<Integer> skippedInputs,
                         double[] kinks, boolean distinctInputs, boolean training) {
        this.type = type;
        this.args = args;
        this.batch = batch;
        this.inputShapes = List.copyOf(inputShapes);
        this.skippedInputs = Set.copyOf(skippedInputs);
        this.kinks = kinks.clone();
        this.distinctInputs = distinctInputs;
        this.training = training;
    }

    /** A case in training mode with random inputs and every input gradient checked. */
    public static GradientCase of(LayerType type, LayerArgs args, int batch, Shape... inputShapes) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (inputShapes.length == 0) throw new IllegalArgumentException("a gradient case needs at least one input shape");
        return new GradientCase(type, args, batch, Arrays.asList(inputShapes), Set.of(), new double[0], false, true);
    }

    /**
     * Does not ask for (or check) the gradient of input {@code index}: the layer sees
     * {@code gradInput(index) == null}, as it does in an engine where nothing upstream trains.
     */
    public GradientCase withoutInputGradient(int index) {
        if (index < 0 || index >= inputShapes.size())
            throw new IllegalArgumentException("input " + index + " does not exist; the case has " + inputShapes.size());
        Set<Integer> skipped = new TreeSet<>(skippedInputs);
        skipped.add(index);
        return new GradientCase(type, args, batch, inputShapes, skipped, kinks, distinctInputs, training);
    }

    /** Redraws input values closer than twice the step to any of {@code points}. */
    public GradientCase avoidingKinksAt(double... points) {
        return new GradientCase(type, args, batch, inputShapes, skippedInputs, points, distinctInputs, training);
    }

    /** Fills each input with a shuffled ladder of values at least four steps apart (no near ties). */
    public GradientCase withDistinctInputs() {
        return new GradientCase(type, args, batch, inputShapes, skippedInputs, kinks, true, training);
    }

    /** Runs the passes with {@code ForwardPass.training() == training} (default true). */
    public GradientCase training(boolean training) {
        return new GradientCase(type, args, batch, inputShapes, skippedInputs, kinks, distinctInputs, training);
    }

    public LayerType type() { return type; }

    public LayerArgs args() { return args; }

    public int batch() { return batch; }

    /** Per-sample input shapes, without the batch dimension. */
    public List<Shape> inputShapes() { return inputShapes; }

    public boolean checksInput(int index) { return !skippedInputs.contains(index); }

    double[] kinks() { return kinks.clone(); }

    boolean distinctInputs() { return distinctInputs; }

    public boolean training() { return training; }

    /** {@code maxpool(kernel=3, stride=2) on [2, 5, 5] x batch 2}, for failure messages. */
    @Override public String toString() {
        List<String> shapes = new ArrayList<>();
        for (Shape s : inputShapes) shapes.add(s.toString());
        return type.name() + "(" + args + ") on " + String.join(", ", shapes) + " x batch " + batch
                + (training ? "" : " (inference)");
    }
}
