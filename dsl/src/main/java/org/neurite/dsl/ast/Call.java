package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * {@code conv(6, kernel=5)} or a bare {@code relu}: a step of a chain, or a call inside an
 * expression ({@code optimizer = sgd(lr=0.05)}). {@code parenthesized} is false for a bare
 * name, which at the start of a chain may also name a value rather than a layer.
 */
public record Call(String name, SourceSpan nameSpan, List<Argument> arguments, boolean parenthesized,
                   SourceSpan span) implements Expr {
    public Call {
        arguments = List.copyOf(arguments);
    }
}
