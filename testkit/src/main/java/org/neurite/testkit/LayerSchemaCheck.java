package org.neurite.testkit;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSpec;
import org.neurite.tensor.Shape;

/**
 * Checks what {@code nn layers} prints and what scripts rely on before any number is computed: a
 * lower-case name, documentation for the layer and every parameter, required parameters without
 * defaults, and defaults that bind cleanly against the layer's own schema (right type, inside the
 * declared range). With a sample input it also checks that the default configuration infers a
 * shape, declares uniquely named parameters whose initialisers give finite values, and reports
 * non-negative FLOPs.
 */
public final class LayerSchemaCheck {
    private LayerSchemaCheck() {}

    /**
     * Checks {@code type}'s schema; {@code required} supplies a value for each required
     * parameter so the defaults of the others can be bound.
     *
     * @return the arguments with every default applied
     * @throws AssertionError listing every problem found
     */
    public static LayerArgs check(LayerType type, Map<String, Object> required) {
        List<String> problems = new ArrayList<>();
        String name = type.name();
        if (name == null || !name.matches("[a-z][a-z0-9_]*"))
            problems.add("name '" + name + "' must be lower case letters, digits and '_', starting with a letter");
        if (type.doc() == null || type.doc().isBlank()) problems.add("the layer has no documentation");
        if (type.minInputs() < 0 || type.maxInputs() < type.minInputs())
            problems.add("input count range " + type.minInputs() + ".." + type.maxInputs() + " is empty");
        Set<String> seen = new HashSet<>();
        for (ParamSpec spec : type.schema().specs()) {
            if (!seen.add(spec.name())) problems.add("parameter '" + spec.name() + "' is declared twice");
            if (!spec.name().matches("[a-z][a-z0-9_]*")) problems.add("parameter name '" + spec.name() + "' is not lower snake case");
            if (spec.doc() == null || spec.doc().isBlank()) problems.add("parameter '" + spec.name() + "' has no documentation");
            if (spec.required() && spec.defaultValue() != null)
                problems.add("required parameter '" + spec.name() + "' has a default " + spec.defaultValue());
            if (spec.required() && !required.containsKey(spec.name()))
                problems.add("no example value given for required parameter '" + spec.name() + "'");
            if (spec.min() > spec.max()) problems.add("parameter '" + spec.name() + "' has an empty range");
        }
        for (String given : required.keySet()) {
            ParamSpec spec = type.schema().find(given);
            if (spec == null || !spec.required()) problems.add("'" + given + "' is not a required parameter of " + name);
        }
        LayerArgs args = null;
        if (problems.isEmpty()) {
            try {
                args = type.schema().bind(List.of(), required);
            } catch (RuntimeException e) {
                problems.add("the defaults do not bind against the schema: " + e.getMessage());
            }
        }
        if (args != null) {
            for (ParamSpec spec : type.schema().specs()) {
                if (spec.defaultValue() != null && !args.has(spec.name()))
                    problems.add("default of '" + spec.name() + "' was not applied");
            }
        }
        fail(type, problems);
        return args;
    }

    /**
     * As {@link #check(LayerType, Map)}, then compiles the default configuration's shapes for
     * {@code sampleInputs} (per-sample shapes, without batch).
     */
    public static LayerArgs check(LayerType type, Map<String, Object> required, Shape... sampleInputs) {
        LayerArgs args = check(type, required);
        List<Shape> inputs = List.of(sampleInputs);
        List<String> problems = new ArrayList<>();
        if (inputs.size() < type.minInputs() || inputs.size() > type.maxInputs())
            problems.add(inputs.size() + " sample inputs, but the layer takes " + type.minInputs() + ".." + type.maxInputs());
        fail(type, problems);
        Shape out = type.outputShape(args, inputs);
        for (int d : out.dims()) if (d <= 0) problems.add("output shape " + out + " for " + inputs + " has an empty dimension");
        Set<String> names = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(1);
        for (ParamDecl decl : type.parameters(args, inputs)) {
            if (!names.add(decl.name())) problems.add("parameter tensor '" + decl.name() + "' is declared twice");
            if (!decl.name().matches("[a-z][a-z0-9_]*")) problems.add("parameter tensor name '" + decl.name() + "' is not lower snake case");
            if (decl.shape().elementCount() == 0) problems.add("parameter tensor '" + decl.name() + "' is empty: " + decl.shape());
            if (decl.initializer() == null) {
                problems.add("parameter tensor '" + decl.name() + "' has no initializer");
                continue;
            }
            float[] values = new float[decl.shape().size()];
            decl.initializer().initialize(values, decl.shape(), rng);
            for (float v : values) {
                if (!Float.isFinite(v)) {
                    problems.add("initializer of '" + decl.name() + "' produced " + v);
                    break;
                }
            }
        }
        long flops = type.flops(args, inputs, out);
        if (flops < 0) problems.add("negative FLOPs " + flops);
        fail(type, problems);
        return args;
    }

    private static void fail(LayerType type, List<String> problems) {
        if (!problems.isEmpty())
            throw new AssertionError("layer '" + type.name() + "' schema check failed:\n  " + String.join("\n  ", problems));
    }
}
