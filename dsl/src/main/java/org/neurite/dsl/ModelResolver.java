package org.neurite.dsl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Operator;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.dsl.ast.Statement;
import org.neurite.graph.Graph;
import org.neurite.graph.GraphInput;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.tensor.Shape;

/**
 * Resolves one model into a shape-checked {@link TypedGraph}: evaluates each statement's value
 * expression, expanding block calls, repetitions and conditionals as it goes, and stops at the
 * first error. docs/language.md states the rules for users; in short:
 * <ul>
 *   <li>a value expression is a value name, a layer or block call, a chain
 *       {@code a -> f -> g}, a sum {@code a + b} (the {@code add} layer), a repetition
 *       {@code f * n} or a conditional {@code if c then a else b};</li>
 *   <li>a call's leading positional arguments that are value expressions are its inputs; a chain
 *       step also reads the step before it; a call with no input reads the previous statement's
 *       value (the last input at first);</li>
 *   <li>a block call evaluates the block's body in a new scope holding the block's parameters
 *       and inputs; errors inside it get a note at every call site that led there.</li>
 * </ul>
 *
 * <p>Every layer is shape-inferred as soon as it is made (through {@link TypedGraph#infer} on a
 * one-node graph, so messages match the engine's), because naming needs to know which parts own
 * parameters. Nodes carry provisional names until their top-level statement is complete, then
 * {@link NodeNames} gives the final ones. Expansion is bounded ({@link #MAX_NODES},
 * {@link #MAX_EXPANSIONS}, {@link #MAX_CALL_DEPTH}) so that {@code block * 1000000} or blocks
 * that double at every level end in a diagnostic, not in an hour of work or an
 * {@link OutOfMemoryError}.
 */
final class ModelResolver {
    /** Most layer nodes a model may expand to. */
    static final int MAX_NODES = 20_000;
    /** Most block calls and repetition copies a model may expand. */
    static final int MAX_EXPANSIONS = 100_000;
    /** Deepest nesting of block calls. */
    static final int MAX_CALL_DEPTH = 64;

    /** The resolved graph and the block calls its nodes came from. */
    record Result(TypedGraph graph, List<BlockCall> calls) {}

    /** A value in scope: the graph value it is and the definition to mark used when read. */
    private record Value(String node, Usage.Definition definition) {
        String read() {
            definition.markUsed();
            return node;
        }
    }

    /** The scope of one model or block body being evaluated. */
    private final class Frame {
        final Callee callee;
        /** Block calls that led here, innermost first; empty for the model's own statements. */
        final List<SourceSpan> callSites;
        final int depth;
        final Map<String, Object> params = new LinkedHashMap<>();
        final Map<String, SourceSpan> definedAt = new HashMap<>();
        final Map<String, Value> values = new LinkedHashMap<>();
        /** Names the body defines further down, for "used before it is defined". */
        final Map<String, SourceSpan> later = new HashMap<>();
        /** What a call without an explicit input reads: the last statement's value, or the last input. */
        Value previous;
        final ExpressionEvaluator evaluator = new ExpressionEvaluator(this::constant);

        Frame(Callee callee, List<SourceSpan> callSites, int depth) {
            this.callee = callee;
            this.callSites = List.copyOf(callSites);
            this.depth = depth;
            for (Expr.Name in : callee.inputNames()) later.putIfAbsent(in.name(), in.span());
            for (Statement s : callee.body()) {
                if (s instanceof Statement.Apply a && a.name() != null) later.putIfAbsent(a.name(), a.nameSpan());
            }
        }

        /** Bare names in constant expressions: parameters have values; value names do not. */
        Object constant(Expr.Name n) {
            Object v = params.get(n.name());
            if (v != null) return v;
            if (values.containsKey(n.name())) {
                throw new ModelException(n.span(), "'" + n.name() + "' is a value, not a number; a value can start a chain "
                        + "or be a layer's leading positional argument");
            }
            if (later.containsKey(n.name())) throw usedBeforeDefinition(n, later.get(n.name()));
            Set<String> candidates = new LinkedHashSet<>(params.keySet());
            candidates.addAll(values.keySet());
            List<String> close = LayerRegistry.closest(n.name(), candidates);
            throw new ModelException(n.span(), "undefined name '" + n.name() + "'"
                    + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
        }

        /** "model parameter" or "parameter of block 'b'", for messages about misused parameters. */
        String parameterWord(String name) {
            return callee.isBlock() ? "'" + name + "' is a parameter of block '" + callee.name() + "'"
                    : "'" + name + "' is a model parameter";
        }
    }

    private final LayerRegistry registry;
    private final Callee model;
    private final Usage usage;
    private final NodeNames names = new NodeNames();
    private final List<GraphInput> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    private final List<BlockCall> calls = new ArrayList<>();
    /** Provisional and final node names, and inputs, to their shapes (without batch). */
    private final Map<String, Shape> shapes = new HashMap<>();
    /** Nodes of the top-level statement being resolved, under provisional names, in the order made. */
    private final List<Node> pending = new ArrayList<>();
    private int provisionalCount;
    private int expansions;

    private ModelResolver(LayerRegistry registry, Callee model, Usage usage) {
        this.registry = registry;
        this.model = model;
        this.usage = usage;
    }

    /** @param usage collects which values are read, across the models of one script */
    static Result resolve(LayerRegistry registry, Callee model, Usage usage) {
        return new ModelResolver(registry, model, usage).resolve();
    }

    private Result resolve() {
        Frame f = new Frame(model, List.of(), 0);
        for (ParamDef p : model.params()) {
            define(f, p.name(), p.span());
            if (p.defaultValue() == null) {
                throw new ModelException(p.span(), "model parameter '" + p.name()
                        + "' needs a default value, e.g. '" + p.name() + " = 10'");
            }
        }
        BlockArguments.complete(model, Map.of(), f.evaluator, f.params);
        boolean hasInput = false;
        for (Statement s : model.body()) {
            if (s instanceof Statement.Input in) {
                names.reserve(in.name());
                hasInput = true;
            } else if (s instanceof Statement.Apply a && a.name() != null) {
                names.reserve(a.name());
            }
        }
        if (!hasInput) {
            throw new ModelException(model.nameSpan(), "model '" + model.name()
                    + "' has no input; declare one, e.g. 'input x: [1, 28, 28]'");
        }
        for (Statement s : model.body()) {
            if (s instanceof Statement.Input in) {
                topInput(f, in);
            } else if (s instanceof Statement.Apply a) {
                if (a.name() != null) define(f, a.name(), a.nameSpan());
                List<Piece> pieces = new ArrayList<>();
                String value = value(a.value(), f, pieces);
                names.name("", new Piece.Made(a.name(), false, pieces), new ArrayList<>(), calls);
                commitPending();
                Value v = bind(f, a, names.finalName(value));
                if (a.output()) outputs.add(v.read());
            }
        }
        if (outputs.isEmpty()) {
            throw new ModelException(model.nameSpan(), "model '" + model.name()
                    + "' has no output; mark one with 'output <name> = ...'");
        }
        Graph graph;
        try {
            graph = new Graph(model.name(), inputs, nodes, outputs);
        } catch (IllegalArgumentException e) {
            // NodeNames makes names unique by construction; this is the backstop if it ever does not.
            throw new ModelException(model.nameSpan(), "cannot build model '" + model.name() + "': " + e.getMessage());
        }
        return new Result(TypedGraph.infer(graph, registry), calls);
    }

    // ---- statements ----

    private void topInput(Frame f, Statement.Input in) {
        define(f, in.name(), in.nameSpan());
        Shape shape = inputShape(f, in);
        inputs.add(new GraphInput(in.name(), shape, in.span()));
        shapes.put(in.name(), shape);
        Value v = new Value(in.name(), usage.define(in.nameSpan(), "input '" + in.name() + "' is never used"));
        f.later.remove(in.name());
        f.values.put(in.name(), v);
        f.previous = v;
    }

    private Shape inputShape(Frame f, Statement.Input in) {
        Object value = f.evaluator.evaluate(in.shape());
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw new ModelException(in.shape().span(), "input shape must be a list of positive ints such as [1, 28, 28], got "
                    + ExpressionEvaluator.kind(value));
        }
        int[] dims = new int[list.size()];
        for (int i = 0; i < dims.length; i++) {
            Object d = list.get(i);
            SourceSpan at = in.shape() instanceof Expr.ListLiteral literal ? literal.elements().get(i).span() : in.shape().span();
            if (!(d instanceof Long l) || l < 1 || l > Integer.MAX_VALUE) {
                throw new ModelException(at, "input dimension must be a positive int, got " + describe(d));
            }
            dims[i] = l.intValue();
        }
        Shape shape = Shape.of(dims);
        if (shape.elementCount() > Integer.MAX_VALUE) {
            throw new ModelException(in.shape().span(), "input shape " + shape + " has more than 2^31-1 elements");
        }
        return shape;
    }

    /** Names the value of a finished statement in its frame and makes it the previous value. */
    private Value bind(Frame f, Statement.Apply a, String node) {
        Usage.Definition definition = a.name() != null
                ? usage.define(a.nameSpan(), "value '" + a.name() + "' is never used")
                : usage.define(a.span(), "the result of this statement is never used");
        Value v = new Value(node, definition);
        if (a.name() != null) {
            f.later.remove(a.name());
            f.values.put(a.name(), v);
        }
        f.previous = v;
        return v;
    }

    /** Gives the top-level statement's nodes their final names and adds them to the graph. */
    private void commitPending() {
        for (Node n : pending) {
            String name = names.finalName(n.name());
            List<String> in = n.inputs().stream().map(names::finalName).toList();
            nodes.add(new Node(name, n.layer(), n.args(), in, n.span(), n.callSites()));
            shapes.put(name, shapes.remove(n.name()));
        }
        pending.clear();
    }

    /**
     * Runs a block's body (or a called model's) in {@code f}, whose inputs are {@code in}, and
     * returns the value it gives back. What each statement made goes to {@code made}.
     */
    private String body(Frame f, List<String> in, List<Piece.Made> made) {
        Callee callee = f.callee;
        if (callee.isBlock()) {
            List<Expr.Name> inputNames = callee.inputNames();
            for (int i = 0; i < inputNames.size(); i++) {
                Expr.Name name = inputNames.get(i);
                define(f, name.name(), name.span());
                Value v = new Value(in.get(i), usage.define(name.span(), "input '" + name.name() + "' of block '"
                        + callee.name() + "' is never used"));
                f.later.remove(name.name());
                f.values.put(name.name(), v);
                f.previous = v;
            }
        } else {
            long outputCount = callee.body().stream().filter(s -> s instanceof Statement.Apply a && a.output()).count();
            if (outputCount != 1) {
                throw new ModelException(callee.nameSpan(), "model '" + callee.name() + "' has " + outputCount
                        + " outputs; a model called like a block needs exactly one");
            }
        }
        // The loader has checked the body's shape: a block has no input or output statements and
        // ends with its one return; a model has no return and, here, exactly one output.
        String result = null;
        int nextInput = 0;
        for (Statement s : callee.body()) {
            if (s instanceof Statement.Input input) {
                calledModelInput(f, input, in.get(nextInput++));
            } else if (s instanceof Statement.Apply a) {
                if (a.name() != null) define(f, a.name(), a.nameSpan());
                List<Piece> pieces = new ArrayList<>();
                String value = value(a.value(), f, pieces);
                made.add(new Piece.Made(a.name(), false, pieces));
                Value v = bind(f, a, value);
                if (a.output()) result = v.read();
            } else {
                List<Piece> pieces = new ArrayList<>();
                result = value(((Statement.Return) s).value(), f, pieces);
                made.add(new Piece.Made(null, true, pieces));
            }
        }
        return result;
    }

    /** An input statement of a model called like a block: the call's input, if its shape is the declared one. */
    private void calledModelInput(Frame f, Statement.Input in, String given) {
        define(f, in.name(), in.nameSpan());
        Shape declared = inputShape(f, in);
        Shape actual = shapes.get(given);
        if (!declared.equals(actual)) {
            throw new ModelException(in.span(), "model '" + f.callee.name() + "' expects input '" + in.name()
                    + "' of shape " + declared + ", got " + actual);
        }
        Value v = new Value(given, usage.define(in.nameSpan(), "input '" + in.name() + "' is never used"));
        f.later.remove(in.name());
        f.values.put(in.name(), v);
        f.previous = v;
    }

    // ---- value expressions ----

    /**
     * The graph value {@code e} denotes, with {@code f.previous} as the input of a call that
     * names none. What it makes is appended to {@code out}.
     */
    private String value(Expr e, Frame f, List<Piece> out) {
        if (e instanceof Expr.Name n) {
            Value v = f.values.get(n.name());
            if (v != null) return v.read();
            Object callee = callee(n.name(), f);
            if (callee != null) return apply(bare(n), callee, f, null, out);
            if (f.later.containsKey(n.name())) throw usedBeforeDefinition(n, f.later.get(n.name()));
            throw unknownCallee(n.name(), n.span(), f, true);
        }
        if (e instanceof Call c) return apply(c, calleeOrFail(c, f, false), f, null, out);
        if (e instanceof Expr.Chain chain) {
            String current = value(chain.steps().get(0), f, out);
            for (int i = 1; i < chain.steps().size(); i++) current = step(chain.steps().get(i), current, f, out);
            return current;
        }
        if (e instanceof Expr.Conditional c) return value(f.evaluator.condition(c.condition()) ? c.yes() : c.no(), f, out);
        if (e instanceof Expr.Binary b && (b.op() == Operator.PLUS || b.op() == Operator.MINUS) && isValue(b, f)) {
            return sum(b, f, out);
        }
        if (e instanceof Expr.Binary b && b.op() == Operator.TIMES) return repeat(b, f, null, out);
        throw notAValue(e);
    }

    /** One step after an arrow, reading {@code current}. */
    private String step(Expr e, String current, Frame f, List<Piece> out) {
        if (e instanceof Expr.Name n) e = bare(n);
        if (e instanceof Call c) {
            if (!c.parenthesized() && f.values.containsKey(c.name())) {
                throw new ModelException(c.nameSpan(), "'" + c.name() + "' is a value, not a layer; only the first step "
                        + "of a chain can name a value, without parentheses");
            }
            return apply(c, calleeOrFail(c, f, false), f, current, out);
        }
        if (e instanceof Expr.Binary b && b.op() == Operator.TIMES) return repeat(b, f, current, out);
        if (e instanceof Expr.Chain chain) {
            for (Expr s : chain.steps()) current = step(s, current, f, out);
            return current;
        }
        if (e instanceof Expr.Conditional c) return step(f.evaluator.condition(c.condition()) ? c.yes() : c.no(), current, f, out);
        throw new ModelException(e.span(), "expected a layer or block call after '->'");
    }

    /**
     * Applies a layer or block. {@code current} is the value a chain step reads (null at the
     * head of a chain); leading positional arguments that are value expressions are further
     * inputs; with none at all the call reads the previous value.
     */
    private String apply(Call c, Object callee, Frame f, String current, List<Piece> out) {
        List<String> in = new ArrayList<>();
        if (current != null) in.add(current);
        List<Argument> arguments = c.arguments();
        int k = 0;
        while (k < arguments.size() && !arguments.get(k).isNamed() && isValue(arguments.get(k).value(), f)) {
            in.add(value(arguments.get(k).value(), f, out));
            k++;
        }
        if (in.isEmpty()) {
            if (f.previous == null) {
                throw new ModelException(c.nameSpan(), "'" + c.name() + "' has no input: no value is defined before "
                        + "this statement (declare 'input x: [...]' first)");
            }
            in.add(f.previous.read());
        }
        List<Argument> rest = arguments.subList(k, arguments.size());
        if (callee instanceof Callee block) return expand(c, block, in, rest, f, out);
        LayerType type = (LayerType) callee;
        LayerArgs args = CallBinder.bind(c, rest, type.schema(), f.evaluator);
        return addLayer(type, args, in, c.span(), f, out);
    }

    /** {@code a + b + c}: one {@code add} node over every operand. */
    private String sum(Expr.Binary b, Frame f, List<Piece> out) {
        List<Expr> operands = new ArrayList<>();
        flattenSum(b, operands);
        LayerType add = registry.find("add").orElseThrow(() -> new ModelException(b.opSpan(),
                "'+' between values needs the 'add' layer, which no loaded plugin provides"));
        List<String> in = new ArrayList<>();
        for (Expr operand : operands) in.add(value(operand, f, out));
        Call call = new Call("add", b.opSpan(), List.of(), false, b.span());
        return addLayer(add, CallBinder.bind(call, List.of(), add.schema(), f.evaluator), in, b.span(), f, out);
    }

    private static void flattenSum(Expr e, List<Expr> operands) {
        if (e instanceof Expr.Binary b && b.op() == Operator.PLUS) {
            flattenSum(b.left(), operands);
            flattenSum(b.right(), operands);
        } else if (e instanceof Expr.Binary b && b.op() == Operator.MINUS) {
            throw new ModelException(b.opSpan(), "values cannot be subtracted; '+' (the add layer) is the only operator "
                    + "between values");
        } else {
            operands.add(e);
        }
    }

    /** {@code step * n}: n copies in sequence, the first reading {@code current} (or the previous value). */
    private String repeat(Expr.Binary b, Frame f, String current, List<Piece> out) {
        Expr body = b.left();
        if (body instanceof Expr.Name n && f.values.containsKey(n.name())) {
            throw new ModelException(n.span(), "a value cannot be repeated; repeat a layer or block call, e.g. "
                    + "'residual(64) * 2'");
        }
        if (!(body instanceof Call || body instanceof Expr.Name || body instanceof Expr.Chain
                || body instanceof Expr.Conditional)) {
            throw current == null ? notAValue(b)
                    : new ModelException(b.span(), "expected a layer or block call after '->'");
        }
        Object count = f.evaluator.evaluate(b.right());
        if (!(count instanceof Long n)) {
            throw new ModelException(b.right().span(), "repeat count must be an int, got " + ExpressionEvaluator.kind(count));
        }
        if (n < 1) throw new ModelException(b.right().span(), "repeat count must be at least 1, got " + n);
        if (n > MAX_NODES) {
            throw new ModelException(b.right().span(), "repeat count " + n + " is too large (a model has at most "
                    + String.format("%,d", MAX_NODES) + " layers)");
        }
        List<List<Piece>> copies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            countExpansion(b.span());
            List<Piece> copy = new ArrayList<>();
            current = i == 0 && current == null ? value(body, f, copy) : step(body, current, f, copy);
            copies.add(copy);
        }
        out.add(Piece.Repeat.of(copies));
        return current;
    }

    /** Expands one call of a block (or of a model called like one) into {@code out}; returns its result. */
    private String expand(Call c, Callee callee, List<String> in, List<Argument> arguments, Frame caller, List<Piece> out) {
        countExpansion(c.span());
        if (caller.depth >= MAX_CALL_DEPTH) {
            throw new ModelException(c.span(), "blocks are nested too deeply (more than " + MAX_CALL_DEPTH
                    + " calls inside each other)");
        }
        int expected = callee.inputNames().size();
        if (in.size() != expected) {
            throw new ModelException(c.nameSpan(), callee.kind() + " '" + callee.name() + "' takes " + expected + " input"
                    + (expected == 1 ? "" : "s") + ", got " + in.size());
        }
        Map<String, Object> given = BlockArguments.bind(c, callee, arguments, caller.evaluator);
        List<SourceSpan> sites = new ArrayList<>();
        sites.add(c.span());
        sites.addAll(caller.callSites);
        Frame f = new Frame(callee, sites, caller.depth + 1);
        try {
            for (ParamDef p : callee.params()) define(f, p.name(), p.span());
            BlockArguments.complete(callee, given, f.evaluator, f.params);
            List<Piece.Made> made = new ArrayList<>();
            String result = body(f, in, made);
            out.add(Piece.Expansion.of(callee.name(), c.span(), made));
            return result;
        } catch (ModelException e) {
            List<Diagnostic> noted = new ArrayList<>();
            for (Diagnostic d : e.diagnostics()) {
                noted.add(d.withNote(c.span(), "in " + callee.kind() + " '" + callee.name() + "' called from here"));
            }
            throw new ModelException(noted);
        }
    }

    /** Makes one layer node under a provisional name, shape-checked against its inputs. */
    private String addLayer(LayerType type, LayerArgs args, List<String> in, SourceSpan span, Frame f, List<Piece> out) {
        if (nodes.size() + pending.size() >= MAX_NODES) {
            throw new ModelException(span, "model '" + model.name() + "' is too large: more than "
                    + String.format("%,d", MAX_NODES) + " layers after expanding blocks");
        }
        Node node = new Node("#" + provisionalCount++, type.name(), args, in, span, f.callSites);
        TypedGraph typed = inferOne(node, type);
        shapes.put(node.name(), typed.shape(node.name()));
        pending.add(node);
        out.add(new Piece.Layer(node.name(), type.name(), !typed.params(node.name()).isEmpty()));
        return node.name();
    }

    /**
     * Shape inference for one node against the shapes of its inputs. The node is checked without
     * its call sites: the expansion adds a note per call, naming each block.
     */
    private TypedGraph inferOne(Node node, LayerType type) {
        List<GraphInput> known = new ArrayList<>();
        for (String in : new LinkedHashSet<>(node.inputs())) known.add(new GraphInput(in, shapes.get(in), SourceSpan.UNKNOWN));
        Node bare = new Node(node.name(), node.layer(), node.args(), node.inputs(), node.span());
        Graph single = new Graph(model.name(), known, List.of(bare), List.of(bare.name()));
        try {
            return TypedGraph.infer(single, registry);
        } catch (ModelException e) {
            throw e;
        } catch (RuntimeException e) {
            // A layer that fails with something other than ShapeException is still the script's problem to report.
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw TypedGraph.error(bare, type.name() + ": " + why);
        }
    }

    private void countExpansion(SourceSpan at) {
        if (++expansions > MAX_EXPANSIONS) {
            throw new ModelException(at, "model '" + model.name() + "' is too large: more than "
                    + String.format("%,d", MAX_EXPANSIONS) + " block calls and repeats after expanding");
        }
    }

    // ---- names ----

    /**
     * Whether {@code e}, as a leading argument, is an input rather than a constant: a value name,
     * a call, a chain, a sum of values, a repeated call, or a conditional with such a branch.
     */
    private boolean isValue(Expr e, Frame f) {
        if (e instanceof Expr.Name n) {
            return f.values.containsKey(n.name()) || (f.later.containsKey(n.name()) && callee(n.name(), f) == null);
        }
        if (e instanceof Call || e instanceof Expr.Chain) return true;
        if (e instanceof Expr.Binary b && (b.op() == Operator.PLUS || b.op() == Operator.MINUS)) {
            return isValue(b.left(), f) || isValue(b.right(), f);
        }
        if (e instanceof Expr.Binary b && b.op() == Operator.TIMES) return b.left() instanceof Call || b.left() instanceof Expr.Chain;
        if (e instanceof Expr.Conditional c) return isValue(c.yes(), f) || isValue(c.no(), f);
        return false;
    }

    /** The block or model (first) or layer called {@code name} where {@code f}'s body is written, or null. */
    private Object callee(String name, Frame f) {
        Callee block = f.callee.scope().find(name);
        if (block != null) return block;
        return registry.find(name).orElse(null);
    }

    private Object calleeOrFail(Call c, Frame f, boolean couldBeValue) {
        Object callee = callee(c.name(), f);
        if (callee != null) return callee;
        throw unknownCallee(c.name(), c.nameSpan(), f, couldBeValue);
    }

    private ModelException unknownCallee(String name, SourceSpan span, Frame f, boolean couldBeValue) {
        if (f.values.containsKey(name)) {
            return new ModelException(span, "'" + name + "' is a value, not a layer; only the first step of a chain can "
                    + "name a value, without parentheses");
        }
        if (f.params.containsKey(name)) return new ModelException(span, f.parameterWord(name) + ", not a layer");
        Set<String> candidates = new LinkedHashSet<>(registry.names());
        candidates.addAll(f.callee.scope().callees().keySet());
        if (couldBeValue) candidates.addAll(f.values.keySet());
        List<String> close = LayerRegistry.closest(name, candidates);
        return new ModelException(span, (couldBeValue ? "unknown layer or value '" : "unknown layer '") + name + "'"
                + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
    }

    /** A literal, a list or arithmetic where the graph needs a value (a bare parameter name is an unknown layer). */
    private static ModelException notAValue(Expr e) {
        return new ModelException(e.span(), "expected a layer, a block or a value here, not a constant");
    }

    private static ModelException usedBeforeDefinition(Expr.Name use, SourceSpan definition) {
        return new ModelException(List.of(Diagnostic.error(use.span(), "'" + use.name() + "' is used before it is defined")
                .withNote(definition, "'" + use.name() + "' is defined here")));
    }

    private static Call bare(Expr.Name n) {
        return new Call(n.name(), n.span(), List.of(), false, n.span());
    }

    private static void define(Frame f, String name, SourceSpan span) {
        SourceSpan first = f.definedAt.putIfAbsent(name, span);
        if (first != null) {
            throw Duplicates.error(span, "duplicate name '" + name + "'", first, "'" + name + "' is first defined here");
        }
    }

    private static String describe(Object v) {
        return v instanceof List<?> ? "a list" : ExpressionEvaluator.kind(v) + " " + v;
    }
}
