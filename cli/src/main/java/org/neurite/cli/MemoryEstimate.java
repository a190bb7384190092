package org.neurite.cli;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.neurite.graph.GraphInput;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;

/**
 * Memory a model needs at a batch size, from the typed graph alone (shapes x 4 bytes, float32),
 * counted the way the engine allocates: every parameter; for training a gradient per trainable
 * parameter and the optimiser's slots (SGD keeps a velocity, Adam two moments); an activation per
 * graph input and node output; for training a gradient per value downstream of a trainable
 * parameter, plus one buffer per reading edge for a value several nodes read (they are summed
 * before its producer runs backward). Not counted: layer workspaces (pooling indices, dropout
 * masks, recurrent states kept for backward, im2col buffers), the loss's targets, backend
 * overheads and the JVM.
 *
 * @param batch samples per batch
 * @param parameters bytes of parameter values
 * @param gradients bytes of parameter gradients (training)
 * @param optimizerSlots bytes of optimiser state (training)
 * @param activations bytes of activations at {@code batch}
 * @param activationGradients bytes of activation gradients at {@code batch} (training)
 * @param optimizer the optimiser the slots are counted for
 * @param slotsPerParameter how many tensors it keeps per trainable parameter
 */
record MemoryEstimate(int batch, long parameters, long gradients, long optimizerSlots, long activations, long activationGradients,
                      String optimizer, int slotsPerParameter) {
    static final String NOT_COUNTED = "Not counted: layer workspaces (pooling indices, dropout masks, recurrent states\n"
            + "  kept for backward), the loss's targets, backend and JVM overheads.";

    /** Optimiser state tensors per trainable parameter, by optimiser name. */
    static int slots(String optimizer) {
        return switch (optimizer) {
            case "sgd" -> 1;     // momentum buffer (allocated even at momentum 0)
            case "adam" -> 2;    // first and second moments
            default -> 0;
        };
    }

    static MemoryEstimate of(TypedGraph g, int batch, String optimizer) {
        long params = 0;
        long trainable = 0;
        for (ParamInfo p : g.params()) {
            long n = p.decl().shape().elementCount();
            params += n;
            if (p.decl().trainable()) trainable += n;
        }
        int slots = slots(optimizer);

        long activations = 0;
        for (GraphInput in : g.graph().inputs()) activations += g.shape(in.name()).elementCount();
        for (Node n : g.graph().nodes()) activations += g.shape(n.name()).elementCount();

        // Which values need a gradient: those downstream of a trainable parameter (as the engine decides).
        Set<String> needsGradient = new HashSet<>();
        for (Node n : g.graph().nodes()) {
            boolean own = g.params(n.name()).stream().anyMatch(p -> p.decl().trainable());
            if (own || n.inputs().stream().anyMatch(needsGradient::contains)) needsGradient.add(n.name());
        }
        Set<String> withGradient = new HashSet<>(needsGradient);
        withGradient.addAll(g.graph().outputs());    // the loss writes dL/d(output) even for a frozen model
        Map<String, Integer> readers = new HashMap<>();
        for (Node n : g.graph().nodes()) for (String in : n.inputs()) readers.merge(in, 1, Integer::sum);
        long gradientElements = 0;
        for (String v : withGradient) gradientElements += g.shape(v).elementCount();
        for (Node n : g.graph().nodes()) {
            for (String in : n.inputs()) {
                if (needsGradient.contains(in) && readers.get(in) > 1) gradientElements += g.shape(in).elementCount();
            }
        }
        return new MemoryEstimate(batch, 4 * params, 4 * trainable, 4 * trainable * slots, 4L * batch * activations,
                4L * batch * gradientElements, optimizer, slots);
    }

    long training() { return parameters + gradients + optimizerSlots + activations + activationGradients; }

    long inference() { return parameters + activations; }

    /** The table {@code nn summary} prints. */
    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Memory at batch %d (float32, from the shapes):%n", batch));
        sb.append(String.format(Locale.ROOT, "  %-34s %12s %12s%n", "", "training", "inference"));
        row(sb, "parameters", parameters, parameters);
        row(sb, "parameter gradients", gradients, -1);
        row(sb, optimizer + " state (" + slotsPerParameter + " per parameter)", optimizerSlots, -1);
        row(sb, "activations", activations, activations);
        row(sb, "activation gradients", activationGradients, -1);
        row(sb, "total", training(), inference());
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
