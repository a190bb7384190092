package org.neurite.diag;

import java.util.List;

/**
 * One message about a script or configuration, positioned at {@code span}, with optional notes
 * (for example the call sites that led into a block).
 */
public record Diagnostic(Severity severity, SourceSpan span, String message, List<Diagnostic> notes) {
    public Diagnostic {
        notes = List.copyOf(notes);
    }

    public static Diagnostic error(SourceSpan span, String message) {
        return new Diagnostic(Severity.ERROR, span, message, List.of());
    }

    public static Diagnostic warning(SourceSpan span, String message) {
        return new Diagnostic(Severity.WARNING, span, message, List.of());
    }

    /** This diagnostic (same position) with one more note at {@code noteSpan}. */
    public Diagnostic withNote(SourceSpan noteSpan, String noteMessage) {
        var all = new java.util.ArrayList<>(notes);
        all.add(new Diagnostic(Severity.NOTE, noteSpan, noteMessage, List.of()));
        return new Diagnostic(severity, span, message, all);
    }

    /** {@code file:line:col: error: message} — the first line of the rendered form. */
    public String headline() {
        return span + ": " + severity.label() + ": " + message;
    }
}
