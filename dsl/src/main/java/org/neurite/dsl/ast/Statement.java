package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/**
 * One statement of a model body: an input declaration, or a chain that may be named
 * ({@code c1 = ...}), marked as an output ({@code output logits = ...}) or bare.
 */
public sealed interface Statement permits Statement.Input, Statement.Apply {

    SourceSpan span();

    /** {@code input image: [1, 28, 28]}; the shape excludes the batch dimension. */
    record Input(String name, SourceSpan nameSpan, Expr shape, SourceSpan span) implements Statement {}

    /**
     * {@code name = chain}, {@code output name = chain} or a bare {@code chain} ({@code name} and
     * {@code nameSpan} null).
     */
    record Apply(String name, SourceSpan nameSpan, boolean output, Chain chain, SourceSpan span)
            implements Statement {}
}
