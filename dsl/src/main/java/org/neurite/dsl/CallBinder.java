package org.neurite.dsl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;

/**
 * Binds the written arguments of a call ({@code conv(6, kernel=5)}, {@code sgd(lr=0.05)}) to a
 * {@link ParamSchema}, turning every failure into a diagnostic at the argument responsible:
 * a misspelt name at the name (with a did-you-mean over the schema), a wrong type or an
 * out-of-range value at the value, a missing required argument at the callee. Messages start
 * with the callee ({@code conv: parameter 'kernel' expects ...}) like shape errors do.
 */
final class CallBinder {
    private CallBinder() {}

    /**
     * @param arguments the call's arguments that go to the schema (a layer call's leading value
     *     names, its inputs, are already removed)
     */
    static LayerArgs bind(Call call, List<Argument> arguments, ParamSchema schema, ExpressionEvaluator evaluator) {
        String callee = call.name();
        // Values first: an undefined name is the likelier mistake than the call's shape.
        List<Object> values = new ArrayList<>();
        for (Argument a : arguments) values.add(evaluator.evaluate(a.value()));
        if (schema.specs().isEmpty() && !arguments.isEmpty()) {
            throw new ModelException(arguments.get(0).span(), "'" + callee + "' takes no arguments");
        }
        checkNames(callee, arguments, schema);
        List<Object> positional = new ArrayList<>();
        Map<String, Object> named = new LinkedHashMap<>();
        for (int i = 0; i < arguments.size(); i++) {
            if (arguments.get(i).isNamed()) named.put(arguments.get(i).name(), values.get(i));
            else positional.add(values.get(i));
        }
        try {
            return canonical(schema, schema.bind(positional, named));
        } catch (ArgumentException e) {
            throw error(call, arguments, schema, e);
        }
    }

    /**
     * {@code e} as an error at the value of the argument at fault: the argument at
     * {@link ArgumentException#position()} when it has one (positions count positional arguments
     * first, then named ones: the order checkNames enforces), else the one that gives
     * {@link ArgumentException#argument()} by name or by position (a check made after binding);
     * the callee's name when that argument was not written.
     */
    static ModelException error(Call call, List<Argument> arguments, ParamSchema schema, ArgumentException e) {
        int p = e.position();
        SourceSpan span = call.nameSpan();
        if (p >= 0) {
            if (p < arguments.size()) span = arguments.get(p).value().span();
        } else {
            for (int i = 0; i < arguments.size(); i++) {
                Argument a = arguments.get(i);
                boolean match = a.isNamed() ? a.name().equals(e.argument())
                        : i < schema.specs().size() && schema.specs().get(i).name().equals(e.argument());
                if (match) {
                    span = a.value().span();
                    break;
                }
            }
        }
        return new ModelException(span, call.name() + ": " + e.getMessage());
    }

    /**
     * The bound values in schema order, so that {@code conv(6, kernel=5)} and
     * {@code conv(kernel=5, channels=6)} give equal {@link LayerArgs} with the same text in
     * summaries ({@code bind} keeps the order the call was written in).
     */
    private static LayerArgs canonical(ParamSchema schema, LayerArgs bound) {
        Map<String, Object> ordered = new LinkedHashMap<>();
        for (ParamSpec spec : schema.specs()) {
            if (bound.has(spec.name())) ordered.put(spec.name(), bound.values().get(spec.name()));
        }
        return new LayerArgs(ordered);
    }

    /** Positional before named, no name twice, every name in the schema. */
    private static void checkNames(String callee, List<Argument> arguments, ParamSchema schema) {
        Map<String, Argument> seen = new HashMap<>();
        boolean sawNamed = false;
        for (Argument a : arguments) {
            if (!a.isNamed()) {
                if (sawNamed) throw new ModelException(a.span(), "positional argument after a named argument");
                continue;
            }
            sawNamed = true;
            Argument first = seen.putIfAbsent(a.name(), a);
            if (first != null) {
                throw Duplicates.error(a.nameSpan(), callee + ": parameter '" + a.name() + "' given twice",
                        first.nameSpan(), "first given here");
            }
            if (schema.find(a.name()) == null) {
                List<String> names = new ArrayList<>();
                for (ParamSpec spec : schema.specs()) names.add(spec.name());
                List<String> close = LayerRegistry.closest(a.name(), names);
                String hint = close.isEmpty() ? " (parameters: " + String.join(", ", names) + ")"
                        : "; did you mean '" + close.get(0) + "'?";
                throw new ModelException(a.nameSpan(), "unknown parameter '" + a.name() + "' for '" + callee + "'" + hint);
            }
        }
    }
}
