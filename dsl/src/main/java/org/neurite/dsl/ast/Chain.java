package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/** {@code conv(6, kernel=5) -> relu -> maxpool(2)}: steps applied left to right. Never empty. */
public record Chain(List<Call> steps, SourceSpan span) {
    public Chain {
        steps = List.copyOf(steps);
        if (steps.isEmpty()) throw new IllegalArgumentException("a chain has at least one step");
    }
}
