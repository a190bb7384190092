package org.neurite.onnx;

import java.util.ArrayList;
import java.util.List;
import org.neurite.graph.Node;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;

import static org.neurite.onnx.OnnxExporter.integer;
import static org.neurite.onnx.OnnxExporter.ints;
import static org.neurite.onnx.OnnxExporter.text;
import static org.neurite.onnx.OnnxExporter.texts;

/**
 * {@code rnn}, {@code lstm} and {@code gru} as ONNX's RNN, LSTM and GRU, one ONNX node per stacked
 * layer. Neurite (PyTorch) and ONNX differ in three ways, each bridged inside the graph:
 * <ul>
 *   <li>layout: Neurite's per-sample [T, I] is batch-first, ONNX's operators read [T, N, I]
 *       (ONNX Runtime refuses {@code layout=1}), so the sequence is transposed on the way in and out;</li>
 *   <li>gate order: PyTorch stacks LSTM gates i, f, g, o and GRU gates r, z, n; ONNX wants i, o, f, c
 *       and z, r, h. A {@code Gather} of rows reorders {@code weight_ih_l0} and the others, so the
 *       initializers stay PyTorch's tensors under PyTorch's names;</li>
 *   <li>GRU: PyTorch applies the reset gate after the hidden projection, ONNX's
 *       {@code linear_before_reset=1}.</li>
 * </ul>
 * Per layer, ONNX's W is [D, G·H, I], R [D, G·H, H] and B [D, 2·G·H] (input then hidden biases);
 * Y is [T, D, N, H] and Y_h [D, N, H] with the forward direction first, PyTorch's h_n order.
 */
final class RecurrentExport {
    private RecurrentExport() {}

    /** PyTorch's gate block for each of ONNX's gate positions. */
    private static int[] gateOrder(String op) {
        return switch (op) {
            case "LSTM" -> new int[] {0, 3, 1, 2}; // ONNX i, o, f, c  <-  PyTorch i, f, g, o
            case "GRU" -> new int[] {1, 0, 2};     // ONNX z, r, h     <-  PyTorch r, z, n
            default -> new int[] {0};
        };
    }

    static void lower(String op, Node n, LayerArgs a, Shape input, OnnxExporter.Writer w) {
        String name = n.name();
        int hidden = a.getInt("hidden");
        int layers = a.getInt("layers");
        boolean bidirectional = a.getBool("bidirectional");
        int directions = bidirectional ? 2 : 1;
        int[] order = gateOrder(op);
        long[] rows = new long[order.length * hidden];
        for (int g = 0; g < order.length; g++) {
            for (int j = 0; j < hidden; j++) rows[g * hidden + j] = (long) order[g] * hidden + j;
        }
        String rowOrder = w.int64s(name + "/gate_rows", rows);
        String axis0 = w.int64s(name + "/axis0", 0);

        String x = name + "/time_major";
        w.node("Transpose", x, List.of(n.inputs().get(0)), List.of(x), ints("perm", 1, 0, 2));
        boolean sequences = a.getBool("sequences");
        for (int layer = 0; layer < layers; layer++) {
            String at = name + "/l" + layer;
            List<String> wParts = new ArrayList<>();
            List<String> rParts = new ArrayList<>();
            List<String> bParts = new ArrayList<>();
            for (int d = 0; d < directions; d++) {
                String suffix = "_l" + layer + (d == 1 ? "_reverse" : "");
                wParts.add(reordered(w, name + ".weight_ih" + suffix, rowOrder, axis0));
                rParts.add(reordered(w, name + ".weight_hh" + suffix, rowOrder, axis0));
                if (a.getBool("bias")) {
                    String both = name + "/bias" + suffix;
                    w.node("Concat", both, List.of(gathered(w, name + ".bias_ih" + suffix, rowOrder),
                            gathered(w, name + ".bias_hh" + suffix, rowOrder)), List.of(both), integer("axis", 0));
                    String unsqueezed = both + "/d";
                    w.node("Unsqueeze", unsqueezed, List.of(both, axis0), List.of(unsqueezed));
                    bParts.add(unsqueezed);
                }
            }
            List<String> ins = new ArrayList<>(List.of(x, stack(w, at + "/W", wParts), stack(w, at + "/R", rParts)));
            if (!bParts.isEmpty()) ins.add(stack(w, at + "/B", bParts));
            boolean last = layer == layers - 1;
            String y = at + "/Y";
            String yh = at + "/Y_h";
            List<String> outs = last && !sequences ? List.of("", yh) : List.of(y);
            List<org.neurite.onnx.proto.Onnx.AttributeProto> attributes = new ArrayList<>(List.of(
                    integer("hidden_size", hidden), text("direction", bidirectional ? "bidirectional" : "forward")));
            if (op.equals("GRU")) attributes.add(integer("linear_before_reset", 1));
            if (op.equals("RNN")) {
                String act = a.getString("nonlinearity").equals("relu") ? "Relu" : "Tanh";
                attributes.add(directions == 2 ? texts("activations", act, act) : texts("activations", act));
            }
            w.node(op, at, ins, outs, attributes.toArray(org.neurite.onnx.proto.Onnx.AttributeProto[]::new));
            if (last && !sequences) {
                // Y_h [D, N, H] -> [N, D, H] -> [N, D·H]: the directions' final states side by side.
                String batchMajor = at + "/h_n";
                w.node("Transpose", batchMajor, List.of(yh), List.of(batchMajor), ints("perm", 1, 0, 2));
                w.node("Reshape", name, List.of(batchMajor, w.int64s(at + "/shape", 0, -1)), List.of(name));
                return;
            }
            // Y [T, D, N, H] -> [T, N, D, H] -> [T, N, D·H]: the next layer's input, or the output.
            String joined = at + "/joined";
            w.node("Transpose", joined, List.of(y), List.of(joined), ints("perm", 0, 2, 1, 3));
            String merged = at + "/merged";
            w.node("Reshape", merged, List.of(joined, w.int64s(at + "/shape", 0, 0, -1)), List.of(merged));
            x = merged;
        }
        w.node("Transpose", name, List.of(x), List.of(name), ints("perm", 1, 0, 2));
    }

    /** {@code param} with its gate blocks in ONNX's order, with a leading direction axis. */
    private static String reordered(OnnxExporter.Writer w, String param, String rowOrder, String axis0) {
        String rows = gathered(w, param, rowOrder);
        String out = param + "/onnx";
        w.node("Unsqueeze", out, List.of(rows, axis0), List.of(out));
        return out;
    }

    private static String gathered(OnnxExporter.Writer w, String param, String rowOrder) {
        String out = param + "/gates";
        w.node("Gather", out, List.of(param, rowOrder), List.of(out), integer("axis", 0));
        return out;
    }

    private static String stack(OnnxExporter.Writer w, String name, List<String> parts) {
        if (parts.size() == 1) return parts.get(0);
        w.node("Concat", name, parts, List.of(name), integer("axis", 0));
        return name;
    }
}
