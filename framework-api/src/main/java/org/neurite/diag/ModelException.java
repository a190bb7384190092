package org.neurite.diag;

import java.util.List;

/**
 * Bad user input (a script, a configuration, a data or weight file) with positioned
 * diagnostics. The CLI prints them and exits with status 2; it never shows a stack trace.
 */
public class ModelException extends RuntimeException {
    private final List<Diagnostic> diagnostics;

    public ModelException(List<Diagnostic> diagnostics) {
        super(diagnostics.isEmpty() ? "invalid model" : diagnostics.get(0).headline());
        this.diagnostics = List.copyOf(diagnostics);
    }

    public ModelException(SourceSpan span, String message) {
        this(List.of(Diagnostic.error(span, message)));
    }

    public List<Diagnostic> diagnostics() { return diagnostics; }
}
