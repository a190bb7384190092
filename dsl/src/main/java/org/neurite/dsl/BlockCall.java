package org.neurite.dsl;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * One expanded call of a block (or of a model called like a block) in a resolved model: the
 * name its nodes are prefixed with ({@code layer1.0}), the block's name ({@code residual}), the
 * call in the source, the graph nodes it made directly, and the calls it made in turn, in
 * order. {@code nn graph} draws each as a cluster; nothing else depends on it.
 */
public record BlockCall(String name, String block, SourceSpan site, List<String> nodes, List<BlockCall> calls) {
    public BlockCall {
        nodes = List.copyOf(nodes);
        calls = List.copyOf(calls);
    }
}
