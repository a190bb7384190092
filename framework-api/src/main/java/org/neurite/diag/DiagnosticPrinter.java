package org.neurite.diag;

import java.util.List;
import java.util.function.Function;

/**
 * Renders diagnostics the way compilers do:
 * <pre>
 * lenet.nn:3:10: error: unknown layer 'conv3d'; did you mean 'conv'?
 *     c1 = conv3d(6, kernel=5)
 *          ^~~~~~
 * </pre>
 * The source text of each file is looked up through {@code sources}; when it is unavailable
 * only the headline is printed.
 */
public final class DiagnosticPrinter {
    private final Function<String, String> sources;

    public DiagnosticPrinter(Function<String, String> sources) {
        this.sources = sources;
    }

    public String render(List<Diagnostic> diagnostics) {
        StringBuilder out = new StringBuilder();
        for (Diagnostic d : diagnostics) render(d, out);
        return out.toString();
    }

    public String render(Diagnostic d) {
        StringBuilder out = new StringBuilder();
        render(d, out);
        return out.toString();
    }

    private void render(Diagnostic d, StringBuilder out) {
        out.append(d.headline()).append('\n');
        appendExcerpt(d.span(), out);
        for (Diagnostic note : d.notes()) render(note, out);
    }

    /** Code points of a source line shown at most; a longer line is shown around the culprit. */
    private static final int SHOWN = 200;
    /** Code points shown before the culprit when the line is cut on the left. */
    private static final int BEFORE = 60;

    private void appendExcerpt(SourceSpan span, StringBuilder out) {
        if (!span.isKnown()) return;
        String text = sources.apply(span.file());
        if (text == null) return;
        String line = lineOf(text, span.line());
        if (line == null || line.isBlank()) return;
        int[] cps = printable(line).codePoints().toArray();
        int col = Math.max(1, Math.min(span.column(), cps.length + 1));
        int width = span.endLine() == span.line() ? Math.max(1, span.endColumn() - span.column()) : 1;
        // A long line is cut to SHOWN code points: from its start when the culprit's head is in
        // them, else from a little before the culprit, so the caret always points at something.
        int from = cps.length <= SHOWN || col - 1 + Math.min(width, 20) <= SHOWN ? 0 : col - 1 - BEFORE;
        int to = Math.min(cps.length, from + SHOWN);
        String head = from > 0 ? "..." : "";
        String shown = head + new String(cps, from, to - from) + (to < cps.length ? "..." : "");
        int caret = head.length() + col - from;
        width = Math.max(1, Math.min(width, to - col + 2));
        out.append("    ").append(shown).append('\n');
        out.append("    ").append(" ".repeat(caret - 1)).append('^');
        if (width > 1) out.append("~".repeat(width - 1));
        out.append('\n');
    }

    private static String lineOf(String text, int lineNumber) {
        int start = 0;
        for (int i = 1; i < lineNumber; i++) {
            int nl = text.indexOf('\n', start);
            if (nl < 0) return null;
            start = nl + 1;
        }
        int end = text.indexOf('\n', start);
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }

    /** Tabs become spaces (so the caret lines up) and control characters become '?'. */
    private static String printable(String line) {
        StringBuilder sb = new StringBuilder(line.length());
        line.codePoints().forEach(cp -> {
            if (cp == '\t') sb.append(' ');
            else if (cp == '\r') { /* dropped */ }
            else if (Character.isISOControl(cp) || cp == 0xFFFD) sb.append('?');
            else sb.appendCodePoint(cp);
        });
        return sb.toString();
    }
}
