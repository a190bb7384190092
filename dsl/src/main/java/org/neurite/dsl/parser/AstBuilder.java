package org.neurite.dsl.parser;

import java.util.ArrayList;
import java.util.List;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.Token;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.BlockDecl;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Comment;
import org.neurite.dsl.ast.Declaration;
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

/**
 * Walks a parse tree into the immutable AST of {@code org.neurite.dsl.ast}, attaching a
 * {@link SourceSpan} to every node and decoding literals (integer range, float range, string
 * escapes). Operator runs ({@code a + b + c}) fold into left-nested {@link Expr.Binary} trees
 * and arrow runs into one flat {@link Expr.Chain}. The AST is walked recursively later (by the
 * evaluator, the resolver, the formatter), so its depth is capped at
 * {@link #MAX_EXPRESSION_DEPTH}: a thousand chained {@code +} ends in a diagnostic rather than
 * a {@link StackOverflowError}.
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

    SourceFile script(NNParser.ScriptContext ctx, List<Comment> comments) {
        List<Declaration> declarations = new ArrayList<>();
        for (NNParser.DeclarationContext d : ctx.declaration()) {
            if (d.useDecl() != null) declarations.add(use(d.useDecl()));
            else if (d.modelDecl() != null) declarations.add(model(d.modelDecl()));
            else if (d.blockDecl() != null) declarations.add(block(d.blockDecl()));
            else if (d.trainDecl() != null) declarations.add(train(d.trainDecl()));
        }
        return new SourceFile(file, declarations, comments);
    }

    private Declaration.Use use(NNParser.UseDeclContext ctx) {
        return new Declaration.Use(unescape(ctx.path), spans.of(ctx.path), spans.of(ctx));
    }

    private ModelDecl model(NNParser.ModelDeclContext ctx) {
        List<ParamDef> params = ctx.paramList() == null ? List.of() : params(ctx.paramList());
        return new ModelDecl(ctx.name.getText(), spans.of(ctx.name), params, body(ctx.statement()),
                spans.between(ctx.getStart(), ctx.LBRACE().getSymbol()), spans.of(ctx));
    }

    private BlockDecl block(NNParser.BlockDeclContext ctx) {
        List<Expr.Name> inputs = new ArrayList<>();
        for (var id : ctx.inputList().ID()) inputs.add(new Expr.Name(id.getText(), spans.of(id.getSymbol())));
        return new BlockDecl(ctx.name.getText(), spans.of(ctx.name), params(ctx.paramList()), inputs,
                body(ctx.statement()), spans.between(ctx.getStart(), ctx.LBRACE().getSymbol()), spans.of(ctx));
    }

    private List<ParamDef> params(NNParser.ParamListContext ctx) {
        List<ParamDef> params = new ArrayList<>();
        for (NNParser.ParamContext p : ctx.param()) {
            params.add(new ParamDef(p.name.getText(), p.type == null ? null : p.type.getText(),
                    p.type == null ? null : spans.of(p.type), p.value == null ? null : expr(p.value), spans.of(p)));
        }
        return params;
    }

    private List<Statement> body(List<NNParser.StatementContext> statements) {
        List<Statement> body = new ArrayList<>();
        for (NNParser.StatementContext s : statements) {
            Statement statement = statement(s);
            if (statement != null) body.add(statement);
        }
        return body;
    }

    /** One statement, or null for a stray {@code ;}. */
    private Statement statement(NNParser.StatementContext ctx) {
        if (ctx instanceof NNParser.InputStatementContext in) {
            return new Statement.Input(in.name.getText(), spans.of(in.name), expr(in.shape), spans.of(in));
        }
        if (ctx instanceof NNParser.OutputStatementContext out) {
            return new Statement.Apply(out.name.getText(), spans.of(out.name), true, expr(out.value), spans.of(out));
        }
        if (ctx instanceof NNParser.ReturnStatementContext ret) {
            return new Statement.Return(expr(ret.value), spans.of(ret));
        }
        if (ctx instanceof NNParser.AssignStatementContext assign) {
            return new Statement.Apply(assign.name.getText(), spans.of(assign.name), false, expr(assign.value),
                    spans.of(assign));
        }
        if (ctx instanceof NNParser.ExprStatementContext bare) {
            return new Statement.Apply(null, null, false, expr(bare.value), spans.of(bare));
        }
        return null;
    }

    private TrainDecl train(NNParser.TrainDeclContext ctx) {
        List<Setting> settings = new ArrayList<>();
        for (NNParser.SettingContext s : ctx.setting()) {
            if (s instanceof NNParser.KeyValueSettingContext kv) {
                settings.add(new Setting(kv.key.getText(), spans.of(kv.key), expr(kv.value), spans.of(kv)));
            }
        }
        return new TrainDecl(ctx.model.getText(), spans.of(ctx.model), settings,
                spans.between(ctx.getStart(), ctx.LBRACE().getSymbol()), spans.of(ctx));
    }

    // ---- expressions, one method per grammar level ----

    private Expr expr(NNParser.ExprContext ctx) {
        if (ctx instanceof NNParser.ConditionalExprContext c) {
            enter(1, c);
            try {
                return new Expr.Conditional(expr(c.cond), expr(c.yes), expr(c.no), spans.of(c));
            } finally {
                leave(1);
            }
        }
        return disjunction(((NNParser.PlainExprContext) ctx).disjunction());
    }

    private Expr disjunction(NNParser.DisjunctionContext ctx) {
        List<NNParser.ConjunctionContext> parts = ctx.conjunction();
        enter(parts.size() - 1, ctx);
        try {
            Expr result = conjunction(parts.get(0));
            for (int i = 1; i < parts.size(); i++) {
                result = binary(Operator.OR, result, conjunction(parts.get(i)), ctx.OR(i - 1).getSymbol());
            }
            return result;
        } finally {
            leave(parts.size() - 1);
        }
    }

    private Expr conjunction(NNParser.ConjunctionContext ctx) {
        List<NNParser.NegationContext> parts = ctx.negation();
        enter(parts.size() - 1, ctx);
        try {
            Expr result = negation(parts.get(0));
            for (int i = 1; i < parts.size(); i++) {
                result = binary(Operator.AND, result, negation(parts.get(i)), ctx.AND(i - 1).getSymbol());
            }
            return result;
        } finally {
            leave(parts.size() - 1);
        }
    }

    private Expr negation(NNParser.NegationContext ctx) {
        if (ctx instanceof NNParser.NotExprContext not) {
            enter(1, not);
            try {
                return new Expr.Unary(Operator.NOT, negation(not.negation()), spans.of(not));
            } finally {
                leave(1);
            }
        }
        return comparison(((NNParser.PlainNegationContext) ctx).comparison());
    }

    private Expr comparison(NNParser.ComparisonContext ctx) {
        if (ctx.op == null) return sum(ctx.sum(0));
        enter(1, ctx);
        try {
            return binary(operator(ctx.op), sum(ctx.sum(0)), sum(ctx.sum(1)), ctx.op);
        } finally {
            leave(1);
        }
    }

    private Expr sum(NNParser.SumContext ctx) {
        List<NNParser.PipeContext> parts = ctx.pipe();
        enter(parts.size() - 1, ctx);
        try {
            Expr result = pipe(parts.get(0));
            for (int i = 1; i < parts.size(); i++) {
                Token op = ctx.ops.get(i - 1);
                result = binary(operator(op), result, pipe(parts.get(i)), op);
            }
            return result;
        } finally {
            leave(parts.size() - 1);
        }
    }

    /** {@code head -> step -> ...} as one flat {@link Expr.Chain}; bracketed chains inside are flattened. */
    private Expr pipe(NNParser.PipeContext ctx) {
        Expr head = product(ctx.product());
        if (ctx.step().isEmpty()) return head;
        enter(1, ctx);
        try {
            List<Expr> steps = new ArrayList<>();
            addFlattened(steps, head);
            for (NNParser.StepContext s : ctx.step()) addFlattened(steps, step(s));
            return new Expr.Chain(steps, spans.of(ctx));
        } finally {
            leave(1);
        }
    }

    private static void addFlattened(List<Expr> steps, Expr e) {
        if (e instanceof Expr.Chain chain) steps.addAll(chain.steps());
        else steps.add(e);
    }

    private Expr step(NNParser.StepContext ctx) {
        Expr body = ctx.call() != null ? call(ctx.call()) : expr(ctx.inner);
        if (ctx.count == null) return body;
        enter(1, ctx);
        try {
            return binary(Operator.TIMES, body, unary(ctx.count), ctx.STAR().getSymbol());
        } finally {
            leave(1);
        }
    }

    private Call call(NNParser.CallContext ctx) {
        boolean parenthesized = ctx.LPAREN() != null;
        return new Call(ctx.name.getText(), spans.of(ctx.name), arguments(ctx.argList()), parenthesized, spans.of(ctx));
    }

    private Expr product(NNParser.ProductContext ctx) {
        List<NNParser.UnaryContext> parts = ctx.unary();
        enter(parts.size() - 1, ctx);
        try {
            Expr result = unary(parts.get(0));
            for (int i = 1; i < parts.size(); i++) {
                Token op = ctx.ops.get(i - 1);
                result = binary(operator(op), result, unary(parts.get(i)), op);
            }
            return result;
        } finally {
            leave(parts.size() - 1);
        }
    }

    private Expr unary(NNParser.UnaryContext ctx) {
        if (ctx instanceof NNParser.SignExprContext sign) {
            enter(1, sign);
            try {
                return new Expr.Unary(operator(sign.op), unary(sign.unary()), spans.of(sign));
            } finally {
                leave(1);
            }
        }
        return primary(((NNParser.PlainUnaryContext) ctx).primary());
    }

    private Expr primary(NNParser.PrimaryContext ctx) {
        SourceSpan span = spans.of(ctx);
        if (ctx instanceof NNParser.IntExprContext) return intLiteral(ctx.getStart(), span);
        if (ctx instanceof NNParser.FloatExprContext) return floatLiteral(ctx.getStart(), span);
        if (ctx instanceof NNParser.StringExprContext) return new Expr.StringLiteral(unescape(ctx.getStart()), span);
        if (ctx instanceof NNParser.BoolExprContext b) return new Expr.BoolLiteral(b.value.getType() == NNParser.TRUE, span);
        if (ctx instanceof NNParser.NameExprContext n) return new Expr.Name(n.name.getText(), span);
        if (ctx instanceof NNParser.ParenExprContext p) return expr(p.inner);
        if (ctx instanceof NNParser.ListExprContext list) {
            enter(1, list);
            try {
                List<Expr> elements = new ArrayList<>();
                for (NNParser.ExprContext e : list.expr()) elements.add(expr(e));
                return new Expr.ListLiteral(elements, span);
            } finally {
                leave(1);
            }
        }
        NNParser.CallExprContext call = (NNParser.CallExprContext) ctx;
        enter(1, call);
        try {
            return new Call(call.name.getText(), spans.of(call.name), arguments(call.argList()), true, span);
        } finally {
            leave(1);
        }
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

    private Expr.Binary binary(Operator op, Expr left, Expr right, Token opToken) {
        SourceSpan l = left.span();
        SourceSpan r = right.span();
        return new Expr.Binary(op, left, right, spans.of(opToken),
                new SourceSpan(file, l.line(), l.column(), r.endLine(), r.endColumn()));
    }

    /** Counts {@code levels} more AST levels below this point; past the cap, a diagnostic at {@code at}. */
    private void enter(int levels, ParserRuleContext at) {
        depth += levels;
        if (depth > MAX_EXPRESSION_DEPTH) {
            depth = 0;
            throw new ModelException(spans.of(at.getStart()),
                    "expression is nested too deeply (more than " + MAX_EXPRESSION_DEPTH + " levels)");
        }
    }

    private void leave(int levels) {
        depth = Math.max(0, depth - levels);
    }

    private static Operator operator(Token op) {
        return switch (op.getType()) {
            case NNParser.PLUS -> Operator.PLUS;
            case NNParser.MINUS -> Operator.MINUS;
            case NNParser.STAR -> Operator.TIMES;
            case NNParser.SLASH -> Operator.DIVIDE;
            case NNParser.EQ -> Operator.EQ;
            case NNParser.NE -> Operator.NE;
            case NNParser.LT -> Operator.LT;
            case NNParser.LE -> Operator.LE;
            case NNParser.GT -> Operator.GT;
            case NNParser.GE -> Operator.GE;
            default -> throw new IllegalStateException("not an operator token: " + op.getText());
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
        String mantissa = token.getText().split("[eE]")[0];
        if (value == 0 && mantissa.chars().anyMatch(c -> c >= '1' && c <= '9')) {
            // 1e-999 is not 0: reading it as 0 would, say, train with a learning rate of 0 without a word.
            throw new ModelException(span, "number " + token.getText() + " is too small (it would be 0; the smallest is "
                    + Double.MIN_VALUE + ")");
        }
        return new Expr.FloatLiteral(value, token.getText(), span);
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
