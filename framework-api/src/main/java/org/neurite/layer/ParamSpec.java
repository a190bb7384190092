package org.neurite.layer;

/**
 * One argument of a layer: its name, type, default (null when required), documentation and
 * an optional inclusive numeric range.
 */
public record ParamSpec(String name, ParamType type, Object defaultValue, boolean required, String doc,
                        double min, double max) {

    public static ParamSpec required(String name, ParamType type, String doc) {
        return new ParamSpec(name, type, null, true, doc, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    public static ParamSpec optional(String name, ParamType type, Object defaultValue, String doc) {
        return new ParamSpec(name, type, defaultValue, false, doc, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
    }

    /** This spec restricted to [min, max] (applies to every element of INTS/FLOATS). */
    public ParamSpec range(double min, double max) {
        return new ParamSpec(name, type, defaultValue, required, doc, min, max);
    }

    public boolean hasRange() {
        return min != Double.NEGATIVE_INFINITY || max != Double.POSITIVE_INFINITY;
    }
}
