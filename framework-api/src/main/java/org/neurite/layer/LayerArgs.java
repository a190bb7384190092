package org.neurite.layer;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A layer's bound arguments (defaults applied), keyed by parameter name, in the Java types of
 * {@link ParamType}. Immutable.
 */
public final class LayerArgs {
    private final Map<String, Object> values;

    public LayerArgs(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static LayerArgs empty() { return new LayerArgs(Map.of()); }

    public Map<String, Object> values() { return values; }

    public boolean has(String name) { return values.containsKey(name); }

    public int getInt(String name) { return (Integer) require(name); }

    public double getDouble(String name) { return (Double) require(name); }

    public float getFloat(String name) { return ((Double) require(name)).floatValue(); }

    public boolean getBool(String name) { return (Boolean) require(name); }

    public String getString(String name) { return (String) require(name); }

    public int[] getInts(String name) { return ((int[]) require(name)).clone(); }

    public float[] getFloats(String name) { return ((float[]) require(name)).clone(); }

    /**
     * An INTS argument read as a pair (height, width): {@code kernel=5} gives (5, 5),
     * {@code kernel=[5, 3]} gives (5, 3).
     */
    public int[] getPair(String name) {
        int[] v = (int[]) require(name);
        if (v.length == 1) return new int[] {v[0], v[0]};
        if (v.length == 2) return v.clone();
        throw new ArgumentException(name, -1, "parameter '" + name + "' expects one or two ints, got " + v.length);
    }

    private Object require(String name) {
        Object v = values.get(name);
        if (v == null) throw new IllegalStateException("argument '" + name + "' is not bound");
        return v;
    }

    /** Canonical text, {@code kernel=5, pad=2}, used by summaries and the IR dump. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (sb.length() > 0) sb.append(", ");
            sb.append(e.getKey()).append('=').append(format(e.getValue()));
        }
        return sb.toString();
    }

    private static String format(Object v) {
        if (v instanceof int[] a) return a.length == 1 ? Integer.toString(a[0]) : Arrays.toString(a);
        if (v instanceof float[] a) return Arrays.toString(a);
        if (v instanceof String s) return '"' + s + '"';
        if (v instanceof Double d) return ParamSchema.formatNumber(d);
        return String.valueOf(v);
    }

    @Override public boolean equals(Object o) {
        return o instanceof LayerArgs other && toString().equals(other.toString());
    }

    @Override public int hashCode() { return toString().hashCode(); }
}
