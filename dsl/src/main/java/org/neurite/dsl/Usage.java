package org.neurite.dsl;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.SourceSpan;

/**
 * Which defined values are ever read, for the "never used" warnings. A definition is keyed by
 * its place in the source, so a block's value is one definition however many times the block is
 * expanded, and is reported only if no expansion reads it (a conditional may use it in one call
 * and not in another).
 */
final class Usage {
    /** A named value, a model or block input, or an unnamed statement's result. */
    static final class Definition {
        private final SourceSpan span;
        private final String message;
        private boolean used;

        private Definition(SourceSpan span, String message) {
            this.span = span;
            this.message = message;
        }

        void markUsed() { used = true; }
    }

    private final Map<SourceSpan, Definition> definitions = new LinkedHashMap<>();

    /** The definition at {@code span}, created with the warning to give if nothing reads it. */
    Definition define(SourceSpan span, String unusedMessage) {
        return definitions.computeIfAbsent(span, s -> new Definition(s, unusedMessage));
    }

    /** One warning per definition nothing read, by file and position. */
    List<Diagnostic> warnings() {
        List<Diagnostic> out = new ArrayList<>();
        for (Definition d : definitions.values()) if (!d.used) out.add(Diagnostic.warning(d.span, d.message));
        out.sort(Comparator.comparing((Diagnostic d) -> d.span().file()).thenComparingInt(d -> d.span().line())
                .thenComparingInt(d -> d.span().column()));
        return out;
    }
}
