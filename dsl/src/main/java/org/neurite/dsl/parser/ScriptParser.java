package org.neurite.dsl.parser;

import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Comment;
import org.neurite.dsl.ast.SourceFile;

/**
 * Text to AST: the only way into the ANTLR-generated code, and nothing generated leaves this
 * package. Three checks run before the grammar sees the text, each turning input that would
 * confuse or crash a parser into one clear diagnostic:
 * <ol>
 *   <li>control characters (NUL and friends mean a binary file, not a script);</li>
 *   <li>bracket nesting deeper than {@link #MAX_NESTING}, runs of more than
 *       {@link #MAX_NESTING} signs ({@code - - not - 1}) and more than {@link #MAX_NESTING}
 *       {@code if}s in one expression, which the recursive-descent parser would follow into a
 *       {@link StackOverflowError}; and sums of more than
 *       {@link AstBuilder#MAX_EXPRESSION_DEPTH} terms, which the AST would refuse anyway but
 *       which full-context prediction (below) would first spend seconds on;</li>
 *   <li>the first syntax error, through {@link SyntaxErrorReporter} (ANTLR's console listeners
 *       are removed).</li>
 * </ol>
 *
 * <p>Parsing runs in two stages, as Trino's parser does. A sign may start a statement, so after
 * every term of a statement-level sum ({@code output y = a + b + c}) the grammar is ambiguous
 * between "the sum goes on" and "a new statement {@code +b} starts"; full-context (LL)
 * prediction settles that by looking ahead at every {@code +}, about 2 ms a term. SLL
 * prediction takes the first alternative (the sum goes on, as the language says) at once and
 * gives LL's tree whenever it succeeds. So the first stage is SLL; only a script it rejects is
 * parsed again with LL, which either finds the tree SLL missed or reports the syntax error
 * exactly as a single LL pass would.
 */
public final class ScriptParser {
    /** Deepest bracket nesting accepted; real models use three or four levels. */
    public static final int MAX_NESTING = 64;

    private ScriptParser() {}

    /** Parses {@code source}, naming {@code file} in every span; comments come with the AST. */
    public static SourceFile parse(String file, String source) throws ModelException {
        checkCharacters(file, source);
        TokenSpans spans = new TokenSpans(file);
        NNLexer lexer = new NNLexer(CharStreams.fromString(source, file));
        lexer.removeErrorListeners();
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        SyntaxErrorReporter reporter = new SyntaxErrorReporter(spans, tokens);
        lexer.addErrorListener(reporter);
        tokens.fill();
        checkNesting(spans, tokens);
        NNParser parser = new NNParser(tokens);
        parser.removeErrorListeners();
        parser.addErrorListener(reporter);
        NNParser.ScriptContext tree;
        parser.getInterpreter().setPredictionMode(PredictionMode.SLL);
        try {
            tree = parser.script();
        } catch (ModelException sllFailed) {
            tokens.seek(0);
            parser.reset();
            parser.getInterpreter().setPredictionMode(PredictionMode.LL);
            tree = parser.script();
        }
        List<Comment> comments = new ArrayList<>();
        for (Token t : tokens.getTokens()) {
            if (t.getType() == NNLexer.COMMENT) comments.add(new Comment(t.getText().stripTrailing(), spans.of(t)));
        }
        return new AstBuilder(file, spans).script(tree, comments);
    }

    /**
     * Rejects control characters other than tab, CR, LF and form feed. A NUL byte gets its own
     * message because it almost always means a binary file was passed by mistake.
     */
    private static void checkCharacters(String file, String source) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < source.length(); ) {
            int cp = source.codePointAt(i);
            if (cp == '\n') {
                line++;
                column = 1;
            } else {
                boolean allowed = cp == '\t' || cp == '\r' || cp == '\f' || !Character.isISOControl(cp);
                if (!allowed) {
                    SourceSpan span = new SourceSpan(file, line, column, line, column + 1);
                    if (cp == 0) throw new ModelException(span, "file contains a NUL byte; this is binary data, not a .nn script");
                    throw new ModelException(span, String.format("unexpected control character U+%04X", cp));
                }
                column++;
            }
            i += Character.charCount(cp);
        }
    }

    private static void checkNesting(TokenSpans spans, CommonTokenStream tokens) {
        int depth = 0;
        int signs = 0;
        int ifs = 0;
        SumTerms sums = new SumTerms(spans);
        for (Token t : tokens.getTokens()) {
            switch (t.getType()) {
                case NNLexer.LPAREN, NNLexer.LBRACK, NNLexer.LBRACE -> depth++;
                case NNLexer.RPAREN, NNLexer.RBRACK, NNLexer.RBRACE -> depth = Math.max(0, depth - 1);
                default -> { }
            }
            switch (t.getType()) {
                case NNLexer.PLUS, NNLexer.MINUS, NNLexer.NOT -> signs++;
                case NNLexer.COMMENT -> { }
                default -> signs = 0;
            }
            // An `if` nests until its expression ends, which the token stream does not mark; a
            // statement or argument boundary is a safe place to start counting again.
            switch (t.getType()) {
                case NNLexer.IF -> ifs++;
                case NNLexer.SEMI, NNLexer.ASSIGN, NNLexer.LBRACE, NNLexer.RBRACE, NNLexer.COMMA -> ifs = 0;
                default -> { }
            }
            if (depth > MAX_NESTING) {
                throw new ModelException(spans.of(t), "brackets are nested too deeply (more than " + MAX_NESTING + " levels)");
            }
            if (signs > MAX_NESTING) {
                throw new ModelException(spans.of(t), "too many signs in a row (more than " + MAX_NESTING + ")");
            }
            if (ifs > MAX_NESTING) {
                throw new ModelException(spans.of(t), "too many nested 'if's (more than " + MAX_NESTING + " in one expression)");
            }
            sums.see(t, depth);
        }
    }

    /**
     * Counts the binary {@code +} and {@code -} of one sum, per bracket level. Each is one level
     * of the left-nested tree {@link AstBuilder} builds, so a sum of more than
     * {@link AstBuilder#MAX_EXPRESSION_DEPTH} terms is refused here with AstBuilder's own message
     * and position (the sum's first token), before the parser spends time on it. A count starts
     * again wherever a sum cannot go on: a bracket, a statement or argument boundary, a keyword,
     * a comparison, {@code and}/{@code or}, or an operand right after an operand (the next
     * statement). A sign after an operator is unary; runs of those are counted as signs above.
     */
    private static final class SumTerms {
        private final TokenSpans spans;
        private final int[] operators = new int[MAX_NESTING + 2];
        private final Token[] first = new Token[MAX_NESTING + 2];
        private boolean afterOperand;

        SumTerms(TokenSpans spans) {
            this.spans = spans;
        }

        /** {@code t} at bracket level {@code depth} (at most {@link #MAX_NESTING}: deeper was refused before). */
        void see(Token t, int depth) {
            int type = t.getType();
            if (type == NNLexer.COMMENT) return;
            boolean boundary = endsSum(type);
            if (boundary || (afterOperand && startsOperand(type))) {
                operators[depth] = 0;
                first[depth] = null;
            }
            if (!boundary && first[depth] == null) first[depth] = t;
            if ((type == NNLexer.PLUS || type == NNLexer.MINUS) && afterOperand
                    && ++operators[depth] > AstBuilder.MAX_EXPRESSION_DEPTH) {
                throw new ModelException(spans.of(first[depth]), "expression is nested too deeply (more than "
                        + AstBuilder.MAX_EXPRESSION_DEPTH + " levels)");
            }
            afterOperand = switch (type) {
                case NNLexer.ID, NNLexer.INT, NNLexer.FLOAT, NNLexer.STRING, NNLexer.TRUE, NNLexer.FALSE, NNLexer.RPAREN,
                     NNLexer.RBRACK -> true;
                default -> false;
            };
        }

        private static boolean endsSum(int type) {
            return switch (type) {
                case NNLexer.LPAREN, NNLexer.LBRACK, NNLexer.LBRACE, NNLexer.RBRACE, NNLexer.SEMI, NNLexer.ASSIGN,
                     NNLexer.COMMA, NNLexer.COLON, NNLexer.MODEL, NNLexer.BLOCK, NNLexer.TRAIN, NNLexer.USE, NNLexer.INPUT,
                     NNLexer.OUTPUT, NNLexer.RETURN, NNLexer.IF, NNLexer.THEN, NNLexer.ELSE, NNLexer.AND, NNLexer.OR,
                     NNLexer.EQ, NNLexer.NE, NNLexer.LT, NNLexer.LE, NNLexer.GT, NNLexer.GE -> true;
                default -> false;
            };
        }

        private static boolean startsOperand(int type) {
            return switch (type) {
                case NNLexer.ID, NNLexer.INT, NNLexer.FLOAT, NNLexer.STRING, NNLexer.TRUE, NNLexer.FALSE, NNLexer.NOT -> true;
                default -> false;
            };
        }
    }
}
