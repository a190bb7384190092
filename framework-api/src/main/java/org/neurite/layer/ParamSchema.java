package org.neurite.layer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The typed arguments of a layer, in positional order. {@link #bind} checks a call's
 * arguments against it and applies defaults.
 */
public final class ParamSchema {
    private final List<ParamSpec> specs;

    private ParamSchema(List<ParamSpec> specs) {
        this.specs = List.copyOf(specs);
    }

    public static ParamSchema of(ParamSpec... specs) {
        return new ParamSchema(List.of(specs));
    }

    public static ParamSchema empty() { return new ParamSchema(List.of()); }

    public List<ParamSpec> specs() { return specs; }

    public ParamSpec find(String name) {
        for (ParamSpec s : specs) if (s.name().equals(name)) return s;
        return null;
    }

    /**
     * Binds positional then named values (already evaluated to Integer/Long/Double/Boolean/String
     * or List of numbers) to this schema.
     *
     * @throws ArgumentException naming the argument and its position in the call
     */
    public LayerArgs bind(List<Object> positional, Map<String, Object> named) {
        Map<String, Object> values = new LinkedHashMap<>();
        if (positional.size() > specs.size()) {
            throw new ArgumentException(null, specs.size(),
                    "takes at most " + specs.size() + " positional argument" + (specs.size() == 1 ? "" : "s")
                            + ", got " + positional.size());
        }
        for (int i = 0; i < positional.size(); i++) {
            ParamSpec spec = specs.get(i);
            values.put(spec.name(), convert(spec, positional.get(i), i));
        }
        int position = positional.size();
        for (Map.Entry<String, Object> e : named.entrySet()) {
            ParamSpec spec = find(e.getKey());
            if (spec == null) throw new ArgumentException(e.getKey(), position, "unknown parameter '" + e.getKey() + "'");
            if (values.containsKey(spec.name()))
                throw new ArgumentException(e.getKey(), position, "parameter '" + e.getKey() + "' given twice");
            values.put(spec.name(), convert(spec, e.getValue(), position));
            position++;
        }
        // Bound values are kept in schema order, so calls that differ only in argument order give
        // equal LayerArgs (and the same canonical text).
        Map<String, Object> ordered = new LinkedHashMap<>();
        for (ParamSpec spec : specs) {
            if (values.containsKey(spec.name())) {
                ordered.put(spec.name(), values.get(spec.name()));
            } else {
                if (spec.required()) throw new ArgumentException(spec.name(), -1, "missing required parameter '" + spec.name() + "'");
                if (spec.defaultValue() != null) ordered.put(spec.name(), convert(spec, spec.defaultValue(), -1));
            }
        }
        return new LayerArgs(ordered);
    }

    private static Object convert(ParamSpec spec, Object value, int position) {
        Object converted = switch (spec.type()) {
            case INT -> asInt(value);
            case FLOAT -> value instanceof Number n && !(value instanceof Float && Float.isNaN(n.floatValue())) ? (Object) n.doubleValue() : null;
            case BOOL -> value instanceof Boolean ? value : null;
            case STRING -> value instanceof String ? value : null;
            case INTS -> asInts(value);
            case FLOATS -> asFloats(value);
        };
        if (converted == null) {
            Long huge = spec.type() == ParamType.INT || spec.type() == ParamType.INTS ? outsideInt(value) : null;
            if (huge != null) {
                // an integer all the same: "expects int, got int 3000000000" would not say what is wrong
                throw new ArgumentException(spec.name(), position, "parameter '" + spec.name() + "' is " + huge + ", "
                        + (huge > 0 ? "larger than the largest int, " + Integer.MAX_VALUE : "smaller than the smallest int, " + Integer.MIN_VALUE));
            }
            throw new ArgumentException(spec.name(), position,
                    "parameter '" + spec.name() + "' expects " + spec.type().display() + ", got " + describe(value));
        }
        checkRange(spec, converted, position);
        return converted;
    }

    private static void checkRange(ParamSpec spec, Object v, int position) {
        if (!spec.hasRange()) return;
        List<Double> numbers = new ArrayList<>();
        if (v instanceof Number n) numbers.add(n.doubleValue());
        else if (v instanceof int[] a) for (int x : a) numbers.add((double) x);
        else if (v instanceof float[] a) for (float x : a) numbers.add((double) x);
        for (double d : numbers) {
            if (d < spec.min() || d > spec.max()) {
                throw new ArgumentException(spec.name(), position, "parameter '" + spec.name() + "' must be "
                        + rangeText(spec) + ", got " + formatNumber(d));
            }
        }
    }

    private static String rangeText(ParamSpec spec) {
        if (spec.max() == Double.POSITIVE_INFINITY) return ">= " + formatNumber(spec.min());
        if (spec.min() == Double.NEGATIVE_INFINITY) return "<= " + formatNumber(spec.max());
        return "in [" + formatNumber(spec.min()) + ", " + formatNumber(spec.max()) + "]";
    }

    static String formatNumber(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private static Integer asInt(Object value) {
        if (value instanceof Integer i) return i;
        if (value instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return l.intValue();
        return null;
    }

    /** An integer of {@code value} (itself, or one in its list) that does not fit in an int; null when none. */
    private static Long outsideInt(Object value) {
        if (value instanceof Long l && asInt(l) == null) return l;
        if (value instanceof List<?> list) {
            for (Object x : list) if (x instanceof Long l && asInt(l) == null) return l;
        }
        return null;
    }

    private static int[] asInts(Object value) {
        Integer single = asInt(value);
        if (single != null) return new int[] {single};
        if (value instanceof int[] a) return a.clone();
        if (value instanceof List<?> list && !list.isEmpty()) {
            int[] out = new int[list.size()];
            for (int i = 0; i < out.length; i++) {
                Integer x = asInt(list.get(i));
                if (x == null) return null;
                out[i] = x;
            }
            return out;
        }
        return null;
    }

    private static float[] asFloats(Object value) {
        if (value instanceof float[] a) return a.clone();
        if (value instanceof Number n) return new float[] {n.floatValue()};
        if (value instanceof List<?> list && !list.isEmpty()) {
            float[] out = new float[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Number n)) return null;
                out[i] = n.floatValue();
            }
            return out;
        }
        return null;
    }

    /** How a value is named in messages: {@code string "abc"}, {@code float 2.5}, {@code list}. */
    public static String describe(Object value) {
        if (value instanceof String s) return "string \"" + s + "\"";
        if (value instanceof Integer || value instanceof Long) return "int " + value;
        if (value instanceof Double || value instanceof Float) return "float " + value;
        if (value instanceof Boolean b) return "bool " + b;
        if (value instanceof List<?> || value instanceof int[] || value instanceof float[]) return "a list";
        return String.valueOf(value);
    }
}
