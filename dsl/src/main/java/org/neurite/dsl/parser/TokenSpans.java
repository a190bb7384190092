package org.neurite.dsl.parser;

import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.neurite.diag.SourceSpan;

/**
 * Converts ANTLR positions (1-based line, 0-based column in code points, inclusive stop index)
 * into {@link SourceSpan}s (1-based line and column, exclusive end), so that the caret the
 * {@code DiagnosticPrinter} draws covers exactly the token or rule that is wrong.
 */
final class TokenSpans {
    private final String file;

    TokenSpans(String file) {
        this.file = file;
    }

    SourceSpan of(Token token) {
        int column = token.getCharPositionInLine() + 1;
        return new SourceSpan(file, token.getLine(), column, token.getLine(), column + length(token));
    }

    /** The one-column span at an ANTLR position (0-based column). */
    SourceSpan at(int line, int column) {
        return new SourceSpan(file, line, column + 1, line, column + 2);
    }

    /** From the first token of {@code ctx} to the end of its last token. */
    SourceSpan of(ParserRuleContext ctx) {
        return between(ctx.getStart(), ctx.getStop());
    }

    SourceSpan between(Token start, Token stop) {
        SourceSpan first = of(start);
        if (stop == null || stop.getTokenIndex() < start.getTokenIndex()) return first;
        SourceSpan last = of(stop);
        return new SourceSpan(file, first.line(), first.column(), last.endLine(), last.endColumn());
    }

    /** A one-column span just after {@code token}: where "the file ends here" errors point. */
    SourceSpan after(Token token) {
        SourceSpan span = of(token);
        return new SourceSpan(file, span.endLine(), span.endColumn(), span.endLine(), span.endColumn() + 1);
    }

    /** Width in code points; tokens never span lines (strings stop at the end of a line). */
    private static int length(Token token) {
        if (token.getType() == Token.EOF) return 1;
        return Math.max(1, token.getStopIndex() - token.getStartIndex() + 1);
    }
}
