package org.neurite.dsl;

import java.util.ArrayList;
import java.util.List;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Operator;

/**
 * Evaluates argument expressions to the plain values {@code ParamSchema.bind} accepts: Long for
 * ints (64-bit while computing; binding narrows to int and says so if a value does not fit),
 * Double, Boolean, String and List of those.
 *
 * <p>Arithmetic follows the usual rules with two choices made explicit: integer overflow is an
 * error rather than a wrap-around, and {@code /} on two ints gives an int when the division is
 * exact ({@code 64 / 2 == 32}) and a float otherwise ({@code 7 / 2 == 3.5}), so that channel
 * arithmetic stays integral and a learning rate such as {@code 1 / 3} is not silently zero.
 * Bare names are looked up through {@link Names}, which knows the model parameters in scope.
 */
final class Evaluator {
    /** Resolves a bare identifier to a value, or throws a diagnostic saying why it cannot. */
    @FunctionalInterface
    interface Names {
        Object lookup(Expr.Name name);
    }

    private final Names names;

    Evaluator(Names names) {
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
        Call call = (Call) expr;
        throw new ModelException(call.span(), "a call to '" + call.name() + "' is not a value; calls belong in chains "
                + "(a -> " + call.name() + "(...)) and in the optimizer setting");
    }

    private Object unary(Expr.Unary u) {
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
        Object left = evaluate(b.left());
        Object right = evaluate(b.right());
        if (left instanceof Long x && right instanceof Long y) return integer(b, x, y);
        if (left instanceof Number x && right instanceof Number y && (left instanceof Long || left instanceof Double)
                && (right instanceof Long || right instanceof Double)) {
            return floating(b, x.doubleValue(), y.doubleValue());
        }
        throw new ModelException(b.opSpan(), "cannot apply '" + b.op().symbol() + "' to " + kind(left) + " and " + kind(right));
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
