package org.neurite.dsl.parser;

import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.Token;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Chain;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.Operator;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.dsl.ast.Setting;
import org.neurite.dsl.ast.SourceFile;
import org.neurite.dsl.ast.Statement;
import org.neurite.dsl.ast.TrainDecl;
import org.neurite.dsl.parser.NNParser.ArgListContext;
import org.neurite.dsl.parser.NNParser.ArgumentContext;
import org.neurite.dsl.parser.NNParser.ExprContext;

/**
 * Walks a parse tree into the immutable AST of {@code org.neurite.dsl.ast}, attaching a
 * {@link SourceSpan} to every node and decoding literals (integer range, float range, string
 * escapes). The tree walk is plain recursion; expression depth is capped at
 * {@link #MAX_EXPRESSION_DEPTH} so that a pathological input such as a thousand chained
 * {@code +} ends in a diagnostic rather than a {@link StackOverflowError}.
 */
final class AstBuilder {
    static final int MAX_EXPRESSION_DEPTH = 200;

    private final String file;
    private final TokenSpans spans;
    private int depth;

    AstBuilder(String file, TokenSpans spans) {
        this.file = file;
        this.spans = spans;
    }

    SourceFile script(NNParser.ScriptContext ctx) {
        List<ModelDecl> models = new ArrayList<>();
        List<TrainDecl> trainings = new ArrayList<>();
        for (NNParser.DeclarationContext d : ctx.declaration()) {
            if (d.modelDecl() != null) models.add(model(d.modelDecl()));
            else if (d.trainDecl() != null) trainings.add(train(d.trainDecl()));
        }
        return new SourceFile(file, models, trainings);
    }

    private ModelDecl model(NNParser.ModelDeclContext ctx) {
        List<ParamDef> params = new ArrayList<>();
        if (ctx.paramList() != null) {
            for (NNParser.ParamContext p : ctx.paramList().param()) {
                params.add(new ParamDef(p.name.getText(), p.value == null ? null : expr(p.value), spans.of(p)));
            }
        }
        List<Statement> body = new ArrayList<>();
        for (NNParser.StatementContext s : ctx.statement()) {
            Statement statement = statement(s);
            if (statement != null) body.add(statement);
        }
        return new ModelDecl(ctx.name.getText(), spans.of(ctx.name), params, body, spans.of(ctx));
    }

    /** One statement, or null for a stray {@code ;}. */
    private Statement statement(NNParser.StatementContext ctx) {
        if (ctx instanceof NNParser.InputStatementContext in) {
            return new Statement.Input(in.name.getText(), spans.of(in.name), expr(in.shape), spans.of(in));
        }
        if (ctx instanceof NNParser.OutputStatementContext out) {
            return new Statement.Apply(out.name.getText(), spans.of(out.name), true, chain(out.chain()), spans.of(out));
        }
        if (ctx instanceof NNParser.AssignStatementContext assign) {
            return new Statement.Apply(assign.name.getText(), spans.of(assign.name), false, chain(assign.chain()),
                    spans.of(assign));
        }
        if (ctx instanceof NNParser.ChainStatementContext bare) {
            return new Statement.Apply(null, null, false, chain(bare.chain()), spans.of(bare));
        }
        return null;
    }

    private Chain chain(NNParser.ChainContext ctx) {
        List<Call> steps = new ArrayList<>();
        for (NNParser.StepContext step : ctx.step()) {
            boolean parenthesized = step.LPAREN() != null;
            steps.add(new Call(step.name.getText(), spans.of(step.name), arguments(step.argList()), parenthesized,
                    spans.of(step)));
        }
        return new Chain(steps, spans.of(ctx));
    }

    private List<Argument> arguments(ArgListContext ctx) {
        List<Argument> out = new ArrayList<>();
        if (ctx == null) return out;
        for (ArgumentContext a : ctx.argument()) {
            if (a instanceof NNParser.NamedArgumentContext named) {
                out.add(new Argument(named.name.getText(), spans.of(named.name), expr(named.value), spans.of(named)));
            } else {
                NNParser.PositionalArgumentContext positional = (NNParser.PositionalArgumentContext) a;
                SourceSpan span = spans.of(positional);
                out.add(new Argument(null, span, expr(positional.value), span));
            }
        }
        return out;
    }

    private TrainDecl train(NNParser.TrainDeclContext ctx) {
        List<Setting> settings = new ArrayList<>();
        for (NNParser.SettingContext s : ctx.setting()) {
            if (s instanceof NNParser.KeyValueSettingContext kv) {
                settings.add(new Setting(kv.key.getText(), spans.of(kv.key), expr(kv.value), spans.of(kv)));
            }
        }
        return new TrainDecl(ctx.model.getText(), spans.of(ctx.model), settings, spans.of(ctx));
    }

    private Expr expr(ExprContext ctx) {
        if (++depth > MAX_EXPRESSION_DEPTH) {
            depth = 0;
            throw new ModelException(spans.of(ctx.getStart()),
                    "expression is nested too deeply (more than " + MAX_EXPRESSION_DEPTH + " levels)");
        }
        try {
            return exprAt(ctx);
        } finally {
            depth--;
        }
    }

    private Expr exprAt(ExprContext ctx) {
        SourceSpan span = spans.of(ctx);
        if (ctx instanceof NNParser.IntExprContext) return intLiteral(ctx.getStart(), span);
        if (ctx instanceof NNParser.FloatExprContext) return floatLiteral(ctx.getStart(), span);
        if (ctx instanceof NNParser.StringExprContext) return new Expr.StringLiteral(unescape(ctx.getStart()), span);
        if (ctx instanceof NNParser.BoolExprContext b) return new Expr.BoolLiteral(b.value.getType() == NNParser.TRUE, span);
        if (ctx instanceof NNParser.NameExprContext n) return new Expr.Name(n.name.getText(), span);
        if (ctx instanceof NNParser.ParenExprContext p) return expr(p.inner);
        if (ctx instanceof NNParser.ListExprContext list) {
            List<Expr> elements = new ArrayList<>();
            for (ExprContext e : list.expr()) elements.add(expr(e));
            return new Expr.ListLiteral(elements, span);
        }
        if (ctx instanceof NNParser.UnaryExprContext u) {
            return new Expr.Unary(operator(u.op), expr(u.operand), span);
        }
        if (ctx instanceof NNParser.BinaryExprContext b) {
            return new Expr.Binary(operator(b.op), expr(b.left), expr(b.right), spans.of(b.op), span);
        }
        NNParser.CallExprContext call = (NNParser.CallExprContext) ctx;
        return new Call(call.name.getText(), spans.of(call.name), arguments(call.argList()), true, span);
    }

    private static Operator operator(Token op) {
        return switch (op.getType()) {
            case NNParser.PLUS -> Operator.PLUS;
            case NNParser.MINUS -> Operator.MINUS;
            case NNParser.STAR -> Operator.TIMES;
            default -> Operator.DIVIDE;
        };
    }

    private Expr intLiteral(Token token, SourceSpan span) {
        try {
            return new Expr.IntLiteral(Long.parseLong(token.getText()), span);
        } catch (NumberFormatException e) {
            throw new ModelException(span, "integer " + token.getText() + " is too large (the limit is " + Long.MAX_VALUE + ")");
        }
    }

    private Expr floatLiteral(Token token, SourceSpan span) {
        double value = Double.parseDouble(token.getText());
        if (Double.isInfinite(value)) throw new ModelException(span, "number " + token.getText() + " is too large");
        return new Expr.FloatLiteral(value, span);
    }

    /** The text between the quotes with {@code \" \\ \n \t} decoded; any other escape is an error. */
    private String unescape(Token token) {
        String text = token.getText();
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 1; i < text.length() - 1; i++) {
            char c = text.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            char next = text.charAt(++i);
            switch (next) {
                case '"' -> out.append('"');
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                case 't' -> out.append('\t');
                default -> {
                    int column = token.getCharPositionInLine() + text.codePointCount(0, i - 1) + 1;
                    throw new ModelException(new SourceSpan(file, token.getLine(), column, token.getLine(), column + 2),
                            "unknown escape '\\" + next + "' in string (use \\\" \\\\ \\n or \\t)");
                }
            }
        }
        return out.toString();
    }
}
