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

    private void appendExcerpt(SourceSpan span, StringBuilder out) {
        if (!span.isKnown()) return;
        String text = sources.apply(span.file());
        if (text == null) return;
        String line = lineOf(text, span.line());
        if (line == null || line.isBlank()) return;
        String shown = printable(line);
        out.append("    ").append(shown).append('\n');
        int col = Math.max(1, Math.min(span.column(), shown.length() + 1));
        int width = span.endLine() == span.line() ? Math.max(1, span.endColumn() - span.column()) : 1;
        width = Math.max(1, Math.min(width, shown.length() - col + 2));
        out.append("    ").append(" ".repeat(col - 1)).append('^');
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
        String line = end < 0 ? text.substring(start) : text.substring(start, end);
        if (line.length() > 200) line = line.substring(0, 200) + "...";
        return line;
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
