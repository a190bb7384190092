package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * {@code model Name(params) { statements }}. {@code span} runs from {@code model} to the closing
 * brace, {@code headerSpan} to the opening one; {@code nameSpan} is where "model has no
 * output"-style messages point.
 */
public record ModelDecl(String name, SourceSpan nameSpan, List<ParamDef> params, List<Statement> body,
                        SourceSpan headerSpan, SourceSpan span) implements Declaration {
    public ModelDecl {
        params = List.copyOf(params);
        body = List.copyOf(body);
    }
}
