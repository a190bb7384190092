package org.neurite.graph;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * A graph after shape inference: every value's shape (without batch), every node's layer type,
 * parameters and forward FLOPs. Built before anything is allocated; {@code nn summary} is
 * computed from it alone.
 */
public final class TypedGraph {
    private final Graph graph;
    private final Map<String, Shape> shapes;
    private final Map<String, LayerType> types;
    private final List<ParamInfo> params;
    private final Map<String, Long> flops;

    private TypedGraph(Graph graph, Map<String, Shape> shapes, Map<String, LayerType> types,
                       List<ParamInfo> params, Map<String, Long> flops) {
        this.graph = graph;
        this.shapes = Collections.unmodifiableMap(shapes);
        this.types = Collections.unmodifiableMap(types);
        this.params = List.copyOf(params);
        this.flops = Collections.unmodifiableMap(flops);
    }

    /**
     * Infers every shape, in topological order.
     *
     * @throws ModelException positioned at the first node whose layer rejects its inputs, with
     *     notes for the block call sites that produced it
     */
    public static TypedGraph infer(Graph graph, LayerRegistry registry) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        Map<String, LayerType> types = new LinkedHashMap<>();
        List<ParamInfo> params = new ArrayList<>();
        Map<String, Long> flops = new LinkedHashMap<>();
        for (GraphInput in : graph.inputs()) shapes.put(in.name(), in.shape());
        for (Node node : graph.nodes()) {
            LayerType type = registry.find(node.layer()).orElseThrow(() -> error(node,
                    "unknown layer '" + node.layer() + "'"));
            int n = node.inputs().size();
            if (n < type.minInputs() || n > type.maxInputs()) {
                String expected = type.minInputs() == type.maxInputs() ? Integer.toString(type.minInputs())
                        : type.minInputs() + ".." + (type.maxInputs() == Integer.MAX_VALUE ? "n" : type.maxInputs());
                throw error(node, "layer '" + type.name() + "' takes " + expected + " input"
                        + (expected.equals("1") ? "" : "s") + ", got " + n);
            }
            List<Shape> in = new ArrayList<>();
            for (String name : node.inputs()) in.add(shapes.get(name));
            Shape out;
            List<ParamDecl> decls;
            try {
                out = type.outputShape(node.args(), in);
                decls = type.parameters(node.args(), in);
                flops.put(node.name(), type.flops(node.args(), in, out));
            } catch (ShapeException | ArgumentException e) {
                throw error(node, type.name() + ": " + e.getMessage());
            }
            for (int d : out.dims()) {
                if (d <= 0) throw error(node, type.name() + ": output shape " + out + " has an empty dimension (input "
                        + in.get(0) + " is too small)");
            }
            shapes.put(node.name(), out);
            types.put(node.name(), type);
            for (ParamDecl decl : decls) params.add(new ParamInfo(node.name() + "." + decl.name(), node.name(), decl));
        }
        return new TypedGraph(graph, shapes, types, params, flops);
    }

    /** A positioned error at {@code node}, with a note for each block call that led there. */
    public static ModelException error(Node node, String message) {
        Diagnostic d = Diagnostic.error(node.span(), message);
        for (SourceSpan site : node.callSites()) d = d.withNote(site, "in block called from here");
        return new ModelException(List.of(d));
    }

    public Graph graph() { return graph; }

    /** Shape (without batch) of a graph input or node output. */
    public Shape shape(String value) { return shapes.get(value); }

    public LayerType type(String node) { return types.get(node); }

    public List<ParamInfo> params() { return params; }

    public List<ParamInfo> params(String node) {
        return params.stream().filter(p -> p.node().equals(node)).toList();
    }

    public long flops(String node) { return flops.getOrDefault(node, 0L); }

    public long totalFlops() { return flops.values().stream().mapToLong(Long::longValue).sum(); }

    public long parameterCount() {
        return params.stream().mapToLong(p -> p.decl().shape().elementCount()).sum();
    }

    public long trainableParameterCount() {
        return params.stream().filter(p -> p.decl().trainable()).mapToLong(p -> p.decl().shape().elementCount()).sum();
    }

    /** Shape of the first output (without batch). */
    public Shape outputShape() { return shapes.get(graph.outputs().get(0)); }
}
