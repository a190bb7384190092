package org.neurite.plugin;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.neurite.graph.LayerRegistry;

/**
 * The contributions of one kind (losses, optimizers) that every plugin made through a
 * {@code MapBinder<String, T>}, by name; the runtime's injector provides one per kind, the engine
 * takes them by injection and the script checker lists their names. The core's own losses and
 * optimizers arrive through the same binders as a plugin's: there is one registry, not a fixed
 * list plus extras.
 *
 * <p>Two contributions under one name fail loudly, naming the jar or class folder of each.
 *
 * @param <T> what is registered, e.g. {@code LossFunction}
 */
public final class NamedRegistry<T> {
    private final String kind;
    private final Map<String, T> byName = new TreeMap<>();

    /**
     * @param kind what one entry is called in messages, e.g. {@code loss}
     * @param bound a {@code MapBinder}'s multimap: each name with everything bound under it
     * @throws PluginException when a name has more than one contribution
     */
    public NamedRegistry(String kind, Map<String, ? extends Collection<? extends T>> bound) {
        this.kind = kind;
        for (Map.Entry<String, ? extends Collection<? extends T>> e : bound.entrySet()) {
            List<T> all = new ArrayList<>(e.getValue());
            if (all.size() > 1) {
                throw new PluginException(kind + " '" + e.getKey() + "' is registered twice: by "
                        + NeuriteRuntime.origin(all.get(0)) + " and by " + NeuriteRuntime.origin(all.get(1)));
            }
            byName.put(e.getKey(), all.get(0));
        }
    }

    public Optional<T> find(String name) { return Optional.ofNullable(byName.get(name)); }

    /**
     * The entry named {@code name}.
     *
     * @throws IllegalArgumentException naming what exists, closest first, when there is none
     */
    public T require(String name) {
        T t = byName.get(name);
        if (t == null) throw new IllegalArgumentException("unknown " + kind + " '" + name + "'" + available(name));
        return t;
    }

    /** {@code ; did you mean 'x'? (available: a, b, c)}, the tail of an unknown-name message. */
    public String available(String name) {
        List<String> close = LayerRegistry.closest(name, byName.keySet());
        String mean = close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?";
        return mean + (byName.isEmpty() ? " (no plugin registers any " + kind + ")"
                : " (available: " + String.join(", ", byName.keySet()) + ")");
    }

    /** Every name, sorted. */
    public List<String> names() { return List.copyOf(byName.keySet()); }

    /** Every entry by name, sorted. */
    public Map<String, T> all() { return Collections.unmodifiableMap(byName); }

    public String kind() { return kind; }
}
