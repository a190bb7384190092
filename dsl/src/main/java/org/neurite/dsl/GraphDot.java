package org.neurite.dsl;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.neurite.graph.GraphInput;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;

/**
 * A typed graph as Graphviz DOT text, what {@code nn graph} writes: one box per node labelled
 * with its name, layer and output shape (without batch), an ellipse per input, a double border
 * on outputs, an edge per input of every node, and each block call as a dashed cluster
 * ({@code layer1.0: basic}) holding its nodes and the calls inside it. Graphviz lays it out
 * ({@code dot -Tsvg model.dot}); the text itself is stable, so it can be diffed and tested.
 */
public final class GraphDot {
    private GraphDot() {}

    /** DOT for {@code graph}; {@code calls} are the block calls it was expanded from (may be empty). */
    public static String render(TypedGraph graph, List<BlockCall> calls) {
        StringBuilder out = new StringBuilder();
        out.append("digraph ").append(quote(graph.graph().name())).append(" {\n");
        out.append("  rankdir=TB;\n");
        out.append("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n");
        out.append("  edge [color=\"#555555\"];\n");
        Set<String> outputs = new HashSet<>(graph.graph().outputs());
        for (GraphInput in : graph.graph().inputs()) {
            out.append("  ").append(quote(in.name())).append(" [label=").append(quote(in.name() + "\ninput " + in.shape()))
                    .append(", shape=ellipse];\n");
        }
        Map<String, BlockCall> outermost = new HashMap<>();
        for (BlockCall call : calls) claim(call, call, outermost);
        Set<BlockCall> drawn = new HashSet<>();
        for (Node n : graph.graph().nodes()) {
            BlockCall call = outermost.get(n.name());
            if (call == null) node(graph, n.name(), outputs, "  ", out);
            else if (drawn.add(call)) cluster(graph, call, outputs, "  ", out);
        }
        for (Node n : graph.graph().nodes()) {
            for (String in : n.inputs()) out.append("  ").append(quote(in)).append(" -> ").append(quote(n.name())).append(";\n");
        }
        out.append("}\n");
        return out.toString();
    }

    private static void claim(BlockCall call, BlockCall top, Map<String, BlockCall> outermost) {
        for (String n : call.nodes()) outermost.put(n, top);
        for (BlockCall inner : call.calls()) claim(inner, top, outermost);
    }

    private static void cluster(TypedGraph graph, BlockCall call, Set<String> outputs, String indent, StringBuilder out) {
        out.append(indent).append("subgraph ").append(quote("cluster_" + call.name())).append(" {\n");
        String inner = indent + "  ";
        out.append(inner).append("label=").append(quote(call.name() + ": " + call.block())).append(";\n");
        out.append(inner).append("style=\"rounded,dashed\";\n");
        for (String n : call.nodes()) node(graph, n, outputs, inner, out);
        for (BlockCall c : call.calls()) cluster(graph, c, outputs, inner, out);
        out.append(indent).append("}\n");
    }

    private static void node(TypedGraph graph, String name, Set<String> outputs, String indent, StringBuilder out) {
        String label = name + "\n" + graph.graph().node(name).layer() + " " + graph.shape(name);
        out.append(indent).append(quote(name)).append(" [label=").append(quote(label));
        if (outputs.contains(name)) out.append(", peripheries=2");
        out.append("];\n");
    }

    /** A DOT string: quotes and backslashes escaped, line breaks as DOT's centred {@code \n}. */
    static String quote(String text) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
