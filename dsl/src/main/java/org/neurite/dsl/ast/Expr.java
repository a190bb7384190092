package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * An expression as written in a script. The same syntax describes constants (layer arguments,
 * input shapes, parameter defaults, train settings, conditions) and values flowing through the
 * graph (chains, calls, {@code a + b}, {@code if ... then ... else ...}); which one an
 * expression is depends on where it stands and on what its names mean, so that is decided by
 * the resolver, not the parser. Every node keeps the exact span it was parsed from so a
 * diagnostic can point at the part that is wrong. Brackets leave no trace: {@code nn fmt}
 * prints the ones precedence needs.
 */
public sealed interface Expr permits Expr.IntLiteral, Expr.FloatLiteral, Expr.BoolLiteral, Expr.StringLiteral,
        Expr.Name, Expr.ListLiteral, Expr.Unary, Expr.Binary, Expr.Chain, Expr.Conditional, Call {

    SourceSpan span();

    /** {@code 64}; ints are 64-bit while evaluating, layer arguments narrow them to int. */
    record IntLiteral(long value, SourceSpan span) implements Expr {}

    /** {@code 0.05}, {@code 1e-3}; {@code text} is the spelling {@code nn fmt} keeps. */
    record FloatLiteral(double value, String text, SourceSpan span) implements Expr {}

    /** {@code true}, {@code false}. */
    record BoolLiteral(boolean value, SourceSpan span) implements Expr {}

    /** {@code "data/mnist"}, escapes already decoded. */
    record StringLiteral(String value, SourceSpan span) implements Expr {}

    /**
     * A bare identifier: a parameter, a value, a layer or block called without arguments, or a
     * symbol such as {@code fashion_mnist}.
     */
    record Name(String name, SourceSpan span) implements Expr {}

    /** {@code [1, 28, 28]}. */
    record ListLiteral(List<Expr> elements, SourceSpan span) implements Expr {
        public ListLiteral {
            elements = List.copyOf(elements);
        }
    }

    /** {@code -x}, {@code +x}, {@code not x}. */
    record Unary(Operator op, Expr operand, SourceSpan span) implements Expr {}

    /** {@code a * b}; {@code span} covers both operands, {@code opSpan} the operator alone. */
    record Binary(Operator op, Expr left, Expr right, SourceSpan opSpan, SourceSpan span) implements Expr {}

    /**
     * {@code head -> step -> step}: at least two elements, applied left to right. The head is any
     * expression; every later step is a {@link Call}, a repeated step ({@link Binary} with
     * {@link Operator#TIMES}) or a bracketed expression. Nested chains are flattened by the
     * parser, so no step is itself an unrepeated chain.
     */
    record Chain(List<Expr> steps, SourceSpan span) implements Expr {
        public Chain {
            steps = List.copyOf(steps);
            if (steps.size() < 2) throw new IllegalArgumentException("a chain has at least two steps");
        }
    }

    /** {@code if condition then yes else no}; only the branch the condition picks is resolved. */
    record Conditional(Expr condition, Expr yes, Expr no, SourceSpan span) implements Expr {}
}
