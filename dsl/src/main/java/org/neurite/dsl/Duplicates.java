package org.neurite.dsl;

import java.util.List;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;

/**
 * The one diagnostic shape every "defined twice" error shares: the error at the second
 * definition, a note at the first.
 */
final class Duplicates {
    private Duplicates() {}

    static Diagnostic diagnostic(SourceSpan second, String message, SourceSpan first, String note) {
        return Diagnostic.error(second, message).withNote(first, note);
    }

    static ModelException error(SourceSpan second, String message, SourceSpan first, String note) {
        return new ModelException(List.of(diagnostic(second, message, first, note)));
    }
}
