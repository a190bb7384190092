package org.neurite.dsl;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * What evaluating a statement made, before anything has its final name: layer nodes (under
 * provisional names), block expansions and repetitions, in the order they were made. Final names
 * depend on the whole statement (which of its parts own parameters), so {@link NodeNames} gives
 * them once the top-level statement is complete.
 */
sealed interface Piece permits Piece.Layer, Piece.Expansion, Piece.Repeat {

    /** Whether this piece, or anything inside it, owns parameters. */
    boolean parametric();

    /** The word automatic names are made from: the layer's or the block's name. */
    String label();

    /** One layer node, known by {@code provisional} until named. */
    record Layer(String provisional, String layer, boolean parametric) implements Piece {
        @Override public String label() { return layer; }
    }

    /** One call of {@code block} at {@code site}: the statements its body made, in order. */
    record Expansion(String block, SourceSpan site, List<Made> statements, boolean parametric) implements Piece {
        public Expansion {
            statements = List.copyOf(statements);
        }

        static Expansion of(String block, SourceSpan site, List<Made> statements) {
            boolean parametric = statements.stream().anyMatch(Made::parametric);
            return new Expansion(block, site, statements, parametric);
        }

        @Override public String label() { return block; }
    }

    /** {@code step * n}: what each copy made, copy by copy. */
    record Repeat(String label, List<List<Piece>> copies, boolean parametric) implements Piece {
        public Repeat {
            copies = copies.stream().map(List::copyOf).toList();
        }

        static Repeat of(List<List<Piece>> copies) {
            String label = copies.isEmpty() || copies.get(0).isEmpty() ? "repeat" : copies.get(0).get(0).label();
            boolean parametric = copies.stream().flatMap(List::stream).anyMatch(Piece::parametric);
            return new Repeat(label, copies, parametric);
        }
    }

    /**
     * What one statement of a body made. {@code name} is null for an unnamed statement;
     * {@code result} marks a block's {@code return}, whose parts are named after the call itself.
     */
    record Made(String name, boolean result, List<Piece> pieces) {
        public Made {
            pieces = List.copyOf(pieces);
        }

        boolean parametric() {
            return pieces.stream().anyMatch(Piece::parametric);
        }
    }
}
