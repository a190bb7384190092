package org.neurite.dsl;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.ModelDecl;
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
 * Resolves one {@link ModelDecl} against a {@link LayerRegistry} into a shape-checked
 * {@link TypedGraph}, statement by statement, stopping at the first error.
 *
 * <p>Each layer is shape-inferred as soon as it is built (through {@link TypedGraph#infer} on a
 * one-node graph, so messages match the engine's), because naming needs to know which layers
 * own parameters: in {@code s = a -> b -> c} the single parametric layer is called {@code s}
 * (so its weight is {@code s.weight}); with several, they are {@code s.0}, {@code s.1}...;
 * parameter-free layers are {@code s.<layer>} ({@code s.relu}, {@code s.relu2}), except that a
 * chain with no parametric layer gives {@code s} to its last node. Unnamed statements name each
 * node after its layer ({@code dense}, {@code dense2}). The value a statement name refers to is
 * always the chain's last node, kept in {@link #values} whatever that node is called.
 * docs/language.md states the same rules for users.
 */
final class ModelResolver {
    private final LayerRegistry registry;
    private final ModelDecl model;
    private final Evaluator evaluator = new Evaluator(this::lookup);

    /** Model parameters in scope, evaluated. */
    private final Map<String, Object> params = new LinkedHashMap<>();
    /** Every name the script defines (parameters, inputs, statement names), for duplicate checks. */
    private final Map<String, SourceSpan> definedAt = new HashMap<>();
    /** Value name as written → graph value (an input or a node name). */
    private final Map<String, String> values = new LinkedHashMap<>();
    /** Graph value → shape without batch. */
    private final Map<String, Shape> shapes = new HashMap<>();
    /** Graph value names in use or reserved for a named statement further down. */
    private final Set<String> taken = new HashSet<>();
    private final List<GraphInput> inputs = new ArrayList<>();
    private final List<Node> nodes = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();
    /** The value a chain without an explicit input reads: the last statement's, or the last input. */
    private String previous;
    private int provisionalCount;

    private ModelResolver(LayerRegistry registry, ModelDecl model) {
        this.registry = registry;
        this.model = model;
    }

    static TypedGraph resolve(LayerRegistry registry, ModelDecl model) {
        return new ModelResolver(registry, model).resolve();
    }

    private TypedGraph resolve() {
        for (ParamDef p : model.params()) parameter(p);
        boolean hasInput = false;
        for (Statement s : model.body()) {
            if (s instanceof Statement.Input in) {
                taken.add(in.name());
                hasInput = true;
            } else if (s instanceof Statement.Apply a && a.name() != null) {
                taken.add(a.name());
            }
        }
        if (!hasInput) {
            throw new ModelException(model.nameSpan(), "model '" + model.name()
                    + "' has no input; declare one, e.g. 'input x: [1, 28, 28]'");
        }
        for (Statement s : model.body()) {
            if (s instanceof Statement.Input in) input(in);
            else apply((Statement.Apply) s);
        }
        if (outputs.isEmpty()) {
            throw new ModelException(model.nameSpan(), "model '" + model.name()
                    + "' has no output; mark one with 'output <name> = ...'");
        }
        return TypedGraph.infer(new Graph(model.name(), inputs, nodes, outputs), registry);
    }

    private void parameter(ParamDef p) {
        define(p.name(), p.span());
        if (p.defaultValue() == null) {
            throw new ModelException(p.span(), "model parameter '" + p.name()
                    + "' needs a default value, e.g. '" + p.name() + " = 10'");
        }
        params.put(p.name(), evaluator.evaluate(p.defaultValue()));
    }

    // ---- input x: [1, 28, 28] ----

    private void input(Statement.Input in) {
        define(in.name(), in.nameSpan());
        Object value = evaluator.evaluate(in.shape());
        if (!(value instanceof List<?> list) || list.isEmpty()) {
            throw new ModelException(in.shape().span(), "input shape must be a list of positive ints such as [1, 28, 28], got "
                    + Evaluator.kind(value));
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
        inputs.add(new GraphInput(in.name(), shape, in.span()));
        shapes.put(in.name(), shape);
        values.put(in.name(), in.name());
        previous = in.name();
    }

    // ---- name = chain, output name = chain, chain ----

    /** A node of the statement being resolved, named provisionally until the whole chain is known. */
    private record Built(Node node, boolean parametric) {}

    private void apply(Statement.Apply s) {
        if (s.name() != null) define(s.name(), s.nameSpan());
        List<Call> steps = s.chain().steps();
        Call head = steps.get(0);
        // The graph value flowing into the next step; null until the chain has one.
        String current = null;
        int first = 0;
        if (!head.parenthesized() && values.containsKey(head.name())) {
            current = values.get(head.name());
            first = 1;
        }
        List<Built> built = new ArrayList<>();
        for (int i = first; i < steps.size(); i++) {
            Built b = layer(steps.get(i), i == 0, current);
            built.add(b);
            current = b.node().name();
        }
        String value = built.isEmpty() ? current : name(s, built);
        if (s.name() != null) values.put(s.name(), value);
        previous = value;
        if (s.output()) outputs.add(value);
    }

    /**
     * Builds and shape-checks the node for one step. Leading positional arguments that are bare
     * names of values are the layer's inputs ({@code add(a, b)}, {@code dense(x, 10)}); they come
     * after the chain's current value, and replace the implicit previous value at a chain's head.
     */
    private Built layer(Call step, boolean head, String current) {
        LayerType type = layerType(step, head);
        List<Argument> arguments = step.arguments();
        List<String> in = new ArrayList<>();
        if (current != null) in.add(current);
        int k = 0;
        while (k < arguments.size() && !arguments.get(k).isNamed()
                && arguments.get(k).value() instanceof Expr.Name n && values.containsKey(n.name())) {
            in.add(values.get(n.name()));
            k++;
        }
        if (in.isEmpty()) {
            if (previous == null) {
                throw new ModelException(step.nameSpan(), "'" + step.name() + "' has no input: no value is defined before "
                        + "this statement (declare 'input x: [...]' first)");
            }
            in.add(previous);
        }
        LayerArgs args = CallBinder.bind(step, arguments.subList(k, arguments.size()), type.schema(), evaluator);
        Node node = new Node("#" + provisionalCount++, type.name(), args, in, step.span());
        TypedGraph typed = inferOne(node, type);
        shapes.put(node.name(), typed.shape(node.name()));
        return new Built(node, !typed.params(node.name()).isEmpty());
    }

    private LayerType layerType(Call step, boolean head) {
        Optional<LayerType> type = registry.find(step.name());
        if (type.isPresent()) return type.get();
        if (values.containsKey(step.name())) {
            throw new ModelException(step.nameSpan(), "'" + step.name() + "' is a value, not a layer; only the first step "
                    + "of a chain can name a value, without parentheses");
        }
        if (params.containsKey(step.name())) {
            throw new ModelException(step.nameSpan(), "'" + step.name() + "' is a model parameter, not a layer");
        }
        boolean couldBeValue = head && !step.parenthesized();
        Set<String> candidates = new LinkedHashSet<>(registry.names());
        if (couldBeValue) candidates.addAll(values.keySet());
        List<String> close = LayerRegistry.closest(step.name(), candidates);
        String message = (couldBeValue ? "unknown layer or value '" : "unknown layer '") + step.name() + "'"
                + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?");
        throw new ModelException(step.nameSpan(), message);
    }

    /** Shape inference for one node against the shapes of its inputs. */
    private TypedGraph inferOne(Node node, LayerType type) {
        List<GraphInput> known = new ArrayList<>();
        for (String in : new LinkedHashSet<>(node.inputs())) known.add(new GraphInput(in, shapes.get(in), SourceSpan.UNKNOWN));
        Graph single = new Graph(model.name(), known, List.of(node), List.of(node.name()));
        try {
            return TypedGraph.infer(single, registry);
        } catch (ModelException e) {
            throw e;
        } catch (RuntimeException e) {
            // A layer that fails with something other than ShapeException is still the script's problem to report.
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw TypedGraph.error(node, type.name() + ": " + why);
        }
    }

    /** Renames the statement's provisional nodes (see the class comment), adds them, returns the value's node. */
    private String name(Statement.Apply s, List<Built> built) {
        List<Built> parametric = built.stream().filter(Built::parametric).toList();
        Map<String, String> rename = new HashMap<>();
        for (int i = 0; i < built.size(); i++) {
            Built b = built.get(i);
            String name;
            if (s.name() == null) name = fresh(b.node().layer());
            else if (parametric.size() == 1 && b.parametric()) name = s.name();
            else if (b.parametric()) name = s.name() + "." + parametric.indexOf(b);
            else if (parametric.isEmpty() && i == built.size() - 1) name = s.name();
            else name = fresh(s.name() + "." + b.node().layer());
            taken.add(name);
            rename.put(b.node().name(), name);
        }
        for (Built b : built) {
            Node n = b.node();
            List<String> in = n.inputs().stream().map(x -> rename.getOrDefault(x, x)).toList();
            String name = rename.get(n.name());
            nodes.add(new Node(name, n.layer(), n.args(), in, n.span()));
            shapes.put(name, shapes.remove(n.name()));
        }
        return rename.get(built.get(built.size() - 1).node().name());
    }

    /** {@code base}, or {@code base2}, {@code base3}... whichever is free first. */
    private String fresh(String base) {
        if (!taken.contains(base)) return base;
        for (int i = 2; ; i++) {
            String candidate = base + i;
            if (!taken.contains(candidate)) return candidate;
        }
    }

    private void define(String name, SourceSpan span) {
        SourceSpan first = definedAt.putIfAbsent(name, span);
        if (first != null) {
            throw Duplicates.error(span, "duplicate name '" + name + "'", first, "'" + name + "' is first defined here");
        }
    }

    /** Bare names in argument expressions: model parameters have values; value names do not. */
    private Object lookup(Expr.Name n) {
        Object v = params.get(n.name());
        if (v != null) return v;
        if (values.containsKey(n.name())) {
            throw new ModelException(n.span(), "'" + n.name() + "' is a value, not a number; a value can start a chain "
                    + "or be a layer's leading positional argument");
        }
        Set<String> candidates = new LinkedHashSet<>(params.keySet());
        candidates.addAll(values.keySet());
        List<String> close = LayerRegistry.closest(n.name(), candidates);
        throw new ModelException(n.span(), "undefined name '" + n.name() + "'"
                + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?"));
    }

    private static String describe(Object v) {
        return v instanceof List<?> ? "a list" : Evaluator.kind(v) + " " + v;
    }
}
