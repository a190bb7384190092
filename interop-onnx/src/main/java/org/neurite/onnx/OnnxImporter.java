package org.neurite.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.neurite.io.NamedTensor;
import org.neurite.onnx.proto.Onnx.AttributeProto;
import org.neurite.onnx.proto.Onnx.GraphProto;
import org.neurite.onnx.proto.Onnx.ModelProto;
import org.neurite.onnx.proto.Onnx.NodeProto;
import org.neurite.onnx.proto.Onnx.TensorProto;
import org.neurite.onnx.proto.Onnx.TensorShapeProto;
import org.neurite.onnx.proto.Onnx.ValueInfoProto;
import org.neurite.tensor.Shape;

/**
 * Reads an ONNX model into Neurite layers ({@link Unit}s), then has {@link ScriptWriter} write
 * them as a script. Each supported operator, or short pattern of operators, becomes one layer
 * (Conv → conv, Gemm → dense, GlobalAveragePool + Flatten → globalavgpool, MatMul + Add → dense,
 * Reshape to [N, -1] → flatten, ...); Identity and Dropout pass their input through; Constant
 * nodes become constants. An operator with no counterpart fails the import, listing every such
 * operator type and the nodes that use it. See docs/onnx.md for the full table.
 */
public final class OnnxImporter {
    /** The script, its model's name, and the weights in the order the script declares them. */
    public static final class Imported {
        private final String script;
        private final String modelName;
        private final List<Unit> units;
        private final Map<String, Flattening> flattenings;

        Imported(String script, String modelName, List<Unit> units, Map<String, Flattening> flattenings) {
            this.script = script;
            this.modelName = modelName;
            this.units = units;
            this.flattenings = Map.copyOf(flattenings);
        }

        /** The script's text (one statement a line; {@code nn import} passes it through {@code nn fmt}'s formatter). */
        public String script() { return script; }

        public String modelName() { return modelName; }

        /**
         * The weights under the names the loaded script gives them: the script's parameters, in
         * graph order, are matched with the imported layers in the same order. First checks what
         * only the loaded script's shapes tell: that each Reshape imported as a flatten to a given
         * width keeps the batch.
         *
         * @throws OnnxConversionException if such a Reshape does not flatten each sample
         */
        public List<NamedTensor> weights(org.neurite.graph.TypedGraph loaded) {
            checkFlattenings(loaded);
            List<Unit> layers = new ArrayList<>();
            for (Unit u : units) for (Unit l : u.layers()) if (!l.params.isEmpty()) layers.add(l);
            List<org.neurite.graph.ParamInfo> params = loaded.params();
            List<NamedTensor> out = new ArrayList<>();
            int at = 0;
            for (Unit l : layers) {
                for (NamedTensor t : l.params) {
                    if (at >= params.size()) throw new IllegalStateException("the written script has fewer parameters than the ONNX model");
                    org.neurite.graph.ParamInfo p = params.get(at++);
                    if (!p.decl().shape().equals(t.shape())) {
                        throw new IllegalStateException("parameter " + p.fullName() + " is " + p.decl().shape() + " in the script but "
                                + t.shape() + " in the ONNX model (" + l.path + ")");
                    }
                    out.add(new NamedTensor(p.fullName(), t.shape(), t.data()));
                }
            }
            if (at != params.size()) throw new IllegalStateException("the written script has more parameters than the ONNX model");
            return out;
        }

        /**
         * A Reshape to [-1, width] keeps the batch only when width is each sample's size: else
         * ([-1, 24] of [4, 6, 6]) it makes more rows than the batch has, which no layer does. The
         * script's flatten layers and the loaded graph's flatten nodes come in the same order.
         */
        private void checkFlattenings(org.neurite.graph.TypedGraph loaded) {
            if (flattenings.isEmpty()) return;
            List<Unit> flattens = new ArrayList<>();
            for (Unit u : units) for (Unit l : u.layers()) if (l.layer.equals("flatten")) flattens.add(l);
            List<org.neurite.graph.Node> nodes = loaded.graph().nodes().stream().filter(n -> n.layer().equals("flatten")).toList();
            if (nodes.size() != flattens.size()) throw new IllegalStateException("the written script has " + nodes.size()
                    + " flatten layers, the import made " + flattens.size());
            Map<String, List<String>> refused = new TreeMap<>();
            for (int i = 0; i < nodes.size(); i++) {
                Flattening f = flattenings.get(flattens.get(i).output);
                if (f == null) continue;
                org.neurite.graph.Node node = nodes.get(i);
                Shape sample = loaded.shape(node.inputs().get(0));
                if (sample.size() != f.width()) {
                    String target = "[" + (f.target()[0] == BATCH ? "batch" : Long.toString(f.target()[0])) + ", " + f.width() + "]";
                    refused.computeIfAbsent("Reshape to " + target + " of a " + sample + " sample (" + sample.size()
                            + " values): not a flatten", k -> new ArrayList<>()).add(f.node());
                }
            }
            if (!refused.isEmpty()) throw new OnnxConversionException(lacking(refused));
        }
    }

    /** The refusal message: each missing operator, or pattern, with the nodes that use it (five at most). */
    static String lacking(Map<String, List<String>> unsupported) {
        StringBuilder sb = new StringBuilder("the model uses ONNX operators Neurite lacks:");
        unsupported.forEach((op, users) -> sb.append("\n  ").append(op).append(" (").append(users.size()).append(users.size() == 1 ? " node: " : " nodes: ")
                .append(String.join(", ", users.subList(0, Math.min(5, users.size())))).append(users.size() > 5 ? ", ..." : "").append(')'));
        return sb.toString();
    }

    private final GraphProto graph;
    private final Map<String, TensorProto> constants = new HashMap<>();
    /** Values that are another value under a second name (Identity, Dropout). */
    private final Map<String, String> aliases = new HashMap<>();
    /** Rank of each value, batch included. */
    private final Map<String, Integer> ranks = new HashMap<>();
    private final Map<String, Integer> readers = new HashMap<>();
    private final List<Unit> units = new ArrayList<>();
    private final Map<String, List<String>> unsupported = new TreeMap<>();
    private final Set<String> usedPaths = new HashSet<>();
    /** Values computed from the input's shape only (PyTorch's batch-sized zero states), and the zeros made from them. */
    private final Set<String> shapeValues = new HashSet<>();
    private final Set<String> zeros = new HashSet<>();
    /**
     * What the shape values hold where the importer can follow it (Shape, Gather, Unsqueeze,
     * Concat...): each element a number, {@link #BATCH} or {@link #UNKNOWN}. PyTorch computes
     * {@code x.view(x.size(0), -1)}'s target this way: [BATCH, -1].
     */
    private final Map<String, long[]> shapeVectors = new HashMap<>();
    /** Elements of a shape vector: the batch size (dimension 0 of a batch-first value), and any other size read from a shape. */
    private static final long BATCH = Long.MIN_VALUE;
    private static final long UNKNOWN = Long.MIN_VALUE + 1;
    /** Reshapes imported as flatten to a constant width, checked once the script's shapes are known (by ONNX output value). */
    private final Map<String, Flattening> flattenings = new HashMap<>();
    /** Operators whose result holds only elements of their data input: applied to zeros, they give zeros. */
    private static final Set<String> ZERO_PRESERVING_OPS = Set.of("Slice", "Gather", "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Expand", "Concat");
    /** Recurrent layers being read: the time-major view of a sequence, and the ONNX outputs of each layer. */
    private final Map<String, String> timeMajor = new HashMap<>();
    private final Map<String, Recurrence> layerOutputs = new HashMap<>();
    private final Map<String, Recurrence> layerSequences = new HashMap<>();
    private final Map<String, Recurrence> finalStates = new HashMap<>();
    /** Final states moved batch-first ([N, D, H], Neurite's own export), and token indices cast to integers. */
    private final Map<String, Recurrence> batchStates = new HashMap<>();
    private final Map<String, String> indices = new HashMap<>();
    private Set<String> live = Set.of();

    /**
     * A Reshape to [batch or -1, width] imported as {@code flatten}: flatten keeps the batch, which
     * the Reshape does only when width is each sample's size, and the importer knows no per-sample
     * sizes; the loaded script does.
     */
    record Flattening(String node, long[] target, long width) {}

    /** A stack of ONNX RNN/LSTM/GRU nodes that becomes one Neurite layer. */
    private static final class Recurrence {
        String op;
        String input;
        String path;
        int hidden;
        boolean bidirectional;
        boolean bias = true;
        String activation = "Tanh";
        int layers;
        final List<NamedTensor> params = new ArrayList<>();
        String lastY;
        final List<String> lastStates = new ArrayList<>();
    }

    private OnnxImporter(GraphProto graph) {
        this.graph = graph;
    }

    /** Reads {@code model} and writes it as a script whose model is called {@code modelName}. */
    public static Imported read(ModelProto model, String modelName) {
        if (!model.hasGraph()) throw new OnnxConversionException("the file holds no graph (is it an ONNX model?)");
        OnnxImporter importer = new OnnxImporter(model.getGraph());
        importer.convert();
        List<ValueInfoProto> inputs = importer.graphInputs();
        ValueInfoProto input = inputs.get(0);
        Set<String> outputs = new java.util.LinkedHashSet<>();
        for (ValueInfoProto out : model.getGraph().getOutputList()) outputs.add(importer.resolve(out.getName()));
        ScriptWriter.Result written = ScriptWriter.write(modelName, sanitize(input.getName()), importer.sampleShape(input),
                input.getName(), importer.units, outputs);
        return new Imported(written.script(), modelName, written.units(), importer.flattenings);
    }

    private List<ValueInfoProto> graphInputs() {
        List<ValueInfoProto> inputs = new ArrayList<>();
        for (ValueInfoProto v : graph.getInputList()) if (!constants.containsKey(v.getName())) inputs.add(v);
        if (inputs.size() != 1) {
            throw new OnnxConversionException("the model has " + inputs.size() + " inputs; Neurite imports models with one input");
        }
        for (ValueInfoProto out : graph.getOutputList()) {
            String value = resolve(out.getName());
            if (units.stream().noneMatch(u -> u.output.equals(value))) {
                throw new OnnxConversionException("output '" + out.getName() + "' is not computed by a layer (an input or a constant)");
            }
        }
        return inputs;
    }

    private Shape sampleShape(ValueInfoProto input) {
        TensorShapeProto shape = input.getType().getTensorType().getShape();
        int[] dims = new int[Math.max(0, shape.getDimCount() - 1)];
        for (int i = 1; i < shape.getDimCount(); i++) {
            TensorShapeProto.Dimension d = shape.getDim(i);
            if (!d.hasDimValue() || d.getDimValue() <= 0) {
                throw new OnnxConversionException("input '" + input.getName() + "' has a dynamic dimension " + i
                        + "; only the batch dimension (0) may be dynamic");
            }
            dims[i - 1] = (int) d.getDimValue();
        }
        return Shape.of(dims);
    }

    private void convert() {
        for (TensorProto t : graph.getInitializerList()) constants.put(t.getName(), t);
        for (ValueInfoProto v : graph.getInputList()) {
            if (!constants.containsKey(v.getName())) ranks.put(v.getName(), v.getType().getTensorType().getShape().getDimCount());
        }
        for (NodeProto n : graph.getNodeList()) {
            for (String in : n.getInputList()) readers.merge(in, 1, Integer::sum);
        }
        List<NodeProto> nodes = graph.getNodeList();
        live = liveValues(nodes);
        for (int i = 0; i < nodes.size(); i++) {
            NodeProto n = nodes.get(i);
            if (n.getOutputList().stream().noneMatch(live::contains)) continue;
            NodeProto next = soleReader(n, nodes, i);
            i += convert(n, next);
        }
        if (!unsupported.isEmpty()) throw new OnnxConversionException(lacking(unsupported));
        if (units.isEmpty()) throw new OnnxConversionException("the model has no layers");
    }

    /** Every value the graph's outputs depend on: nodes that compute nothing of the result are skipped. */
    private Set<String> liveValues(List<NodeProto> nodes) {
        Set<String> needed = new HashSet<>();
        for (ValueInfoProto out : graph.getOutputList()) needed.add(out.getName());
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto n = nodes.get(i);
            if (n.getOutputList().stream().anyMatch(needed::contains)) needed.addAll(n.getInputList());
        }
        return needed;
    }

    /** The next node when it is the only reader of {@code n}'s single output, else null. */
    private NodeProto soleReader(NodeProto n, List<NodeProto> nodes, int i) {
        if (i + 1 >= nodes.size() || n.getOutputCount() < 1) return null;
        String out = n.getOutput(0);
        NodeProto next = nodes.get(i + 1);
        if (readers.getOrDefault(out, 0) != 1 || !next.getInputList().contains(out)) return null;
        return next;
    }

    /** Converts {@code n} (and possibly {@code next}); returns how many extra nodes were consumed. */
    private int convert(NodeProto n, NodeProto next) {
        String op = n.getOpType();
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            unsupported.computeIfAbsent(n.getDomain() + "." + op, k -> new ArrayList<>()).add(n.getName());
            return 0;
        }
        if (ConstantFolder.OPS.contains(op) && n.getInputList().stream().allMatch(in -> in.isEmpty() || constants.containsKey(resolve(in)))) {
            List<TensorProto> ins = n.getInputList().stream().map(in -> in.isEmpty() ? null : constants.get(resolve(in))).toList();
            constants.put(n.getOutput(0), ConstantFolder.fold(n, ins, n.getOutput(0)));
            return 0;
        }
        if (op.equals("Expand") && constants.containsKey(resolve(n.getInput(0))) && shapeValues.contains(resolve(n.getInput(1)))
                && OnnxTensors.floatOrLongIsZero(constants.get(resolve(n.getInput(0))))) {
            // PyTorch's zero initial state, as wide as the batch.
            zeros.add(n.getOutput(0));
            return 0;
        }
        if (isPieceOfZeros(n)) {
            // A stacked layer's own initial state: PyTorch builds one zero tensor for all layers
            // ([layers·directions, N, H]) and slices each layer's part out of it.
            zeros.add(n.getOutput(0));
            return 0;
        }
        if (op.equals("Shape") || !op.equals("ConstantOfShape") && n.getInputCount() > 0 && n.getInputList().stream()
                .allMatch(in -> in.isEmpty() || constants.containsKey(resolve(in)) || shapeValues.contains(resolve(in)))
                && n.getInputList().stream().anyMatch(in -> shapeValues.contains(resolve(in)))) {
            shapeValues.addAll(n.getOutputList());
            long[] vector = shapeVector(n);
            if (vector != null) shapeVectors.put(n.getOutput(0), vector);
            return 0;
        }
        switch (op) {
            case "ConstantOfShape" -> {
                AttributeProto value = attribute(n, "value");
                boolean zero = value == null || OnnxTensors.floatOrLongIsZero(value.getT());
                if (!zero || !shapeValues.contains(resolve(n.getInput(0))) && !constants.containsKey(resolve(n.getInput(0)))) {
                    return refuse(n, "ConstantOfShape other than zeros");
                }
                zeros.add(n.getOutput(0));
            }
            case "RNN", "LSTM", "GRU" -> recurrent(n);
            case "Constant" -> {
                TensorProto value = attribute(n, "value") != null ? attribute(n, "value").getT() : null;
                if (value == null) unsupported.computeIfAbsent("Constant (without a tensor value)", k -> new ArrayList<>()).add(n.getName());
                else constants.put(n.getOutput(0), value.toBuilder().setName(n.getOutput(0)).build());
                return 0;
            }
            case "Identity", "Dropout" -> {
                String in = resolve(n.getInput(0));
                aliases.put(n.getOutput(0), in);
                if (constants.containsKey(in)) constants.put(n.getOutput(0), constants.get(in));
                if (ranks.containsKey(in)) ranks.put(n.getOutput(0), ranks.get(in));
                return 0;
            }
            case "Transpose" -> {
                String in = resolve(n.getInput(0));
                long[] perm = ints(n, "perm");
                if (Arrays.equals(perm, new long[] {1, 0, 2}) && layerSequences.containsKey(in)) {
                    finish(layerSequences.get(in), true, n.getOutput(0));
                } else if (Arrays.equals(perm, new long[] {1, 0, 2}) && rank(in) == 3) {
                    timeMajor.put(n.getOutput(0), in);
                } else if (Arrays.equals(perm, new long[] {1, 0, 2}) && finalStates.containsKey(in)) {
                    batchStates.put(n.getOutput(0), finalStates.get(in));
                } else if (Arrays.equals(perm, new long[] {0, 2, 1, 3}) && layerOutputs.containsKey(in)) {
                    layerOutputs.put(n.getOutput(0), layerOutputs.get(in));
                } else {
                    return refuse(n, "Transpose");
                }
            }
            case "Squeeze", "Reshape" -> {
                String in = resolve(n.getInput(0));
                long[] flatten = op.equals("Reshape") ? flattenTarget(n) : null;
                if (batchStates.containsKey(in) && op.equals("Reshape")) {
                    // [N, D, H] -> [N, D·H]: the directions' final states side by side.
                    finish(batchStates.get(in), false, n.getOutput(0));
                } else if (layerOutputs.containsKey(in)) {
                    // Y [T, D, N, H] -> [T, N, D·H]: the next layer's input, or the sequence output.
                    layerSequences.put(n.getOutput(0), layerOutputs.get(in));
                } else if (finalStates.containsKey(in) && op.equals("Squeeze") && !finalStates.get(in).bidirectional) {
                    Recurrence r = finalStates.get(in);
                    if (!in.equals(r.lastStates.get(r.lastStates.size() - 1))) return refuse(n, "a recurrent state other than the last layer's");
                    finish(r, false, n.getOutput(0));
                } else if (flatten != null) {
                    add(n, "flatten", Map.of(), List.of(n.getInput(0)), List.of(), n.getOutput(0), 2);
                    if (flatten[1] != -1) flattenings.put(n.getOutput(0), new Flattening(name(n), flatten, flatten[1]));
                } else if (op.equals("Reshape")) {
                    return refuse(n, "Reshape other than a flatten to [batch, -1] or of a recurrent layer's output");
                } else {
                    return refuse(n, "Squeeze");
                }
            }
            case "Cast" -> {
                // Token indices: Neurite's embedding reads them as floats.
                if (intAttr(n, "to", 1) != TensorProto.DataType.INT64_VALUE && intAttr(n, "to", 1) != TensorProto.DataType.INT32_VALUE) {
                    return refuse(n, "Cast");
                }
                indices.put(n.getOutput(0), resolve(n.getInput(0)));
            }
            case "Gather" -> {
                String in = resolve(n.getInput(0));
                if (constants.containsKey(in) && intAttr(n, "axis", 0) == 0 && OnnxTensors.dims(constants.get(in)).length == 2) {
                    String tokens = indices.getOrDefault(resolve(n.getInput(1)), resolve(n.getInput(1)));
                    long[] d = OnnxTensors.dims(constants.get(in));
                    Map<String, Object> args = new LinkedHashMap<>();
                    args.put("num", (int) d[0]);
                    args.put("dim", (int) d[1]);
                    NamedTensor weight = new NamedTensor("weight", Shape.of((int) d[0], (int) d[1]), OnnxTensors.floatValues(constants.get(in)));
                    String path = uniquePath(path(n, in.lastIndexOf('.') > 0 ? in.substring(0, in.lastIndexOf('.')) : null), "embedding");
                    ranks.put(n.getOutput(0), rank(tokens) + 1);
                    units.add(new Unit(path, "embedding", args, List.of(tokens), n.getOutput(0), List.of(weight)));
                    return 0;
                }
                String index = resolve(n.getInput(1));
                Recurrence r = finalStates.get(in);
                if (r == null || r.bidirectional || !constants.containsKey(index) || intAttr(n, "axis", 0) != 0) return refuse(n, "Gather");
                long[] k = OnnxTensors.longValues(constants.get(index));
                int count = r.lastStates.size();
                if (k.length != 1 || (k[0] != -1 && k[0] != count - 1) || OnnxTensors.dims(constants.get(index)).length != 0) {
                    return refuse(n, "Gather of a recurrent state other than the last layer's");
                }
                finish(r, false, n.getOutput(0));
            }
            case "Conv" -> conv(n);
            case "BatchNormalization" -> {
                List<NamedTensor> p = new ArrayList<>();
                String[] names = {"weight", "bias", "running_mean", "running_var"};
                for (int k = 0; k < 4; k++) p.add(param(n, k + 1, names[k]));
                Map<String, Object> args = new LinkedHashMap<>();
                float eps = floatAttr(n, "epsilon", 1e-5f);
                if (eps != 1e-5f) args.put("eps", (double) eps);
                add(n, "batchnorm", args, List.of(n.getInput(0)), p);
            }
            case "Relu" -> add(n, "relu", Map.of(), List.of(n.getInput(0)), List.of());
            case "Tanh" -> add(n, "tanh", Map.of(), List.of(n.getInput(0)), List.of());
            case "Sigmoid" -> add(n, "sigmoid", Map.of(), List.of(n.getInput(0)), List.of());
            case "Softmax" -> {
                long axis = intAttr(n, "axis", -1);
                int rank = rank(n.getInput(0));
                if (axis != -1 && axis != rank - 1) return refuse(n, "Softmax over an axis other than the last");
                add(n, "softmax", Map.of(), List.of(n.getInput(0)), List.of());
            }
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> {
                if (next == null || !(next.getOpType().equals("Flatten") && intAttr(next, "axis", 1) == 1)) {
                    return refuse(n, "GlobalAveragePool not followed by Flatten");
                }
                add(n, "globalavgpool", Map.of(), List.of(n.getInput(0)), List.of(), next.getOutput(0), 2);
                return 1;
            }
            case "Flatten" -> {
                if (intAttr(n, "axis", 1) != 1) return refuse(n, "Flatten with axis other than 1");
                add(n, "flatten", Map.of(), List.of(n.getInput(0)), List.of(), n.getOutput(0), 2);
            }
            case "Gemm" -> gemm(n);
            case "MatMul" -> {
                String w = resolve(n.getInput(1));
                if (!constants.containsKey(w)) return refuse(n, "MatMul of two computed values");
                float[] kn = OnnxTensors.floatValues(constants.get(w));
                long[] d = OnnxTensors.dims(constants.get(w));
                int in = (int) d[0];
                int units = (int) d[1];
                NamedTensor weight = new NamedTensor("weight", Shape.of(units, in), transpose(kn, in, units));
                boolean biasAfter = next != null && next.getOpType().equals("Add") && constants.containsKey(resolve(other(next, n.getOutput(0))));
                Map<String, Object> args = new LinkedHashMap<>();
                args.put("units", units);
                if (biasAfter) {
                    NamedTensor bias = new NamedTensor("bias", Shape.of(units), OnnxTensors.floatValues(constants.get(resolve(other(next, n.getOutput(0))))));
                    add(n, "dense", args, List.of(n.getInput(0)), List.of(weight, bias), next.getOutput(0), rank(n.getInput(0)));
                    return 1;
                }
                args.put("bias", false);
                add(n, "dense", args, List.of(n.getInput(0)), List.of(weight), n.getOutput(0), rank(n.getInput(0)));
            }
            case "Add", "Sum" -> {
                for (String in : n.getInputList()) if (constants.containsKey(resolve(in))) return refuse(n, op + " of a constant");
                add(n, "add", Map.of(), n.getInputList(), List.of());
            }
            case "Concat" -> {
                Recurrence states = finalStates.get(resolve(n.getInput(0)));
                if (states != null) {
                    // PyTorch's h_n: every layer's final state, stacked.
                    List<String> ins = n.getInputList().stream().map(this::resolve).toList();
                    if (!ins.equals(states.lastStates)) return refuse(n, "Concat of recurrent states");
                    finalStates.put(n.getOutput(0), states);
                    states.lastStates.clear();
                    states.lastStates.addAll(List.of(n.getOutput(0)));
                    return 0;
                }
                long axis = intAttr(n, "axis", 1);
                int rank = rank(n.getInput(0));
                if (axis < 0) axis += rank;
                if (axis < 1) return refuse(n, "Concat along the batch axis");
                Map<String, Object> args = new LinkedHashMap<>();
                if (axis != 1) args.put("axis", (int) axis - 1);
                add(n, "concat", args, n.getInputList(), List.of());
            }
            case "LRN" -> {
                Map<String, Object> args = new LinkedHashMap<>();
                args.put("size", (int) intAttr(n, "size", 0));
                float alpha = floatAttr(n, "alpha", 1e-4f);
                float beta = floatAttr(n, "beta", 0.75f);
                float bias = floatAttr(n, "bias", 1f);
                if (alpha != 1e-4f) args.put("alpha", (double) alpha);
                if (beta != 0.75f) args.put("beta", (double) beta);
                if (bias != 1f) args.put("k", (double) bias);
                add(n, "lrn", args, List.of(n.getInput(0)), List.of());
            }
            case "Pad" -> {
                String mode = stringAttr(n, "mode", "constant");
                if (!mode.equals("constant") || n.getInputCount() < 2 || !constants.containsKey(resolve(n.getInput(1)))) {
                    return refuse(n, "Pad other than zero padding by constant amounts");
                }
                if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                    float[] v = OnnxTensors.floatValues(constants.get(resolve(n.getInput(2))));
                    if (v.length != 1 || v[0] != 0) return refuse(n, "Pad with a value other than 0");
                }
                long[] p = OnnxTensors.longValues(constants.get(resolve(n.getInput(1))));
                if (p.length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) return refuse(n, "Pad of axes other than height and width");
                Map<String, Object> args = new LinkedHashMap<>();
                args.put("pad", new int[] {(int) p[2], (int) p[6], (int) p[3], (int) p[7]});
                add(n, "zeropad", args, List.of(n.getInput(0)), List.of());
            }
            default -> unsupported.computeIfAbsent(op, k -> new ArrayList<>()).add(name(n));
        }
        return 0;
    }

    /**
     * Whether {@code n} only moves, selects or repeats elements of zeros, so its result is zeros
     * too: its data input is zeros (for Concat, every input is) and its other inputs, the indices
     * and shapes, are constants or computed from the input's shape.
     */
    private boolean isPieceOfZeros(NodeProto n) {
        if (!ZERO_PRESERVING_OPS.contains(n.getOpType()) || n.getInputCount() == 0 || !zeros.contains(resolve(n.getInput(0)))) return false;
        boolean concat = n.getOpType().equals("Concat");
        return n.getInputList().stream().skip(1).map(this::resolve).allMatch(in -> concat
                ? zeros.contains(in)
                : in.isEmpty() || constants.containsKey(in) || shapeValues.contains(in));
    }

    /**
     * What a node computing a shape value holds, when it only picks and joins sizes (PyTorch's
     * {@code x.size(0)} is Shape, Gather, and Unsqueeze before a Concat); null for anything else,
     * arithmetic included.
     */
    private long[] shapeVector(NodeProto n) {
        switch (n.getOpType()) {
            case "Shape" -> {
                String in = resolve(n.getInput(0));
                int rank = rank(in);
                if (rank < 0) return null;
                long[] dims = new long[rank];
                Arrays.fill(dims, UNKNOWN);
                if (rank > 0 && isBatchFirst(in)) dims[0] = BATCH;
                // Opset 15's start and end: a slice of the shape.
                long start = intAttr(n, "start", 0);
                long end = intAttr(n, "end", rank);
                start = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
                end = Math.max(start, Math.min(rank, end < 0 ? end + rank : end));
                return Arrays.copyOfRange(dims, (int) start, (int) end);
            }
            case "Gather" -> {
                long[] data = vector(n.getInput(0));
                String index = resolve(n.getInput(1));
                if (data == null || intAttr(n, "axis", 0) != 0 || !constants.containsKey(index) || !OnnxTensors.isInteger(constants.get(index))) return null;
                long[] at = OnnxTensors.longValues(constants.get(index));
                long[] out = new long[at.length];
                for (int i = 0; i < at.length; i++) {
                    long k = at[i] < 0 ? at[i] + data.length : at[i];
                    if (k < 0 || k >= data.length) return null;
                    out[i] = data[(int) k];
                }
                return out;
            }
            // A scalar and a one-element vector are both held as one element: a valid graph only
            // joins them where ONNX allows.
            case "Unsqueeze", "Squeeze", "Cast", "Identity" -> {
                return vector(n.getInput(0));
            }
            case "Concat" -> {
                if (intAttr(n, "axis", 0) != 0) return null;
                long[] out = new long[0];
                for (String in : n.getInputList()) {
                    long[] part = vector(in);
                    if (part == null) return null;
                    out = java.util.stream.LongStream.concat(Arrays.stream(out), Arrays.stream(part)).toArray();
                }
                return out;
            }
            default -> {
                return null;
            }
        }
    }

    /** The elements of an integer constant or of a followed shape value; null when unknown. */
    private long[] vector(String value) {
        String v = resolve(value);
        if (shapeVectors.containsKey(v)) return shapeVectors.get(v);
        TensorProto t = constants.get(v);
        return t != null && OnnxTensors.isInteger(t) ? OnnxTensors.longValues(t) : null;
    }

    /** Whether dimension 0 of {@code value} is the batch: the model's input or a layer's result (not a time-major sequence). */
    private boolean isBatchFirst(String value) {
        String v = resolve(value);
        if (units.stream().anyMatch(u -> u.output.equals(v))) return true;
        return !constants.containsKey(v) && graph.getInputList().stream().anyMatch(i -> i.getName().equals(v));
    }

    /**
     * The target of a Reshape that flattens each sample of a batch-first value, as
     * {@code x.view(x.size(0), -1)}, {@code x.reshape(x.size(0), -1)} and {@code x.view(-1, C*H*W)}
     * export: [batch, -1], or [batch or -1, width] (the width checked once the script is loaded). The
     * batch is the input's own dimension 0 read from its shape, or 0 where ONNX's allowzero=0 makes 0
     * mean "keep this dimension". Null for any other reshape.
     */
    private long[] flattenTarget(NodeProto n) {
        long[] to = vector(n.getInput(1));
        if (to == null || to.length != 2 || !isBatchFirst(n.getInput(0))) return null;
        boolean keepsBatch = to[0] == BATCH || to[0] == 0 && intAttr(n, "allowzero", 0) == 0;
        if (keepsBatch && (to[1] == -1 || to[1] > 0)) return to;
        if (to[0] == -1 && to[1] > 0) return to;
        return null;
    }

    private int refuse(NodeProto n, String what) {
        unsupported.computeIfAbsent(what, k -> new ArrayList<>()).add(name(n));
        return 0;
    }

    /** A node's name for messages: its output's where it has none. */
    private static String name(NodeProto n) {
        return n.getName().isEmpty() ? n.getOutput(0) : n.getName();
    }

    /** PyTorch's gate block for each of ONNX's gate positions (LSTM i, o, f, c; GRU z, r, h). */
    private static int[] gateOrder(String op) {
        return switch (op) {
            case "LSTM" -> new int[] {0, 3, 1, 2};
            case "GRU" -> new int[] {1, 0, 2};
            default -> new int[] {0};
        };
    }

    /** One ONNX recurrent node: the first layer of a new Neurite layer, or the next layer of the one it reads. */
    private void recurrent(NodeProto n) {
        String op = n.getOpType();
        String x = resolve(n.getInput(0));
        for (int i = 4; i < n.getInputCount(); i++) {
            String in = n.getInput(i);
            if (!in.isEmpty() && !zeros.contains(resolve(in))) {
                refuse(n, op + " with sequence lengths, initial states or peepholes");
                return;
            }
        }
        String direction = stringAttr(n, "direction", "forward");
        if (direction.equals("reverse") || attribute(n, "clip") != null || intAttr(n, "layout", 0) != 0
                || op.equals("GRU") && intAttr(n, "linear_before_reset", 0) != 1 || op.equals("LSTM") && intAttr(n, "input_forget", 0) != 0) {
            refuse(n, op + " other than PyTorch's (reverse-only, clip, layout=1, GRU without linear_before_reset, coupled gates)");
            return;
        }
        String activation = "Tanh";
        AttributeProto acts = attribute(n, "activations");
        if (acts != null && acts.getStringsCount() > 0) {
            List<String> names = acts.getStringsList().stream().map(com.google.protobuf.ByteString::toStringUtf8).toList();
            activation = names.get(0);
            boolean pytorch = op.equals("RNN")
                    ? (activation.equals("Tanh") || activation.equals("Relu")) && names.stream().allMatch(activation::equals)
                    : isDefaultActivations(op, acts);
            if (!pytorch) {
                refuse(n, op + " with other activations");
                return;
            }
        }
        Recurrence r;
        if (layerSequences.containsKey(x)) {
            r = layerSequences.get(x);
            if (!r.op.equals(op) || r.bidirectional != direction.equals("bidirectional") || r.hidden != intAttr(n, "hidden_size", 0)) {
                refuse(n, op + " stacked on a different recurrent layer");
                return;
            }
        } else if (timeMajor.containsKey(x)) {
            r = new Recurrence();
            r.op = op;
            r.input = timeMajor.get(x);
            r.hidden = (int) intAttr(n, "hidden_size", 0);
            r.bidirectional = direction.equals("bidirectional");
            r.activation = activation;
            r.path = path(n, null);
        } else {
            refuse(n, op + " on a sequence that is not batch-first input transposed");
            return;
        }
        int directions = r.bidirectional ? 2 : 1;
        int g = gateOrder(op).length;
        int h = r.hidden;
        float[] w = OnnxTensors.floatValues(constants.get(resolve(n.getInput(1))));
        float[] rr = OnnxTensors.floatValues(constants.get(resolve(n.getInput(2))));
        boolean bias = n.getInputCount() > 3 && !n.getInput(3).isEmpty();
        float[] b = bias ? OnnxTensors.floatValues(constants.get(resolve(n.getInput(3)))) : null;
        if (r.layers > 0 && r.bias != bias) {
            refuse(n, op + " layers with and without bias");
            return;
        }
        r.bias = bias;
        int in = w.length / directions / (g * h);
        for (int d = 0; d < directions; d++) {
            String suffix = "_l" + r.layers + (d == 1 ? "_reverse" : "");
            r.params.add(new NamedTensor("weight_ih" + suffix, Shape.of(g * h, in), pytorchRows(op, w, d * g * h * in, in, h)));
            r.params.add(new NamedTensor("weight_hh" + suffix, Shape.of(g * h, h), pytorchRows(op, rr, d * g * h * h, h, h)));
            if (bias) {
                r.params.add(new NamedTensor("bias_ih" + suffix, Shape.of(g * h), pytorchRows(op, b, d * 2 * g * h, 1, h)));
                r.params.add(new NamedTensor("bias_hh" + suffix, Shape.of(g * h), pytorchRows(op, b, d * 2 * g * h + g * h, 1, h)));
            }
        }
        r.layers++;
        if (n.getOutputCount() > 0 && !n.getOutput(0).isEmpty()) layerOutputs.put(n.getOutput(0), r);
        if (n.getOutputCount() > 1 && !n.getOutput(1).isEmpty()) {
            finalStates.put(n.getOutput(1), r);
            r.lastStates.add(n.getOutput(1));
        }
    }

    private static boolean isDefaultActivations(String op, AttributeProto acts) {
        List<String> names = acts.getStringsList().stream().map(com.google.protobuf.ByteString::toStringUtf8).toList();
        List<String> one = op.equals("LSTM") ? List.of("Sigmoid", "Tanh", "Tanh") : List.of("Sigmoid", "Tanh");
        return names.equals(one) || names.equals(java.util.stream.Stream.concat(one.stream(), one.stream()).toList());
    }

    /** Rows of one direction's gate blocks (ONNX order, each h rows of {@code width}) in PyTorch's order. */
    private static float[] pytorchRows(String op, float[] onnx, int offset, int width, int h) {
        int[] order = gateOrder(op);
        float[] out = new float[order.length * h * width];
        for (int gate = 0; gate < order.length; gate++) {
            System.arraycopy(onnx, offset + gate * h * width, out, order[gate] * h * width, h * width);
        }
        return out;
    }

    /** Ends a recurrent stack: it becomes one layer whose result is {@code output}. */
    private void finish(Recurrence r, boolean sequences, String output) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("hidden", r.hidden);
        if (r.layers > 1) args.put("layers", r.layers);
        if (r.op.equals("RNN") && r.activation.equals("Relu")) args.put("nonlinearity", "relu");
        if (r.bidirectional) args.put("bidirectional", true);
        if (!sequences) args.put("sequences", false);
        if (!r.bias) args.put("bias", false);
        String path = uniquePath(r.path == null ? "" : r.path, r.op.toLowerCase(java.util.Locale.ROOT));
        ranks.put(output, sequences ? 3 : 2);
        units.add(new Unit(path, r.op.toLowerCase(java.util.Locale.ROOT), args, List.of(r.input), output, r.params));
    }

    private static long[] ints(NodeProto n, String name) {
        AttributeProto a = attribute(n, name);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    private void conv(NodeProto n) {
        if (!stringAttr(n, "auto_pad", "NOTSET").equals("NOTSET") && !stringAttr(n, "auto_pad", "NOTSET").equals("VALID")) {
            refuse(n, "Conv with auto_pad SAME_*");
            return;
        }
        NamedTensor weight = param(n, 1, "weight");
        if (weight.shape().rank() != 4) {
            refuse(n, "Conv other than 2-D");
            return;
        }
        List<NamedTensor> p = new ArrayList<>(List.of(weight));
        boolean bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty();
        if (bias) p.add(param(n, 2, "bias"));
        int[] pads = symmetricPads(n);
        if (pads == null) {
            refuse(n, "Conv with asymmetric padding");
            return;
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("channels", weight.shape().dim(0));
        args.put("kernel", pair(weight.shape().dim(2), weight.shape().dim(3)));
        int[] s = pairAttr(n, "strides", 1);
        if (s[0] != 1 || s[1] != 1) args.put("stride", s);
        if (pads[0] != 0 || pads[1] != 0) args.put("pad", pads);
        int[] d = pairAttr(n, "dilations", 1);
        if (d[0] != 1 || d[1] != 1) args.put("dilation", d);
        long groups = intAttr(n, "group", 1);
        if (groups != 1) args.put("groups", (int) groups);
        if (!bias) args.put("bias", false);
        add(n, "conv", args, List.of(n.getInput(0)), p);
    }

    private void pool(NodeProto n) {
        int[] k = pairAttr(n, "kernel_shape", 1);
        int[] s = pairAttr(n, "strides", 1);
        int[] pads = symmetricPads(n);
        if (pads == null) {
            refuse(n, n.getOpType() + " with asymmetric padding");
            return;
        }
        int[] d = pairAttr(n, "dilations", 1);
        if (d[0] != 1 || d[1] != 1) {
            refuse(n, n.getOpType() + " with dilation");
            return;
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("kernel", k);
        if (s[0] != k[0] || s[1] != k[1]) args.put("stride", s);
        if (pads[0] != 0 || pads[1] != 0) args.put("pad", pads);
        if (intAttr(n, "ceil_mode", 0) != 0) args.put("ceil", true);
        boolean average = n.getOpType().equals("AveragePool");
        if (average && intAttr(n, "count_include_pad", 0) == 0 && (pads[0] != 0 || pads[1] != 0)) args.put("count_include_pad", false);
        add(n, average ? "avgpool" : "maxpool", args, List.of(n.getInput(0)), List.of());
    }

    private void gemm(NodeProto n) {
        if (intAttr(n, "transA", 0) != 0 || floatAttr(n, "alpha", 1) != 1 || floatAttr(n, "beta", 1) != 1) {
            refuse(n, "Gemm with transA, alpha or beta");
            return;
        }
        String b = resolve(n.getInput(1));
        if (!constants.containsKey(b)) {
            refuse(n, "Gemm of two computed values");
            return;
        }
        long[] d = OnnxTensors.dims(constants.get(b));
        float[] values = OnnxTensors.floatValues(constants.get(b));
        NamedTensor weight = intAttr(n, "transB", 0) == 1
                ? new NamedTensor("weight", Shape.of((int) d[0], (int) d[1]), values)
                : new NamedTensor("weight", Shape.of((int) d[1], (int) d[0]), transpose(values, (int) d[0], (int) d[1]));
        int units = weight.shape().dim(0);
        List<NamedTensor> p = new ArrayList<>(List.of(weight));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("units", units);
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            float[] c = OnnxTensors.floatValues(constants.get(resolve(n.getInput(2))));
            if (c.length != units) {
                refuse(n, "Gemm with a broadcast bias");
                return;
            }
            p.add(new NamedTensor("bias", Shape.of(units), c));
        } else {
            args.put("bias", false);
        }
        add(n, "dense", args, List.of(n.getInput(0)), p, n.getOutput(0), 2);
    }

    private void add(NodeProto n, String layer, Map<String, Object> args, List<String> inputs, List<NamedTensor> params) {
        add(n, layer, args, inputs, params, n.getOutput(0), rank(inputs.get(0)));
    }

    private void add(NodeProto n, String layer, Map<String, Object> args, List<String> inputs, List<NamedTensor> params,
                     String output, int rank) {
        List<String> resolved = inputs.stream().map(this::resolve).toList();
        for (String in : resolved) {
            if (constants.containsKey(in)) {
                refuse(n, n.getOpType() + " reading a constant as data");
                return;
            }
            // Shape arithmetic and the zeros made from it are never listed themselves (they compute
            // no data of their own), so a layer reading them as data must be, or nothing would be.
            if (shapeValues.contains(in)) {
                refuse(n, n.getOpType() + " of a value computed from the input's shape");
                return;
            }
            if (zeros.contains(in)) {
                refuse(n, n.getOpType() + " of zeros made in the graph (other than a recurrent layer's initial state)");
                return;
            }
        }
        String path = uniquePath(path(n, params.isEmpty() ? null : paramPrefix(n)), layer);
        ranks.put(output, rank);
        units.add(new Unit(path, layer, args, resolved, output, params));
    }

    /** The module path of a layer: the common prefix of its initializers' names, else the ONNX node's scope. */
    private String path(NodeProto n, String fromParams) {
        if (fromParams != null && !fromParams.isEmpty()) return fromParams;
        String name = n.getName();
        if (name.startsWith("/")) {
            String[] segments = name.substring(1).split("/");
            String path = "";
            String last = "";
            for (int i = 0; i < segments.length - 1; i++) {
                String seg = segments[i];
                if (!last.isEmpty() && seg.startsWith(last + ".")) path = path + seg.substring(last.length());
                else path = path.isEmpty() ? seg : path + "." + seg;
                last = seg;
            }
            return path;
        }
        // Neurite's own exports name each node after the Neurite node it came from (c1.relu), and the
        // extra nodes of one layer after it too (h/l0, next/matmul).
        int slash = name.indexOf('/');
        return slash < 0 ? name : name.substring(0, slash);
    }

    private String uniquePath(String path, String layer) {
        String base = path.isEmpty() ? layer : path;
        String candidate = base;
        for (int i = 2; !usedPaths.add(candidate); i++) candidate = base + "_" + i;
        return candidate;
    }

    /** The part of the first parameter's name before its last dot ({@code layer1.0.conv1} of {@code layer1.0.conv1.weight}). */
    private String paramPrefix(NodeProto n) {
        String name = resolve(n.getInput(1));
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : null;
    }

    private NamedTensor param(NodeProto n, int index, String name) {
        String value = resolve(n.getInput(index));
        TensorProto t = constants.get(value);
        if (t == null) throw new OnnxConversionException("node " + n.getName() + " (" + n.getOpType() + "): input " + index + " ('" + value
                + "') must be a constant (an initializer), but it is computed");
        long[] d = OnnxTensors.dims(t);
        int[] dims = new int[d.length];
        for (int i = 0; i < d.length; i++) dims[i] = (int) d[i];
        return new NamedTensor(name, Shape.of(dims), OnnxTensors.floatValues(t));
    }

    String resolve(String value) {
        String v = value;
        while (aliases.containsKey(v)) v = aliases.get(v);
        return v;
    }

    private int rank(String value) {
        Integer r = ranks.get(resolve(value));
        return r == null ? -1 : r;
    }

    private static String other(NodeProto add, String value) {
        return add.getInput(0).equals(value) ? add.getInput(1) : add.getInput(0);
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private static int[] symmetricPads(NodeProto n) {
        AttributeProto a = attribute(n, "pads");
        if (a == null) return new int[] {0, 0};
        if (a.getIntsCount() != 4) return null;
        if (a.getInts(0) != a.getInts(2) || a.getInts(1) != a.getInts(3)) return null;
        return new int[] {(int) a.getInts(0), (int) a.getInts(1)};
    }

    private static int[] pairAttr(NodeProto n, String name, int fallback) {
        AttributeProto a = attribute(n, name);
        if (a == null || a.getIntsCount() == 0) return new int[] {fallback, fallback};
        if (a.getIntsCount() == 1) return new int[] {(int) a.getInts(0), (int) a.getInts(0)};
        return new int[] {(int) a.getInts(0), (int) a.getInts(1)};
    }

    private static int[] pair(int a, int b) {
        return new int[] {a, b};
    }

    private static AttributeProto attribute(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a;
        return null;
    }

    private static long intAttr(NodeProto n, String name, long fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getI();
    }

    private static float floatAttr(NodeProto n, String name, float fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getF();
    }

    private static String stringAttr(NodeProto n, String name, String fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    /** A valid identifier for {@code name}: other characters become '_', a leading digit gets '_' before it. */
    static String sanitize(String name) {
        StringBuilder sb = new StringBuilder();
        for (char c : name.toCharArray()) sb.append(Character.isLetterOrDigit(c) && c < 128 || c == '_' ? c : '_');
        String s = sb.toString().replaceAll("_+", "_");
        if (s.startsWith("_") && s.length() > 1) s = s.substring(1);
        if (s.endsWith("_") && s.length() > 1) s = s.substring(0, s.length() - 1);
        if (s.isEmpty() || Character.isDigit(s.charAt(0))) s = "v" + s;
        if (ScriptWriter.RESERVED.contains(s)) s = s + "_";
        return s;
    }
}
