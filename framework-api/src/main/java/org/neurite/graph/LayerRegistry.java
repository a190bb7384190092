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
            String a = word.toLowerCase();
            String b = c.toLowerCase();
            // The full table costs length x length: a script may hold names of millions of
            // characters, so long ones get the distance up to 2 (all the test below needs) or 3.
            int d = (long) a.length() * b.length() <= EXACT_CELLS ? editDistance(a, b) : boundedDistance(a, b, 2);
            boolean prefix = word.length() >= 3 && c.length() >= 3 && c.regionMatches(true, 0, word, 0, 3);
            if (d <= Math.max(1, Math.min(2, word.length() / 3)) || prefix) scored.add(new Scored(c, d));
        }
        scored.sort(Comparator.comparingInt(Scored::d).thenComparing(Scored::s));
        return scored.stream().map(Scored::s).limit(3).toList();
    }

    /** Largest table {@link #closest} fills for an exact distance (names up to 256 characters). */
    private static final long EXACT_CELLS = 1 << 16;

    /**
     * The edit distance of {@code a} and {@code b} when it is at most {@code k}, else
     * {@code k + 1}; only the diagonal band of width {@code 2k + 1} is filled, so it takes time
     * proportional to the length.
     */
    static int boundedDistance(String a, String b, int k) {
        if (Math.abs(a.length() - b.length()) > k) return k + 1;
        int far = k + 1;
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = Math.min(j, far);
        for (int i = 1; i <= a.length(); i++) {
            int lo = Math.max(1, i - k);
            int hi = Math.min(b.length(), i + k);
            cur[0] = Math.min(i, far);
            if (lo > 1) cur[lo - 1] = far;
            int best = cur[0];
            for (int j = lo; j <= hi; j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                int up = j <= i - 1 + k ? prev[j] : far;
                cur[j] = Math.min(far, Math.min(Math.min(cur[j - 1] + 1, up + 1), prev[j - 1] + cost));
                best = Math.min(best, cur[j]);
            }
            if (hi < b.length()) cur[hi + 1] = far;
            if (best >= far && lo > 1) return far;
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[b.length()];
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
