package org.neurite.plugin;

/**
 * The key of the {@code MapBinder<KernelKey, KernelOverride>} that kernel overrides are
 * registered in: one layer name on one backend name. {@link PluginModule#kernel} derives it from
 * the override, so plugins rarely build one themselves.
 */
public record KernelKey(String layer, String backend) {
    public static KernelKey of(KernelOverride override) {
        return new KernelKey(override.layer(), override.backend());
    }

    /** {@code mish on cpu}, for messages. */
    @Override public String toString() { return layer + " on " + backend; }
}
