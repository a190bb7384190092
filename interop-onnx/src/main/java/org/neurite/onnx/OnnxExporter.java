package org.neurite.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.graph.GraphInput;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.layer.LayerArgs;
import org.neurite.onnx.proto.Onnx.AttributeProto;
import org.neurite.onnx.proto.Onnx.GraphProto;
import org.neurite.onnx.proto.Onnx.ModelProto;
import org.neurite.onnx.proto.Onnx.NodeProto;
import org.neurite.onnx.proto.Onnx.OperatorSetIdProto;
import org.neurite.onnx.proto.Onnx.StringStringEntryProto;
import org.neurite.onnx.proto.Onnx.TensorProto;
import org.neurite.onnx.proto.Onnx.TensorShapeProto;
import org.neurite.onnx.proto.Onnx.TypeProto;
import org.neurite.onnx.proto.Onnx.ValueInfoProto;
import org.neurite.tensor.Shape;

/**
 * Writes a shape-checked Neurite graph and its weights as an ONNX model for inference. Every
 * value gets a leading dynamic batch dimension ({@code batch}); each node's result keeps the
 * node's name and each parameter is an initializer under its Neurite name ({@code c1.weight}), in
 * the model's layout. Where ONNX wants another layout (the gate order of LSTM and GRU, dense on
 * sequences) the graph reorders the initializer itself, so the file holds Neurite's tensors
 * unchanged. Lowering is the table {@link #RULES}: one rule per layer name; a layer without one
 * (a plugin's layer, or an option ONNX cannot express) fails the whole export with its position.
 */
public final class OnnxExporter {
    /** The opset written unless asked otherwise: ONNX 1.12's, run by every ONNX Runtime since 1.12. */
    public static final int DEFAULT_OPSET = 17;
    /** The oldest opset the rules are written for (Unsqueeze, Split and Slice with tensor inputs, Softmax on one axis). */
    public static final int MIN_OPSET = 13;
    /** The newest opset these rules were checked against. */
    public static final int MAX_OPSET = 21;
    /** The name of the dynamic batch dimension of every input and output. */
    public static final String BATCH = "batch";

    /** How one layer becomes ONNX nodes: reads its inputs by value name, writes the value {@code node.name()}. */
    @FunctionalInterface
    interface Rule {
        void lower(Node node, LayerArgs args, List<Shape> inputs, Shape output, Writer w);
    }

    private static final Map<String, Rule> RULES = new LinkedHashMap<>();

    static {
        RULES.put("conv", (n, a, in, out, w) -> {
            int[] k = a.getPair("kernel");
            int[] s = a.getPair("stride");
            int[] p = a.getPair("pad");
            int[] d = a.getPair("dilation");
            List<String> ins = new ArrayList<>(List.of(n.inputs().get(0), n.name() + ".weight"));
            if (a.getBool("bias")) ins.add(n.name() + ".bias");
            w.node("Conv", n.name(), ins, List.of(n.name()), ints("kernel_shape", k[0], k[1]), ints("strides", s[0], s[1]),
                    ints("pads", p[0], p[1], p[0], p[1]), ints("dilations", d[0], d[1]), integer("group", a.getInt("groups")));
        });
        RULES.put("maxpool", (n, a, in, out, w) -> pool("MaxPool", n, a, w));
        // Without padding PyTorch's divisor is the window's part inside the input either way; ONNX
        // Runtime, told to count padding, would also count the overhang of a ceil-mode window.
        RULES.put("avgpool", (n, a, in, out, w) -> pool("AveragePool", n, a, w, integer("count_include_pad",
                a.getBool("count_include_pad") && (a.getPair("pad")[0] > 0 || a.getPair("pad")[1] > 0) ? 1 : 0)));
        RULES.put("globalavgpool", (n, a, in, out, w) -> {
            // GlobalAveragePool keeps [N, C, 1, 1]; Neurite's result is [N, C].
            String pooled = n.name() + "/pooled";
            w.node("GlobalAveragePool", pooled, List.of(n.inputs().get(0)), List.of(pooled));
            w.node("Flatten", n.name(), List.of(pooled), List.of(n.name()), integer("axis", 1));
        });
        RULES.put("lrn", (n, a, in, out, w) -> w.node("LRN", n.name(), List.of(n.inputs().get(0)), List.of(n.name()),
                integer("size", a.getInt("size")), real("alpha", a.getFloat("alpha")), real("beta", a.getFloat("beta")),
                real("bias", a.getFloat("k"))));
        RULES.put("batchnorm", (n, a, in, out, w) -> {
            String scale = n.name() + ".weight";
            String shift = n.name() + ".bias";
            if (!a.getBool("affine")) {
                int c = in.get(0).dim(0);
                float[] ones = new float[c];
                Arrays.fill(ones, 1f);
                scale = w.constant(n.name() + "/scale", Shape.of(c), ones);
                shift = w.constant(n.name() + "/shift", Shape.of(c), new float[c]);
            }
            w.node("BatchNormalization", n.name(),
                    List.of(n.inputs().get(0), scale, shift, n.name() + ".running_mean", n.name() + ".running_var"),
                    List.of(n.name()), real("epsilon", a.getFloat("eps")), real("momentum", 1f - a.getFloat("momentum")));
        });
        RULES.put("relu", (n, a, in, out, w) -> unary("Relu", n, w));
        RULES.put("tanh", (n, a, in, out, w) -> unary("Tanh", n, w));
        RULES.put("sigmoid", (n, a, in, out, w) -> unary("Sigmoid", n, w));
        RULES.put("softmax", (n, a, in, out, w) -> w.node("Softmax", n.name(), n.inputs(), List.of(n.name()), integer("axis", -1)));
        RULES.put("dropout", (n, a, in, out, w) -> unary("Identity", n, w));
        RULES.put("flatten", (n, a, in, out, w) -> w.node("Flatten", n.name(), n.inputs(), List.of(n.name()), integer("axis", 1)));
        RULES.put("dense", (n, a, in, out, w) -> {
            String weight = n.name() + ".weight";
            if (in.get(0).rank() == 1) {
                List<String> ins = new ArrayList<>(List.of(n.inputs().get(0), weight));
                if (a.getBool("bias")) ins.add(n.name() + ".bias");
                w.node("Gemm", n.name(), ins, List.of(n.name()), integer("transB", 1));
                return;
            }
            // Per-sample [T, in] (dense on a sequence): x · Wᵀ over the last axis, then the bias.
            String transposed = n.name() + "/weight_t";
            w.node("Transpose", transposed, List.of(weight), List.of(transposed), ints("perm", 1, 0));
            String product = a.getBool("bias") ? n.name() + "/matmul" : n.name();
            w.node("MatMul", product, List.of(n.inputs().get(0), transposed), List.of(product));
            if (a.getBool("bias")) w.node("Add", n.name(), List.of(product, n.name() + ".bias"), List.of(n.name()));
        });
        RULES.put("concat", (n, a, in, out, w) -> w.node("Concat", n.name(), n.inputs(), List.of(n.name()),
                integer("axis", batchAxis(a.getInt("axis")))));
        RULES.put("add", (n, a, in, out, w) -> w.node(n.inputs().size() == 2 ? "Add" : "Sum", n.name(), n.inputs(), List.of(n.name())));
        RULES.put("split", (n, a, in, out, w) -> {
            int axis = a.getInt("axis");
            Shape x = in.get(0);
            int length = x.dim(axis < 0 ? axis + x.rank() : axis) / a.getInt("parts");
            int start = a.getInt("index") * length;
            w.node("Slice", n.name(), List.of(n.inputs().get(0), w.int64s(n.name() + "/starts", start),
                    w.int64s(n.name() + "/ends", start + length), w.int64s(n.name() + "/axes", batchAxis(axis))), List.of(n.name()));
        });
        RULES.put("zeropad", (n, a, in, out, w) -> {
            int[] p = a.getInts("pad");
            int[] s = switch (p.length) {
                case 1 -> new int[] {p[0], p[0], p[0], p[0]};
                case 2 -> new int[] {p[0], p[0], p[1], p[1]};
                default -> p;
            };
            // ONNX pads: all begins (N, C, H, W), then all ends.
            w.node("Pad", n.name(), List.of(n.inputs().get(0), w.int64s(n.name() + "/pads", 0, 0, s[0], s[2], 0, 0, s[1], s[3])),
                    List.of(n.name()));
        });
        RULES.put("embedding", (n, a, in, out, w) -> {
            // Token indices arrive as floats, as everywhere in Neurite.
            String indices = n.name() + "/indices";
            w.node("Cast", indices, n.inputs(), List.of(indices), integer("to", TensorProto.DataType.INT64_VALUE));
            w.node("Gather", n.name(), List.of(n.name() + ".weight", indices), List.of(n.name()), integer("axis", 0));
        });
        RULES.put("rnn", (n, a, in, out, w) -> RecurrentExport.lower("RNN", n, a, in.get(0), w));
        RULES.put("lstm", (n, a, in, out, w) -> RecurrentExport.lower("LSTM", n, a, in.get(0), w));
        RULES.put("gru", (n, a, in, out, w) -> RecurrentExport.lower("GRU", n, a, in.get(0), w));
    }

    private OnnxExporter() {}

    /** The layers that can be exported, by name. */
    public static List<String> exportableLayers() {
        return List.copyOf(RULES.keySet());
    }

    /**
     * The ONNX model of {@code graph} with {@code weights} (every parameter of the graph, by its
     * Neurite name). Throws {@link OnnxConversionException} naming every layer that cannot be
     * exported, with its position in the script.
     */
    public static ModelProto export(TypedGraph graph, List<NamedTensor> weights, int opset) {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new OnnxConversionException("--opset must be from " + MIN_OPSET + " to " + MAX_OPSET + ", got " + opset);
        }
        List<String> refused = new ArrayList<>();
        int position = 0;
        for (Node node : graph.graph().nodes()) {
            position++;
            String why = refusal(node, graph);
            if (why != null) {
                refused.add(node.span() + ": layer " + position + " '" + node.name() + "' (" + node.layer() + ") cannot be exported: " + why);
            }
        }
        if (!refused.isEmpty()) throw new OnnxConversionException(String.join("\n", refused));

        Map<String, NamedTensor> byName = new LinkedHashMap<>();
        for (NamedTensor t : weights) byName.put(t.name(), t);
        Writer w = new Writer();
        for (ParamInfo p : graph.params()) {
            NamedTensor t = byName.get(p.fullName());
            if (t == null) throw new OnnxConversionException("no weights for '" + p.fullName() + "' " + p.decl().shape());
            if (!t.shape().equals(p.decl().shape())) {
                throw new OnnxConversionException("'" + p.fullName() + "' has shape " + t.shape() + ", the model needs " + p.decl().shape());
            }
            w.graph.addInitializer(OnnxTensors.floats(p.fullName(), t.shape(), t.data()));
        }
        for (GraphInput input : graph.graph().inputs()) w.graph.addInput(valueInfo(input.name(), input.shape()));
        for (Node node : graph.graph().nodes()) {
            List<Shape> inputs = node.inputs().stream().map(graph::shape).toList();
            RULES.get(node.layer()).lower(node, node.args(), inputs, graph.shape(node.name()), w);
        }
        for (String output : graph.graph().outputs()) w.graph.addOutput(valueInfo(output, graph.shape(output)));
        w.graph.setName(graph.graph().name());
        return ModelProto.newBuilder()
                .setIrVersion(irVersion(opset))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setProducerName("neurite").setProducerVersion("0.1.0")
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey("neurite.model").setValue(graph.graph().name()))
                .setGraph(w.graph)
                .build();
    }

    /** Why {@code node} cannot be exported, or null when it can. */
    private static String refusal(Node node, TypedGraph graph) {
        if (!RULES.containsKey(node.layer())) {
            return "ONNX has no counterpart in Neurite's table (exportable layers: " + String.join(", ", RULES.keySet()) + ")";
        }
        LayerArgs a = node.args();
        if (a.has("mask_zero") && a.getBool("mask_zero")) {
            return "mask_zero=true (lengths read from the data) is not exported; ONNX's sequence_lens would need them as an input";
        }
        if (node.layer().equals("avgpool") && a.getBool("ceil") && a.getBool("count_include_pad") && overhangs(node, graph)) {
            return "avgpool with ceil=true, pad > 0 and count_include_pad=true divides its last window by the part inside "
                    + "the padded input, ONNX Runtime by the whole window; use count_include_pad=false or ceil=false";
        }
        return null;
    }

    /** Whether the last window of a ceil-mode pooling node, with padding, reaches past the padded input. */
    private static boolean overhangs(Node node, TypedGraph graph) {
        LayerArgs a = node.args();
        int[] k = a.getPair("kernel");
        int[] s = a.has("stride") ? a.getPair("stride") : k;
        int[] p = a.getPair("pad");
        Shape in = graph.shape(node.inputs().get(0));
        Shape out = graph.shape(node.name());
        for (int axis = 0; axis < 2; axis++) {
            if (p[axis] > 0 && (out.dim(axis + 1) - 1) * s[axis] + k[axis] > in.dim(axis + 1) + 2 * p[axis]) return true;
        }
        return false;
    }

    /** The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE). */
    static int irVersion(int opset) {
        if (opset <= 14) return 7;
        if (opset <= 18) return 8;
        if (opset <= 20) return 9;
        return 10;
    }

    /** A per-sample axis counted with the batch (negative axes count from the end either way). */
    private static int batchAxis(int axis) {
        return axis < 0 ? axis : axis + 1;
    }

    private static void unary(String op, Node n, Writer w) {
        w.node(op, n.name(), n.inputs(), List.of(n.name()));
    }

    private static void pool(String op, Node n, LayerArgs a, Writer w, AttributeProto... extra) {
        int[] k = a.getPair("kernel");
        int[] s = a.has("stride") ? a.getPair("stride") : k;
        int[] p = a.getPair("pad");
        List<AttributeProto> attributes = new ArrayList<>(List.of(ints("kernel_shape", k[0], k[1]), ints("strides", s[0], s[1]),
                ints("pads", p[0], p[1], p[0], p[1]), integer("ceil_mode", a.getBool("ceil") ? 1 : 0)));
        attributes.addAll(List.of(extra));
        w.node(op, n.name(), List.of(n.inputs().get(0)), List.of(n.name()), attributes.toArray(AttributeProto[]::new));
    }

    static ValueInfoProto valueInfo(String name, Shape perSample) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH));
        for (int d : perSample.dims()) shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) a.addInts(v);
        return a.build();
    }

    static AttributeProto text(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(value)).build();
    }

    static AttributeProto texts(String name, String... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
        for (String v : values) a.addStrings(com.google.protobuf.ByteString.copyFromUtf8(v));
        return a.build();
    }

    /** The graph being written: nodes in order, and constants added as initializers. */
    static final class Writer {
        final GraphProto.Builder graph = GraphProto.newBuilder();

        void node(String op, String name, List<String> inputs, List<String> outputs, AttributeProto... attributes) {
            graph.addNode(NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addAllOutput(outputs)
                    .addAllAttribute(List.of(attributes)));
        }

        /** A one-dimensional INT64 constant (shapes, axes, pads, indices); returns its name. */
        String int64s(String name, long... values) {
            graph.addInitializer(OnnxTensors.int64s(name, values));
            return name;
        }

        String constant(String name, Shape shape, float[] values) {
            graph.addInitializer(OnnxTensors.floats(name, shape, values));
            return name;
        }
    }
}
