package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/** {@code train Model { key = value ... }}, settings in the order written. */
public record TrainDecl(String model, SourceSpan modelSpan, List<Setting> settings, SourceSpan span) {
    public TrainDecl {
        settings = List.copyOf(settings);
    }
}
