package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * An expression as written in a script: a literal, a name, a list, arithmetic or a call. Layer
 * arguments, input shapes, model-parameter defaults and train settings are all expressions;
 * {@code Evaluator} gives them a value. Every node keeps the exact span it was parsed from so a
 * diagnostic can point at the part that is wrong.
 */
public sealed interface Expr permits Expr.IntLiteral, Expr.FloatLiteral, Expr.BoolLiteral, Expr.StringLiteral,
        Expr.Name, Expr.ListLiteral, Expr.Unary, Expr.Binary, Call {

    SourceSpan span();

    /** {@code 64}; ints are 64-bit while evaluating, layer arguments narrow them to int. */
    record IntLiteral(long value, SourceSpan span) implements Expr {}

    /** {@code 0.05}, {@code 1e-3}. */
    record FloatLiteral(double value, SourceSpan span) implements Expr {}

    /** {@code true}, {@code false}. */
    record BoolLiteral(boolean value, SourceSpan span) implements Expr {}

    /** {@code "data/mnist"}, escapes already decoded. */
    record StringLiteral(String value, SourceSpan span) implements Expr {}

    /** A bare identifier: a model parameter, a value name or a symbol such as {@code fashion_mnist}. */
    record Name(String name, SourceSpan span) implements Expr {}

    /** {@code [1, 28, 28]}. */
    record ListLiteral(List<Expr> elements, SourceSpan span) implements Expr {
        public ListLiteral {
            elements = List.copyOf(elements);
        }
    }

    /** {@code -x}, {@code +x}. */
    record Unary(Operator op, Expr operand, SourceSpan span) implements Expr {}

    /** {@code a * b}; {@code span} covers both operands, {@code opSpan} the operator alone. */
    record Binary(Operator op, Expr left, Expr right, SourceSpan opSpan, SourceSpan span) implements Expr {}
}
