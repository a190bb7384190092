package org.neurite.graph;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.neurite.layer.LayerType;

/**
 * Every {@link LayerType} known to this deployment, by name. Built by Guice from the plugins'
 * multibindings; two layer types with one name are an error that names both origins.
 */
public final class LayerRegistry {
    private final Map<String, LayerType> byName = new TreeMap<>();

    public LayerRegistry(Collection<LayerType> types) {
        for (LayerType t : types) {
            LayerType previous = byName.putIfAbsent(t.name(), t);
            if (previous != null) {
                throw new IllegalStateException("layer '" + t.name() + "' is registered twice: by "
                        + origin(previous) + " and by " + origin(t));
            }
        }
    }

    /** Where a layer type was loaded from: its jar or class folder. */
    public static String origin(LayerType t) {
        var source = t.getClass().getProtectionDomain().getCodeSource();
        String where = source == null || source.getLocation() == null ? "?" : source.getLocation().getPath();
        return t.getClass().getName() + " (" + where + ")";
    }

    public Optional<LayerType> find(String name) { return Optional.ofNullable(byName.get(name)); }

    public Collection<LayerType> all() { return Collections.unmodifiableCollection(byName.values()); }

    public List<String> names() { return new ArrayList<>(byName.keySet()); }

    /** Known names close to {@code name} (edit distance ≤ 2 or a shared prefix), best first. */
    public List<String> suggestions(String name) { return closest(name, byName.keySet()); }

    /** The candidates within edit distance 2 of {@code word} (or sharing a 3-letter prefix), best first. */
    public static List<String> closest(String word, Collection<String> candidates) {
        record Scored(String s, int d) {}
        List<Scored> scored = new ArrayList<>();
        for (String c : candidates) {
            int d = editDistance(word.toLowerCase(), c.toLowerCase());
            boolean prefix = word.length() >= 3 && c.length() >= 3 && c.regionMatches(true, 0, word, 0, 3);
            if (d <= Math.max(1, Math.min(2, word.length() / 3)) || prefix) scored.add(new Scored(c, d));
        }
        scored.sort(Comparator.comparingInt(Scored::d).thenComparing(Scored::s));
        return scored.stream().map(Scored::s).limit(3).toList();
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
    }
}
