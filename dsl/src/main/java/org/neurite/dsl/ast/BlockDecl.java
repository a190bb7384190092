package org.neurite.dsl.ast;

import java.util.List;
import org.neurite.diag.SourceSpan;

/**
 * {@code block name(params)(inputs) { statements; return value }}: a reusable piece of graph,
 * expanded at every call. {@code inputs} are the names the body reads the call's input values
 * by. {@code span} runs from {@code block} to the closing brace, {@code headerSpan} to the
 * opening one.
 */
public record BlockDecl(String name, SourceSpan nameSpan, List<ParamDef> params, List<Expr.Name> inputs,
                        List<Statement> body, SourceSpan headerSpan, SourceSpan span) implements Declaration {
    public BlockDecl {
        params = List.copyOf(params);
        inputs = List.copyOf(inputs);
        body = List.copyOf(body);
    }
}
