package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/**
 * One statement of a model or block body: an input declaration, an expression that may be
 * named ({@code c1 = ...}) or marked as an output ({@code output logits = ...}), or a block's
 * {@code return}. The parser accepts each kind in both bodies; the resolver says where one does
 * not belong.
 */
public sealed interface Statement permits Statement.Input, Statement.Apply, Statement.Return {

    SourceSpan span();

    /** {@code input image: [1, 28, 28]}; the shape excludes the batch dimension. */
    record Input(String name, SourceSpan nameSpan, Expr shape, SourceSpan span) implements Statement {}

    /**
     * {@code name = value}, {@code output name = value} or a bare {@code value} ({@code name} and
     * {@code nameSpan} null).
     */
    record Apply(String name, SourceSpan nameSpan, boolean output, Expr value, SourceSpan span)
            implements Statement {}

    /** {@code return value}: what a block call gives back. */
    record Return(Expr value, SourceSpan span) implements Statement {}
}
