package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import org.neurite.engine.MemoryPlan;
import org.neurite.engine.MemoryPlanner;
import org.neurite.engine.Trainers;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn summary} (and a run's {@code summary.txt}) says about memory: the engine's
 * {@link MemoryPlan} for training with the script's optimiser and for inference, at one batch
 * size, side by side. Counted the way the engine allocates (see {@link MemoryPlan} for what is
 * and is not counted).
 *
 * @param training the plan of a training step at {@code batch}
 * @param inference the plan of evaluation or prediction at {@code batch}
 */
record MemoryEstimate(MemoryPlan training, MemoryPlan inference) {
    static final String NOT_COUNTED = "Not counted: the backend's scratch (GEMM panels, im2col columns), the loss targets,\n"
            + "  the dataset and the JVM; nor, where the CPU backend runs a training step as two shards of\n"
            + "  the batch, the second shard's parameter gradients (nn train counts them).";

    /** Training as {@code spec} says (its optimiser) and inference, at {@code batch}. */
    static MemoryEstimate of(TypedGraph g, int batch, TrainSpec spec) {
        return of(g, batch, spec, Trainers.core());
    }

    /** As {@link #of(TypedGraph, int, TrainSpec)}, with the loss and optimizer found by {@code trainers} (a plugin's). */
    static MemoryEstimate of(TypedGraph g, int batch, TrainSpec spec, Trainers trainers) {
        return new MemoryEstimate(MemoryPlanner.training(g, spec, trainers).plan(batch), MemoryPlanner.inference(g).plan(batch));
    }

    int batch() { return training.batch(); }

    /**
     * What {@code nn summary --json} prints: {@code batch}, {@code optimizer},
     * {@code optimizer_slots_per_parameter}, and in bytes {@code training} and {@code inference},
     * each with parameters, gradients (of the parameters), optimizer_state (training),
     * activations, activation_gradients, layer_state and total.
     */
    ObjectNode json() {
        ObjectNode doc = JsonOutput.object();
        doc.put("batch", batch());
        doc.put("optimizer", training.optimizer());
        doc.put("optimizer_slots_per_parameter", training.optimizerSlots());
        ObjectNode t = doc.putObject("training");
        t.put("parameters", training.parameters()).put("gradients", training.parameterGradients())
                .put("optimizer_state", training.optimizerState()).put("activations", training.activations())
                .put("activation_gradients", training.activationGradients()).put("layer_state", training.layerState())
                .put("total", training.total());
        doc.putObject("inference").put("parameters", inference.parameters()).put("gradients", inference.parameterGradients())
                .put("activations", inference.activations()).put("activation_gradients", inference.activationGradients())
                .put("layer_state", inference.layerState()).put("total", inference.total());
        return doc;
    }

    /** The table {@code nn summary} prints. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Memory at batch %d (float32, counted as the engine allocates):%n", batch()));
        sb.append(String.format(Locale.ROOT, "  %-34s %12s %12s%n", "", "training", "inference"));
        row(sb, "parameters", training.parameters(), inference.parameters());
        row(sb, "parameter gradients", training.parameterGradients(), inference.parameterGradients());
        row(sb, training.optimizer() + " state (" + training.optimizerSlots() + " per parameter)", training.optimizerState(), -1);
        row(sb, "activations", training.activations(), inference.activations());
        row(sb, "activation gradients", training.activationGradients(), inference.activationGradients());
        row(sb, "layer state", training.layerState(), inference.layerState());
        row(sb, "total", training.total(), inference.total());
        sb.append("  ").append(NOT_COUNTED).append('\n');
        return sb.toString();
    }

    private static void row(StringBuilder sb, String what, long training, long inference) {
        sb.append(String.format(Locale.ROOT, "  %-34s %12s %12s%n", what, bytes(training), inference < 0 ? "-" : bytes(inference)));
    }

    /** Binary units with three significant digits: 241 KiB, 1.52 MiB. */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String number = v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
        return number + " " + units[u];
    }
}
