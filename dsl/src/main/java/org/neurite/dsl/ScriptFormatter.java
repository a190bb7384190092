package org.neurite.dsl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.neurite.dsl.parser.ScriptParser;

/**
 * The canonical text of a script, what {@code nn fmt} prints and checkpoints hash: one
 * statement or setting per line, four spaces per level, one space around {@code =} and binary
 * operators but none in named arguments ({@code kernel=5}), the brackets precedence needs and no
 * others, a blank line between top-level sections, at most one blank line kept inside a body,
 * and a chain longer than {@value #WIDTH} columns broken before an arrow, continuation lines
 * indented one more level. It depends only on the syntax: no layer registry is needed, and a
 * script with semantic errors formats as well as a correct one.
 *
 * <p>Comments are kept, attached to what they describe: a comment on its own lines belongs to
 * the statement (or section, or closing brace) after it; a comment after code on a line belongs
 * to the last statement ending on that line and stays at its end, aligned with the trailing
 * comments of the lines around it; a comment inside a statement that spans lines (or inside a
 * section header) moves to the lines just before that statement, keeping its order. Formatting
 * checks itself before answering: its result must parse, hold the same comments in the same
 * order, and format to itself. If not, it refuses with a diagnostic instead of changing the
 * file.
 */
public final class ScriptFormatter {
    /** Lines longer than this break their top-level chain before an arrow. */
    public static final int WIDTH = 100;
    private static final String INDENT = "    ";

    private ScriptFormatter() {}

    /** The canonical text of {@code source}; {@code file} names it in diagnostics. */
    public static String format(String file, String source) throws ModelException {
        SourceFile ast = ScriptParser.parse(file, SourceText.withoutByteOrderMark(source));
        String canonical = new Layout(ast).render();
        SourceFile again;
        try {
            again = ScriptParser.parse(file, canonical);
        } catch (ModelException e) {
            throw refusal(file, "its canonical form would not parse (" + e.diagnostics().get(0).message() + ")");
        }
        if (!texts(again.comments()).equals(texts(ast.comments()))) {
            throw refusal(file, "a comment would be lost or reordered");
        }
        if (!new Layout(again).render().equals(canonical)) {
            throw refusal(file, "its canonical form would not be stable");
        }
        return canonical;
    }

    /** Reads {@code file} as strict UTF-8 and returns its canonical text. */
    public static String format(Path file) throws IOException, ModelException {
        String name = file.toString();
        String why = SourceText.unreadable(file);
        if (why != null) throw new ModelException(SourceSpan.at(name, 1, 1), "cannot read " + name + " as a script: " + why);
        String source = SourceText.decode(name, Files.readAllBytes(file), (f, text) -> { });
        return format(name, source);
    }

    private static ModelException refusal(String file, String why) {
        return new ModelException(SourceSpan.at(file, 1, 1), "cannot format " + file + " safely: " + why
                + "; the file is left as it is (please report this)");
    }

    private static List<String> texts(List<Comment> comments) {
        return comments.stream().map(Comment::text).toList();
    }

    // ---- layout: the script as a sequence of line items, comments attached by position ----

    /** What a line item is, for blank-line rules. */
    private enum Kind { USE, OPEN, LINE, CLOSE }

    /**
     * One unit of output: a {@code use}, a section header, a statement or setting (possibly
     * broken over several lines) or a closing brace, with the source lines it came from.
     */
    private static final class Item {
        final Kind kind;
        final int depth;
        final int startLine;
        final int endLine;
        final List<String> lines;
        final List<Comment> leading = new ArrayList<>();
        final List<Comment> hoisted = new ArrayList<>();
        Comment trailing;

        Item(Kind kind, int depth, SourceSpan span, List<String> lines) {
            this.kind = kind;
            this.depth = depth;
            this.startLine = span.line();
            this.endLine = span.endLine();
            this.lines = lines;
        }

        /** Where its own-line comments are indented: a closing brace's are inside its body. */
        int commentDepth() { return kind == Kind.CLOSE ? depth + 1 : depth; }
    }

    /** One output line: code (with indentation) and an optional trailing comment. */
    private record Line(String code, String comment) {
        static final Line BLANK = new Line("", null);
    }

    private static final class Layout {
        private final SourceFile ast;
        private final List<Item> items = new ArrayList<>();
        private final List<Comment> fileTrailing = new ArrayList<>();

        Layout(SourceFile ast) {
            this.ast = ast;
            for (Declaration d : ast.declarations()) declaration(d);
            attach(ast.comments());
        }

        private void declaration(Declaration d) {
            if (d instanceof Declaration.Use use) {
                items.add(new Item(Kind.USE, 0, use.span(), List.of("use " + Printer.string(use.path()))));
            } else if (d instanceof ModelDecl m) {
                String params = m.params().isEmpty() ? "" : Printer.params(m.params());
                items.add(new Item(Kind.OPEN, 0, m.headerSpan(), List.of("model " + m.name() + params + " {")));
                for (int i = 0; i < m.body().size(); i++) statement(m.body().get(i), i == 0);
                close(m.span());
            } else if (d instanceof BlockDecl b) {
                List<String> inputs = b.inputs().stream().map(Expr.Name::name).toList();
                items.add(new Item(Kind.OPEN, 0, b.headerSpan(), List.of("block " + b.name() + Printer.params(b.params())
                        + "(" + String.join(", ", inputs) + ") {")));
                for (int i = 0; i < b.body().size(); i++) statement(b.body().get(i), i == 0);
                close(b.span());
            } else {
                TrainDecl t = (TrainDecl) d;
                items.add(new Item(Kind.OPEN, 0, t.headerSpan(), List.of("train " + t.model() + " {")));
                for (Setting s : t.settings()) {
                    items.add(new Item(Kind.LINE, 1, s.span(), breakLines(INDENT + s.key() + " = ", s.value())));
                }
                close(t.span());
            }
        }

        /**
         * A statement's lines. An unnamed one whose text starts with a bracket or a sign would
         * continue the line before it ({@code a = relu} then {@code (x -> tanh) + a} reads as
         * {@code relu(x -> tanh) + a}), so unless it opens its body it is written after a
         * {@code ;}.
         */
        private void statement(Statement s, boolean first) {
            List<String> lines;
            if (s instanceof Statement.Input in) {
                lines = List.of(INDENT + "input " + in.name() + ": " + Printer.print(in.shape(), 0));
            } else if (s instanceof Statement.Return r) {
                lines = breakLines(INDENT + "return ", r.value());
            } else {
                Statement.Apply a = (Statement.Apply) s;
                String head = a.name() != null ? (a.output() ? "output " : "") + a.name() + " = "
                        : !first && "([+-".indexOf(Printer.print(a.value(), 0).charAt(0)) >= 0 ? ";" : "";
                lines = breakLines(INDENT + head, a.value());
            }
            items.add(new Item(Kind.LINE, 1, s.span(), lines));
        }

        private void close(SourceSpan declaration) {
            SourceSpan brace = new SourceSpan(declaration.file(), declaration.endLine(), declaration.endColumn() - 1,
                    declaration.endLine(), declaration.endColumn());
            items.add(new Item(Kind.CLOSE, 0, brace, List.of("}")));
        }

        /**
         * {@code prefix + value} on one line, or, when that is longer than {@link #WIDTH} and the
         * value is a chain (or a conditional whose else branch is one), broken before arrows.
         */
        private static List<String> breakLines(String prefix, Expr value) {
            String flat = prefix + Printer.print(value, 0);
            if (flat.length() <= WIDTH) return List.of(flat);
            String lead = prefix;
            Expr chainExpr = value;
            if (value instanceof Expr.Conditional c && c.no() instanceof Expr.Chain) {
                lead = prefix + "if " + Printer.print(c.condition(), 1) + " then " + Printer.print(c.yes(), 1) + " else ";
                chainExpr = c.no();
            }
            if (!(chainExpr instanceof Expr.Chain chain)) return List.of(flat);
            String continuation = prefix.substring(0, prefix.length() - prefix.stripLeading().length()) + INDENT + "-> ";
            List<String> lines = new ArrayList<>();
            StringBuilder line = new StringBuilder(lead).append(Printer.print(chain.steps().get(0), Printer.PIPE + 1));
            for (int i = 1; i < chain.steps().size(); i++) {
                String step = Printer.step(chain.steps().get(i));
                if (line.length() + " -> ".length() + step.length() > WIDTH) {
                    lines.add(line.toString());
                    line = new StringBuilder(continuation).append(step);
                } else {
                    line.append(" -> ").append(step);
                }
            }
            lines.add(line.toString());
            return lines;
        }

        /** Gives every comment to an item: trailing, hoisted out of a statement, or leading. */
        private void attach(List<Comment> comments) {
            Map<Integer, Item> lastEndingOn = new HashMap<>();
            for (Item item : items) lastEndingOn.put(item.endLine, item);
            int next = 0;
            for (Comment c : comments) {
                int line = c.span().line();
                Item trailing = lastEndingOn.get(line);
                if (trailing != null && trailing.trailing == null) {
                    trailing.trailing = c;
                    continue;
                }
                while (next < items.size() && items.get(next).endLine < line) next++;
                if (next < items.size() && items.get(next).startLine <= line && line < items.get(next).endLine) {
                    items.get(next).hoisted.add(c);
                } else if (next < items.size()) {
                    // The first item ending at or after this line starts after it: the comment leads it.
                    items.get(next).leading.add(c);
                } else {
                    fileTrailing.add(c);
                }
            }
        }

        String render() {
            List<Line> out = new ArrayList<>();
            Item previous = null;
            int previousEnd = 0;
            for (Item item : items) {
                int first = item.leading.isEmpty() ? item.startLine : item.leading.get(0).span().line();
                boolean gap = previous != null && first > previousEnd + 1;
                if (previous != null && blankBefore(previous, item, gap)) out.add(Line.BLANK);
                String commentIndent = INDENT.repeat(item.commentDepth());
                int last = -1;
                for (Comment c : item.leading) {
                    if (last >= 0 && c.span().line() > last + 1) out.add(Line.BLANK);
                    out.add(new Line(commentIndent + c.text(), null));
                    last = c.span().line();
                }
                if (last >= 0 && item.startLine > last + 1 && item.kind != Kind.CLOSE) out.add(Line.BLANK);
                for (Comment c : item.hoisted) out.add(new Line(INDENT.repeat(item.depth) + c.text(), null));
                for (int i = 0; i < item.lines.size(); i++) {
                    String code = item.kind == Kind.LINE ? item.lines.get(i) : INDENT.repeat(item.depth) + item.lines.get(i);
                    boolean lastLine = i == item.lines.size() - 1;
                    out.add(new Line(code, lastLine && item.trailing != null ? item.trailing.text() : null));
                }
                previous = item;
                previousEnd = item.endLine;
            }
            int last = previousEnd;
            for (Comment c : fileTrailing) {
                if (!out.isEmpty() && c.span().line() > last + 1) out.add(Line.BLANK);
                out.add(new Line(c.text(), null));
                last = c.span().line();
            }
            return join(align(out));
        }

        /** Whether a blank line separates {@code item} from the item before it. */
        private static boolean blankBefore(Item previous, Item item, boolean gap) {
            if (previous.kind == Kind.OPEN) return false;
            if (item.kind == Kind.CLOSE) return gap && !item.leading.isEmpty();
            boolean topLevel = item.kind == Kind.USE || item.kind == Kind.OPEN;
            if (topLevel && previous.kind == Kind.USE && item.kind == Kind.USE) return gap;
            if (topLevel) return true;
            return gap;
        }

        /** Trailing comments on consecutive lines start in one column, two spaces after the longest code. */
        private static List<Line> align(List<Line> lines) {
            List<Line> out = new ArrayList<>(lines);
            int i = 0;
            while (i < out.size()) {
                if (out.get(i).comment() == null) {
                    i++;
                    continue;
                }
                int j = i;
                int width = 0;
                while (j < out.size() && out.get(j).comment() != null) width = Math.max(width, out.get(j++).code().length());
                for (int k = i; k < j; k++) {
                    Line l = out.get(k);
                    out.set(k, new Line(l.code() + " ".repeat(width - l.code().length() + 2), l.comment()));
                }
                i = j;
            }
            return out;
        }

        private static String join(List<Line> lines) {
            StringBuilder sb = new StringBuilder();
            for (Line l : lines) {
                String text = l.comment() == null ? l.code() : l.code() + l.comment();
                sb.append(text.stripTrailing()).append('\n');
            }
            return sb.toString();
        }
    }

    // ---- expressions ----

    /**
     * Prints expressions with the brackets the grammar's precedence needs: each level of
     * NN.g4's expression rules has a number, and an operand printed where a tighter level is
     * expected is bracketed.
     */
    static final class Printer {
        static final int CONDITIONAL = 0;
        static final int OR = 1;
        static final int AND = 2;
        static final int NOT = 3;
        static final int COMPARISON = 4;
        static final int SUM = 5;
        static final int PIPE = 6;
        static final int PRODUCT = 7;
        static final int SIGN = 8;
        static final int PRIMARY = 9;

        private Printer() {}

        /** {@code e} as it would parse back at a place that expects level {@code min} or tighter. */
        static String print(Expr e, int min) {
            String text = raw(e);
            return level(e) < min ? "(" + text + ")" : text;
        }

        static int level(Expr e) {
            if (e instanceof Expr.Conditional) return CONDITIONAL;
            if (e instanceof Expr.Chain) return PIPE;
            if (e instanceof Expr.Unary u) return u.op() == Operator.NOT ? NOT : SIGN;
            if (e instanceof Expr.Binary b) {
                return switch (b.op()) {
                    case OR -> OR;
                    case AND -> AND;
                    case PLUS, MINUS -> SUM;
                    case TIMES, DIVIDE -> PRODUCT;
                    default -> COMPARISON;
                };
            }
            return PRIMARY;
        }

        private static String raw(Expr e) {
            if (e instanceof Expr.IntLiteral i) return Long.toString(i.value());
            if (e instanceof Expr.FloatLiteral f) return f.text();
            if (e instanceof Expr.BoolLiteral b) return Boolean.toString(b.value());
            if (e instanceof Expr.StringLiteral s) return string(s.value());
            if (e instanceof Expr.Name n) return n.name();
            if (e instanceof Expr.ListLiteral list) {
                List<String> parts = list.elements().stream().map(x -> print(x, CONDITIONAL)).toList();
                return "[" + String.join(", ", parts) + "]";
            }
            if (e instanceof Call c) return call(c);
            if (e instanceof Expr.Conditional c) {
                return "if " + print(c.condition(), OR) + " then " + print(c.yes(), OR) + " else " + print(c.no(), CONDITIONAL);
            }
            if (e instanceof Expr.Chain chain) {
                StringBuilder sb = new StringBuilder(print(chain.steps().get(0), PIPE + 1));
                for (int i = 1; i < chain.steps().size(); i++) sb.append(" -> ").append(step(chain.steps().get(i)));
                return sb.toString();
            }
            if (e instanceof Expr.Unary u) {
                if (u.op() == Operator.NOT) return "not " + print(u.operand(), NOT);
                boolean signed = u.operand() instanceof Expr.Unary inner && inner.op() != Operator.NOT;
                return u.op().symbol() + (signed ? "(" + raw(u.operand()) + ")" : print(u.operand(), SIGN));
            }
            Expr.Binary b = (Expr.Binary) e;
            int level = level(b);
            if (level == COMPARISON) {
                return operand(b.left(), SUM) + " " + b.op().symbol() + " " + operand(b.right(), SUM);
            }
            return operand(b.left(), level) + " " + b.op().symbol() + " " + operand(b.right(), level + 1);
        }

        /**
         * An operand of a binary operator. A chain inside a sum or comparison is bracketed although
         * {@code ->} binds tighter: {@code a + (b -> f)} printed as {@code a + b -> f} would read
         * as the opposite.
         */
        private static String operand(Expr e, int min) {
            return e instanceof Expr.Chain ? "(" + raw(e) + ")" : print(e, min);
        }

        /** A chain step after an arrow: a call, a repeated call, or a bracketed expression. */
        static String step(Expr e) {
            if (e instanceof Call c) return call(c);
            if (e instanceof Expr.Name n) return n.name();
            if (e instanceof Expr.Binary b && b.op() == Operator.TIMES) {
                String body = b.left() instanceof Call c ? call(c) : "(" + raw(b.left()) + ")";
                return body + " * " + print(b.right(), SIGN);
            }
            return "(" + raw(e) + ")";
        }

        private static String call(Call c) {
            if (!c.parenthesized()) return c.name();
            List<String> args = new ArrayList<>();
            for (Argument a : c.arguments()) {
                String value = print(a.value(), CONDITIONAL);
                args.add(a.isNamed() ? a.name() + "=" + value : value);
            }
            return c.name() + "(" + String.join(", ", args) + ")";
        }

        static String params(List<ParamDef> params) {
            List<String> out = new ArrayList<>();
            for (ParamDef p : params) {
                String text = p.name() + (p.type() == null ? "" : ": " + p.type());
                if (p.defaultValue() != null) text += " = " + print(p.defaultValue(), CONDITIONAL);
                out.add(text);
            }
            return "(" + String.join(", ", out) + ")";
        }

        /** A string literal with the escapes the lexer reads back. */
        static String string(String value) {
            StringBuilder sb = new StringBuilder("\"");
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\t' -> sb.append("\\t");
                    default -> sb.append(c);
                }
            }
            return sb.append('"').toString();
        }
    }
}
