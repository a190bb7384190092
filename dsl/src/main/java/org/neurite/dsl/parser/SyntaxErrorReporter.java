package org.neurite.dsl.parser;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.TokenStream;
import org.antlr.v4.runtime.misc.IntervalSet;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.LayerRegistry;

/**
 * Turns the parser's first syntax error into a {@link ModelException} in Trino's style,
 * {@code mismatched input '}'. Expecting: <expression>}, instead of ANTLR's token-name soup.
 *
 * <p>The expected-token set is shortened for people: the tokens that can start an
 * expression become {@code <expression>}; infix operators, {@code ';'} and end-of-file are left
 * out when something more useful is expected; token names become {@code <identifier>},
 * {@code <integer>}... A file that ends (or meets a new {@code model}, {@code block},
 * {@code train} or {@code use}) inside an open bracket gets "unclosed '{'" at that bracket, since
 * that is where the fix goes. Parsing stops at the first error: later ones are usually echoes of
 * it.
 */
final class SyntaxErrorReporter extends BaseErrorListener {
    /** What can start an operand; {@code not} and {@code if}, when also expected, fold in too. */
    private static final int[] EXPRESSION_START = {
        NNParser.MINUS, NNParser.PLUS, NNParser.LPAREN, NNParser.LBRACK, NNParser.ID,
        NNParser.INT, NNParser.FLOAT, NNParser.STRING, NNParser.TRUE, NNParser.FALSE};
    private static final int[] EXPRESSION_KEYWORDS = {NNParser.NOT, NNParser.IF};
    private static final int[] INFIX = {NNParser.STAR, NNParser.SLASH, NNParser.PLUS, NNParser.MINUS, NNParser.ARROW,
        NNParser.EQ, NNParser.NE, NNParser.LT, NNParser.LE, NNParser.GT, NNParser.GE, NNParser.AND, NNParser.OR};
    private static final int MAX_SHOWN_TOKEN = 24;

    private final TokenSpans spans;
    private final TokenStream tokens;

    SyntaxErrorReporter(TokenSpans spans, TokenStream tokens) {
        this.spans = spans;
        this.tokens = tokens;
    }

    @Override
    public void syntaxError(Recognizer<?, ?> recognizer, Object offendingSymbol, int line, int column,
                            String antlrMessage, RecognitionException e) {
        if (!(recognizer instanceof Parser parser) || !(offendingSymbol instanceof Token offending)) {
            // The lexer has a catch-all rule, so this only happens if the grammar changes.
            throw new ModelException(spans.at(line, column), antlrMessage);
        }
        throw diagnostic(parser, offending, e);
    }

    private ModelException diagnostic(Parser parser, Token offending, RecognitionException e) {
        switch (offending.getType()) {
            case NNParser.ERROR_CHAR:
                return new ModelException(spans.of(offending), "unexpected character " + quoteChar(offending.getText()));
            case NNParser.UNTERMINATED_STRING:
                return new ModelException(spans.of(offending), "unterminated string (a string ends on the line it starts)");
            default:
                break;
        }
        IntervalSet expected = expectedTokens(parser, e);
        boolean endsInside = offending.getType() == Token.EOF
                || (startsSection(offending.getType()) && expected.contains(NNParser.RBRACE));
        if (endsInside) {
            Token open = innermostUnclosed(offending.getTokenIndex());
            if (open != null) {
                String close = closerOf(open.getType());
                String why = offending.getType() == Token.EOF
                        ? "the file ends before its closing '" + close + "'"
                        : "a new '" + offending.getText() + "' starts at line " + offending.getLine() + " before the closing '"
                          + close + "'";
                return new ModelException(spans.of(open), "unclosed '" + open.getText() + "' (" + why + ")");
            }
        }
        List<String> shown = describe(expected);
        String headline = offending.getType() == Token.EOF
                ? "unexpected end of file"
                : "mismatched input " + quoteToken(offending.getText());
        StringBuilder message = new StringBuilder(headline);
        if (!shown.isEmpty()) message.append(". Expecting: ").append(String.join(", ", shown));
        if (offending.getType() == NNParser.ID) {
            List<String> keywords = new ArrayList<>();
            for (int type : expected.toList()) {
                String literal = NNParser.VOCABULARY.getLiteralName(type);
                if (literal != null && Character.isLetter(literal.charAt(1))) keywords.add(literal.substring(1, literal.length() - 1));
            }
            List<String> close = LayerRegistry.closest(offending.getText(), keywords);
            if (!close.isEmpty()) message.append("; did you mean '").append(close.get(0)).append("'?");
        }
        return new ModelException(spanOf(offending), message.toString());
    }

    private static boolean startsSection(int type) {
        return type == NNParser.MODEL || type == NNParser.BLOCK || type == NNParser.TRAIN || type == NNParser.USE;
    }

    private SourceSpan spanOf(Token offending) {
        if (offending.getType() != Token.EOF) return spans.of(offending);
        Token last = lastRealToken(offending.getTokenIndex());
        return last == null ? spans.of(offending) : spans.after(last);
    }

    private static IntervalSet expectedTokens(Parser parser, RecognitionException e) {
        try {
            if (e != null && e.getExpectedTokens() != null) return e.getExpectedTokens();
            return parser.getExpectedTokens();
        } catch (IllegalArgumentException | IllegalStateException ignored) {
            // No ATN state to ask (does not happen for errors raised by the generated parser).
            return new IntervalSet();
        }
    }

    /** The expected set in words, {@code <expression>} first, then tokens in grammar order. */
    static List<String> describe(IntervalSet expected) {
        IntervalSet remaining = new IntervalSet(expected);
        List<String> out = new ArrayList<>();
        if (containsAll(remaining, EXPRESSION_START)) {
            out.add("<expression>");
            for (int t : EXPRESSION_START) remaining.remove(t);
            for (int t : EXPRESSION_KEYWORDS) remaining.remove(t);
        }
        // After a complete operand the grammar also accepts an operator; that is never the fix.
        IntervalSet operators = new IntervalSet();
        for (int t : INFIX) if (remaining.contains(t)) operators.add(t);
        if (!operators.isNil() && remaining.size() > operators.size()) {
            for (int t : INFIX) remaining.remove(t);
        }
        if (remaining.size() + out.size() > 1) {
            remaining.remove(NNParser.SEMI);
            remaining.remove(Token.EOF);
        }
        for (int t : remaining.toList()) out.add(tokenName(t));
        return out;
    }

    private static boolean containsAll(IntervalSet set, int[] types) {
        for (int t : types) if (!set.contains(t)) return false;
        return true;
    }

    private static String tokenName(int type) {
        switch (type) {
            case Token.EOF: return "<end of file>";
            case NNParser.ID: return "<identifier>";
            case NNParser.INT: return "<integer>";
            case NNParser.FLOAT: return "<float>";
            case NNParser.STRING: return "<string>";
            default:
                String literal = NNParser.VOCABULARY.getLiteralName(type);
                return literal != null ? literal : NNParser.VOCABULARY.getDisplayName(type);
        }
    }

    /** The innermost bracket opened before token {@code limit} and not closed before it. */
    private Token innermostUnclosed(int limit) {
        Deque<Token> open = new ArrayDeque<>();
        for (int i = 0; i < limit; i++) {
            Token t = tokens.get(i);
            switch (t.getType()) {
                case NNParser.LPAREN, NNParser.LBRACK, NNParser.LBRACE -> open.push(t);
                case NNParser.RPAREN, NNParser.RBRACK, NNParser.RBRACE -> {
                    if (!open.isEmpty() && closerOf(open.peek().getType()).equals(t.getText())) open.pop();
                }
                default -> { }
            }
        }
        return open.peek();
    }

    private static String closerOf(int openType) {
        return switch (openType) {
            case NNParser.LPAREN -> ")";
            case NNParser.LBRACK -> "]";
            default -> "}";
        };
    }

    private Token lastRealToken(int before) {
        for (int i = before - 1; i >= 0; i--) {
            Token t = tokens.get(i);
            if (t.getType() != Token.EOF && t.getChannel() == Token.DEFAULT_CHANNEL) return t;
        }
        return null;
    }

    private static String quoteToken(String text) {
        String shown = text.length() > MAX_SHOWN_TOKEN ? text.substring(0, MAX_SHOWN_TOKEN) + "..." : text;
        return "'" + shown + "'";
    }

    /** {@code '@'}, or {@code U+00A0} for characters that would not show up in a terminal. */
    static String quoteChar(String text) {
        int cp = text.codePointAt(0);
        if (Character.isISOControl(cp) || Character.isWhitespace(cp) || Character.isSpaceChar(cp)
                || Character.getType(cp) == Character.FORMAT || cp == 0xFFFD) {
            return String.format("U+%04X", cp);
        }
        return "'" + text + "'";
    }
}
