package org.neurite.dsl;

import java.util.ArrayList;
import java.util.List;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Operator;

/**
 * Evaluates constant expressions (arguments, shapes, defaults, conditions, train settings) to the
 * plain values {@code ParamSchema.bind} accepts: Long for ints (64-bit while computing; binding
 * narrows to int and says so if a value does not fit), Double, Boolean, String and List of
 * those.
 *
 * <p>Arithmetic follows the usual rules with two choices made explicit: integer overflow is an
 * error rather than a wrap-around, and {@code /} on two ints gives an int when the division is
 * exact ({@code 64 / 2 == 32}) and a float otherwise ({@code 7 / 2 == 3.5}), so that channel
 * arithmetic stays integral and a learning rate such as {@code 1 / 3} is not silently zero.
 * Comparisons take two numbers (ints and floats mix), or two bools or two strings for
 * {@code ==} and {@code !=}; {@code and}, {@code or}, {@code not} and {@code if} take bools, and
 * {@code and}/{@code or}/{@code if} evaluate only what they need. Bare names are looked up
 * through {@link Names}, which knows the parameters in scope.
 */
final class ExpressionEvaluator {
    /** Resolves a bare identifier to a value, or throws a diagnostic saying why it cannot. */
    @FunctionalInterface
    interface Names {
        Object lookup(Expr.Name name);
    }

    private final Names names;

    ExpressionEvaluator(Names names) {
        this.names = names;
    }

    Object evaluate(Expr expr) {
        if (expr instanceof Expr.IntLiteral i) return i.value();
        if (expr instanceof Expr.FloatLiteral f) return f.value();
        if (expr instanceof Expr.BoolLiteral b) return b.value();
        if (expr instanceof Expr.StringLiteral s) return s.value();
        if (expr instanceof Expr.Name n) return names.lookup(n);
        if (expr instanceof Expr.ListLiteral list) {
            List<Object> out = new ArrayList<>(list.elements().size());
            for (Expr e : list.elements()) out.add(evaluate(e));
            return out;
        }
        if (expr instanceof Expr.Unary u) return unary(u);
        if (expr instanceof Expr.Binary b) return binary(b);
        if (expr instanceof Expr.Conditional c) return condition(c.condition()) ? evaluate(c.yes()) : evaluate(c.no());
        if (expr instanceof Expr.Chain chain) {
            throw new ModelException(chain.span(), "a chain is not a number; chains belong in statements and in a "
                    + "layer's leading arguments (its inputs)");
        }
        Call call = (Call) expr;
        throw new ModelException(call.span(), "a call to '" + call.name() + "' is not a number; a call is a chain step "
                + "or a layer's leading argument (its input)");
    }

    /** Evaluates {@code expr} and insists on a bool: what {@code if} and {@code and}/{@code or} need. */
    boolean condition(Expr expr) {
        Object v = evaluate(expr);
        if (v instanceof Boolean b) return b;
        throw new ModelException(expr.span(), "condition must be a bool, got " + kind(v));
    }

    private Object unary(Expr.Unary u) {
        if (u.op() == Operator.NOT) {
            Object v = evaluate(u.operand());
            if (v instanceof Boolean b) return !b;
            throw new ModelException(u.span(), "cannot apply 'not' to " + kind(v));
        }
        Object v = evaluate(u.operand());
        if (u.op() == Operator.PLUS && (v instanceof Long || v instanceof Double)) return v;
        if (u.op() == Operator.MINUS) {
            if (v instanceof Long l) {
                if (l == Long.MIN_VALUE) throw overflow(u.span());
                return -l;
            }
            if (v instanceof Double d) return -d;
        }
        throw new ModelException(u.span(), "cannot apply '" + u.op().symbol() + "' to " + kind(v));
    }

    private Object binary(Expr.Binary b) {
        if (b.op() == Operator.AND || b.op() == Operator.OR) return logical(b);
        Object left = evaluate(b.left());
        Object right = evaluate(b.right());
        if (b.op().isComparison()) return compare(b, left, right);
        if (left instanceof Long x && right instanceof Long y) return integer(b, x, y);
        if (isNumber(left) && isNumber(right)) {
            return floating(b, ((Number) left).doubleValue(), ((Number) right).doubleValue());
        }
        throw new ModelException(b.opSpan(), "cannot apply '" + b.op().symbol() + "' to " + kind(left) + " and " + kind(right));
    }

    private Object logical(Expr.Binary b) {
        Object left = evaluate(b.left());
        if (!(left instanceof Boolean l)) {
            throw new ModelException(b.opSpan(), "cannot apply '" + b.op().symbol() + "' to " + kind(left));
        }
        if (b.op() == Operator.AND ? !l : l) return l;
        Object right = evaluate(b.right());
        if (!(right instanceof Boolean r)) {
            throw new ModelException(b.opSpan(), "cannot apply '" + b.op().symbol() + "' to " + kind(right));
        }
        return r;
    }

    private static Object compare(Expr.Binary b, Object left, Object right) {
        if (isNumber(left) && isNumber(right)) {
            int c = left instanceof Long x && right instanceof Long y ? Long.compare(x, y)
                    : Double.compare(((Number) left).doubleValue(), ((Number) right).doubleValue());
            return switch (b.op()) {
                case EQ -> c == 0;
                case NE -> c != 0;
                case LT -> c < 0;
                case LE -> c <= 0;
                case GT -> c > 0;
                default -> c >= 0;
            };
        }
        boolean sameKind = (left instanceof Boolean && right instanceof Boolean) || (left instanceof String && right instanceof String);
        if (sameKind && (b.op() == Operator.EQ || b.op() == Operator.NE)) return left.equals(right) == (b.op() == Operator.EQ);
        throw new ModelException(b.opSpan(), "cannot compare " + kind(left) + " and " + kind(right) + " with '"
                + b.op().symbol() + "'");
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double;
    }

    private static Object integer(Expr.Binary b, long x, long y) {
        try {
            return switch (b.op()) {
                case PLUS -> Math.addExact(x, y);
                case MINUS -> Math.subtractExact(x, y);
                case TIMES -> Math.multiplyExact(x, y);
                case DIVIDE -> {
                    if (y == 0) throw new ModelException(b.opSpan(), "division by zero");
                    if (x == Long.MIN_VALUE && y == -1) throw overflow(b.span());
                    yield x % y == 0 ? (Object) (x / y) : (Object) ((double) x / y);
                }
                default -> throw new IllegalStateException("not arithmetic: " + b.op());
            };
        } catch (ArithmeticException e) {
            throw overflow(b.span());
        }
    }

    private static Object floating(Expr.Binary b, double x, double y) {
        if (b.op() == Operator.DIVIDE && y == 0) throw new ModelException(b.opSpan(), "division by zero");
        double r = switch (b.op()) {
            case PLUS -> x + y;
            case MINUS -> x - y;
            case TIMES -> x * y;
            case DIVIDE -> x / y;
            default -> throw new IllegalStateException("not arithmetic: " + b.op());
        };
        if (Double.isInfinite(r) || Double.isNaN(r)) throw new ModelException(b.span(), "result is out of range");
        return r;
    }

    private static ModelException overflow(SourceSpan span) {
        return new ModelException(span, "integer overflow");
    }

    /** The type of a value as messages name it: int, float, bool, string, list. */
    static String kind(Object v) {
        if (v instanceof Long || v instanceof Integer) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof Boolean) return "bool";
        if (v instanceof String) return "string";
        if (v instanceof List<?>) return "list";
        return String.valueOf(v);
    }
}
