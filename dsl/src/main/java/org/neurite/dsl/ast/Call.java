package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * {@code conv(6, kernel=5)} or a bare {@code relu} after an arrow: a layer or block call (or,
 * inside a train section, {@code optimizer = sgd(lr=0.05)}). {@code parenthesized} is false for a
 * bare name, which at the head of a chain may name a value rather than a callee.
 */
public record Call(String name, SourceSpan nameSpan, List<Argument> arguments, boolean parenthesized,
                   SourceSpan span) implements Expr {
    public Call {
        arguments = List.copyOf(arguments);
    }
}
