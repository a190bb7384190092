package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * {@code train Model { key = value ... }}, settings in the order written. {@code headerSpan} runs
 * from {@code train} to the opening brace.
 */
public record TrainDecl(String model, SourceSpan modelSpan, List<Setting> settings, SourceSpan headerSpan,
                        SourceSpan span) implements Declaration {
    public TrainDecl {
        settings = List.copyOf(settings);
    }
}
