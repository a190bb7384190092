package org.neurite.dsl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Gives every node of a model its final, stable name (docs/language.md, "Node and parameter
 * names"). For a statement named {@code s}, the parts of its value are named like this:
 * <ul>
 *   <li>if exactly one part owns parameters it is {@code s}; if several do, they are
 *       {@code s.0}, {@code s.1}, ... in order; if none does, the last part is {@code s};</li>
 *   <li>the other parts are {@code s.<layer or block>}, with 2, 3, ... appended to repeats;</li>
 *   <li>a part that is a block call named {@code n} names its body's statements
 *       {@code n.<statement>} by these same rules, the parts of its {@code return} as if that
 *       were a statement named {@code n}, and its unnamed statements {@code n.<layer>};</li>
 *   <li>a repetition named {@code n} names its copies {@code n.0}, {@code n.1}, ..., each by
 *       these same rules.</li>
 * </ul>
 * An unnamed statement names each part {@code <prefix><layer or block>}. So
 * {@code layer1 = residual(64) * 2} gives {@code layer1.0.conv1.weight}, as in PyTorch.
 *
 * <p>Names chosen by rule (a statement name, an index) are taken before the automatic ones at
 * the same level, and automatic names skip every name already in use, so no two nodes share a
 * name. Block calls are recorded as {@link BlockCall}s on the way.
 */
final class NodeNames {
    private final Set<String> taken = new HashSet<>();
    private final Map<String, String> rename = new HashMap<>();
    private final Map<String, Integer> nextSuffix = new HashMap<>();

    /** Reserves a name the model uses for something else (an input, a statement name). */
    void reserve(String name) { taken.add(name); }

    /** The final name of a provisional node, or {@code name} itself when it is already final. */
    String finalName(String name) { return rename.getOrDefault(name, name); }

    /**
     * Names what a top-level statement (prefix "") or a block body statement (prefix
     * {@code "call."}, never empty for a {@code return}) made; nodes named directly are added to {@code nodes}, block calls to
     * {@code calls}.
     */
    void name(String prefix, Piece.Made statement, List<String> nodes, List<BlockCall> calls) {
        if (statement.result()) {
            sequence(prefix.substring(0, prefix.length() - 1), statement.pieces(), nodes, calls);
        } else if (statement.name() != null) {
            sequence(prefix + statement.name(), statement.pieces(), nodes, calls);
        } else {
            for (Piece p : statement.pieces()) assign(p, fresh(prefix + p.label()), nodes, calls);
        }
    }

    private void sequence(String s, List<Piece> pieces, List<String> nodes, List<BlockCall> calls) {
        String[] names = new String[pieces.size()];
        List<Integer> parametric = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) if (pieces.get(i).parametric()) parametric.add(i);
        if (parametric.size() == 1) names[parametric.get(0)] = s;
        else if (parametric.size() > 1) for (int k = 0; k < parametric.size(); k++) names[parametric.get(k)] = s + "." + k;
        else if (!pieces.isEmpty()) names[pieces.size() - 1] = s;
        // Names by rule first, with the names by rule inside them, so the automatic ones below
        // cannot take them (s.relu for a block statement 'relu' of a call named s).
        for (int i = 0; i < pieces.size(); i++) {
            if (names[i] == null) continue;
            taken.add(names[i]);
            reserveInside(pieces.get(i), names[i]);
        }
        List<String> order = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            if (names[i] == null) names[i] = fresh(s + "." + pieces.get(i).label());
            order.add(names[i]);
        }
        for (int i = 0; i < pieces.size(); i++) assign(pieces.get(i), order.get(i), nodes, calls);
    }

    private void assign(Piece piece, String name, List<String> nodes, List<BlockCall> calls) {
        taken.add(name);
        if (piece instanceof Piece.Layer layer) {
            rename.put(layer.provisional(), name);
            nodes.add(name);
        } else if (piece instanceof Piece.Expansion call) {
            reserveInside(call, name);
            List<String> inner = new ArrayList<>();
            List<BlockCall> innerCalls = new ArrayList<>();
            for (Piece.Made m : call.statements()) name(name + ".", m, inner, innerCalls);
            calls.add(new BlockCall(name, call.block(), call.site(), inner, innerCalls));
        } else {
            Piece.Repeat repeat = (Piece.Repeat) piece;
            reserveInside(repeat, name);
            for (int i = 0; i < repeat.copies().size(); i++) sequence(name + "." + i, repeat.copies().get(i), nodes, calls);
        }
    }

    /** Takes the names by rule directly inside a block call or repetition called {@code name}. */
    private void reserveInside(Piece piece, String name) {
        if (piece instanceof Piece.Expansion call) {
            for (Piece.Made m : call.statements()) if (m.name() != null) taken.add(name + "." + m.name());
        } else if (piece instanceof Piece.Repeat repeat) {
            for (int i = 0; i < repeat.copies().size(); i++) taken.add(name + "." + i);
        }
    }

    /**
     * {@code base}, or {@code base2}, {@code base3}... whichever is free first. Names are never
     * given back, so the search for a base resumes where it last stopped (a chain of n relus
     * costs n lookups, not n squared).
     */
    private String fresh(String base) {
        if (!taken.contains(base)) return take(base);
        int i = nextSuffix.getOrDefault(base, 2);
        while (taken.contains(base + i)) i++;
        nextSuffix.put(base, i + 1);
        return take(base + i);
    }

    private String take(String name) {
        taken.add(name);
        return name;
    }
}
