package org.neurite.dsl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Operator;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.ParamSchema;

/**
 * Binds the arguments of a block call ({@code residual(128, stride=2)}) to the block's
 * parameters, with the messages layer calls give: unknown names with a did-you-mean, a name
 * given twice, a missing required parameter, and a value of the wrong type.
 *
 * <p>A parameter's type is the one written ({@code c: int}) or else the type of its default when
 * that is a literal ({@code stride = 1} is an int, {@code p = 0.5} a float); otherwise it takes
 * any value. An int is accepted where a float is expected. Binding happens in two steps because
 * the two halves fail for different people: {@link #bind} checks what the caller wrote, in the
 * caller's scope; {@link #complete} evaluates the defaults left, in the block's own scope (a
 * default may use earlier parameters: {@code (c, mid = c / 4)}).
 */
final class BlockArguments {
    /** The types a parameter may declare. */
    static final List<String> TYPES = List.of("int", "float", "bool", "string", "list");

    private BlockArguments() {}

    /**
     * The values the call gives, by parameter name, type-checked.
     *
     * @param callee what is called; its parameters come from its declaration
     * @param arguments the call's arguments that go to parameters (leading values, its inputs, removed)
     */
    static Map<String, Object> bind(Call call, Callee callee, List<Argument> arguments, ExpressionEvaluator caller) {
        String who = callee.name();
        List<ParamDef> params = callee.params();
        List<Object> values = new ArrayList<>();
        for (Argument a : arguments) values.add(caller.evaluate(a.value()));
        if (params.isEmpty() && !arguments.isEmpty()) {
            throw new ModelException(arguments.get(0).span(), "'" + who + "' takes no arguments");
        }
        Map<String, Object> given = new LinkedHashMap<>();
        Map<String, SourceSpan> givenAt = new LinkedHashMap<>();
        boolean sawNamed = false;
        int positional = 0;
        for (int i = 0; i < arguments.size(); i++) {
            Argument a = arguments.get(i);
            ParamDef target;
            if (!a.isNamed()) {
                if (sawNamed) throw new ModelException(a.span(), "positional argument after a named argument");
                if (positional >= params.size()) {
                    throw new ModelException(a.span(), who + ": takes at most " + params.size() + " positional argument"
                            + (params.size() == 1 ? "" : "s") + ", got " + countPositional(arguments));
                }
                target = params.get(positional++);
            } else {
                sawNamed = true;
                target = find(params, a.name());
                if (target == null) {
                    List<String> names = params.stream().map(ParamDef::name).toList();
                    List<String> close = LayerRegistry.closest(a.name(), names);
                    String hint = close.isEmpty() ? " (parameters: " + String.join(", ", names) + ")"
                            : "; did you mean '" + close.get(0) + "'?";
                    throw new ModelException(a.nameSpan(), "unknown parameter '" + a.name() + "' for '" + who + "'" + hint);
                }
                SourceSpan first = givenAt.get(target.name());
                if (first != null) {
                    throw Duplicates.error(a.nameSpan(), who + ": parameter '" + a.name() + "' given twice", first,
                            "first given here");
                }
            }
            Object value = conform(declaredType(target), values.get(i));
            if (value == null) {
                throw new ModelException(a.value().span(), who + ": parameter '" + target.name() + "' expects "
                        + declaredType(target) + ", got " + ParamSchema.describe(values.get(i)));
            }
            given.put(target.name(), value);
            givenAt.put(target.name(), a.nameSpan());
        }
        for (ParamDef p : params) {
            if (p.defaultValue() == null && !given.containsKey(p.name())) {
                throw new ModelException(call.nameSpan(), who + ": missing required parameter '" + p.name() + "'");
            }
        }
        return given;
    }

    /**
     * Every parameter's value, in declaration order: the given ones, and the defaults evaluated
     * with {@code scope} (which sees the parameters bound before them through {@code bound}).
     */
    static void complete(Callee callee, Map<String, Object> given, ExpressionEvaluator scope, Map<String, Object> bound) {
        for (ParamDef p : callee.params()) {
            Object value = given.get(p.name());
            if (value == null) {
                Object computed = scope.evaluate(p.defaultValue());
                value = conform(declaredType(p), computed);
                if (value == null) {
                    throw new ModelException(p.defaultValue().span(), "the default of parameter '" + p.name() + "' must be "
                            + declaredType(p) + ", got " + ParamSchema.describe(computed));
                }
            }
            bound.put(p.name(), value);
        }
    }

    /** The written type, else the type of a literal default, else null (any value). */
    static String declaredType(ParamDef p) {
        if (p.type() != null) return p.type();
        Expr d = p.defaultValue();
        if (d instanceof Expr.Unary u && (u.op() == Operator.MINUS || u.op() == Operator.PLUS)) d = u.operand();
        if (d instanceof Expr.IntLiteral) return "int";
        if (d instanceof Expr.FloatLiteral) return "float";
        if (d instanceof Expr.BoolLiteral) return "bool";
        if (d instanceof Expr.StringLiteral) return "string";
        if (d instanceof Expr.ListLiteral) return "list";
        return null;
    }

    /** {@code value} as a {@code type} (an int widens to a float), or null when it is not one. */
    static Object conform(String type, Object value) {
        if (type == null) return value;
        return switch (type) {
            case "int" -> value instanceof Long ? value : null;
            case "float" -> value instanceof Long l ? (Object) l.doubleValue() : value instanceof Double ? value : null;
            case "bool" -> value instanceof Boolean ? value : null;
            case "string" -> value instanceof String ? value : null;
            case "list" -> value instanceof List<?> ? value : null;
            default -> null;
        };
    }

    private static ParamDef find(List<ParamDef> params, String name) {
        for (ParamDef p : params) if (p.name().equals(name)) return p;
        return null;
    }

    private static int countPositional(List<Argument> arguments) {
        int n = 0;
        for (Argument a : arguments) if (!a.isNamed()) n++;
        return n;
    }
}
