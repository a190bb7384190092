package org.neurite.graph;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The backend-free graph IR: a DAG of {@link Node}s in topological order (every input of a node
 * is a graph input or an earlier node). {@code outputs} name the values the model returns; the
 * first one is what losses and predictions use.
 */
public record Graph(String name, List<GraphInput> inputs, List<Node> nodes, List<String> outputs) {
    public Graph {
        inputs = List.copyOf(inputs);
        nodes = List.copyOf(nodes);
        outputs = List.copyOf(outputs);
        Set<String> known = new HashSet<>();
        for (GraphInput in : inputs) {
            if (!known.add(in.name())) throw new IllegalArgumentException("duplicate value name '" + in.name() + "'");
        }
        for (Node n : nodes) {
            for (String input : n.inputs()) {
                if (!known.contains(input))
                    throw new IllegalArgumentException("node '" + n.name() + "' reads '" + input + "' before it is defined");
            }
            if (!known.add(n.name())) throw new IllegalArgumentException("duplicate value name '" + n.name() + "'");
        }
        for (String out : outputs) {
            if (!known.contains(out)) throw new IllegalArgumentException("output '" + out + "' is not a value of the graph");
        }
        if (outputs.isEmpty()) throw new IllegalArgumentException("graph '" + name + "' has no output");
    }

    public Node node(String name) {
        for (Node n : nodes) if (n.name().equals(name)) return n;
        return null;
    }
}
