package org.neurite.graph;

import java.util.List;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/**
 * One layer application in the graph IR. {@code name} is unique in the graph and is the prefix
 * of the node's parameter names ({@code c1} → {@code c1.weight}). {@code inputs} name graph
 * inputs or earlier nodes. {@code callSites} lists, innermost first, the block calls that
 * expanded into this node (empty for top-level statements).
 */
public record Node(String name, String layer, LayerArgs args, List<String> inputs, SourceSpan span,
                   List<SourceSpan> callSites) {
    public Node {
        inputs = List.copyOf(inputs);
        callSites = List.copyOf(callSites);
    }

    public Node(String name, String layer, LayerArgs args, List<String> inputs, SourceSpan span) {
        this(name, layer, args, inputs, span, List.of());
    }
}
