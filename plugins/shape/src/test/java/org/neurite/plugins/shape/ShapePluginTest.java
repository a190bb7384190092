package org.neurite.plugins.shape;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.Graph;
import org.neurite.graph.GraphInput;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerSchemaCheck;

/** The merge plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class ShapePluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin merge = found.stream().filter(p -> p instanceof ShapePlugin).findFirst().orElseThrow();
        assertEquals("shape-layers", merge.name());
        return new LayerRegistry(Guice.createInjector(merge.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {})));
    }

    @Test void serviceLoaderFindsEveryMergeLayer() {
        assertEquals(List.of("add", "concat", "split", "zeropad"), registry().names());
    }

    @Test void schemasAreDocumentedAndTheirDefaultsBind() {
        LayerRegistry r = registry();
        LayerSchemaCheck.check(r.find("add").orElseThrow(), Map.of(), Shape.of(8, 4, 4), Shape.of(8, 4, 4));
        LayerArgs concat = LayerSchemaCheck.check(r.find("concat").orElseThrow(), Map.of(), Shape.of(8, 4, 4), Shape.of(2, 4, 4));
        assertEquals("axis=0", concat.toString());
        LayerArgs split = LayerSchemaCheck.check(r.find("split").orElseThrow(), Map.of(), Shape.of(8, 4, 4));
        assertEquals("axis=0, parts=2, index=0", split.toString());
        LayerSchemaCheck.check(r.find("zeropad").orElseThrow(), Map.of("pad", 1), Shape.of(8, 4, 4));
    }

    private static Node node(String name, String layer, LayerArgs args, List<String> inputs, int line) {
        return new Node(name, layer, args, inputs, SourceSpan.at("inception.nn", line, 5));
    }

    @Test void branchesJoinedByConcatAndAddInferTheirShapes() {
        LayerRegistry r = registry();
        LayerType split = r.find("split").orElseThrow();
        LayerType concat = r.find("concat").orElseThrow();
        LayerType pad = r.find("zeropad").orElseThrow();
        // Halve the channels two ways, pad one half, rejoin and add the padded input as a skip.
        Graph g = new Graph("Branches", List.of(new GraphInput("x", Shape.of(8, 6, 6), SourceSpan.UNKNOWN)), List.of(
                node("a", "split", split.schema().bind(List.of(), Map.of()), List.of("x"), 1),
                node("b", "split", split.schema().bind(List.of(), Map.of("index", 1)), List.of("x"), 2),
                node("j", "concat", concat.schema().bind(List.of(), Map.of()), List.of("b", "a"), 3),
                node("p", "zeropad", pad.schema().bind(List.of(List.of(0, 1, 0, 1)), Map.of()), List.of("j"), 4),
                node("q", "zeropad", pad.schema().bind(List.of(List.of(1, 0, 1, 0)), Map.of()), List.of("x"), 5),
                node("s", "add", LayerArgs.empty(), List.of("p", "q"), 6)), List.of("s"));
        TypedGraph typed = TypedGraph.infer(g, r);
        assertEquals(Shape.of(4, 6, 6), typed.shape("a"));
        assertEquals(Shape.of(8, 6, 6), typed.shape("j"));
        assertEquals(Shape.of(8, 7, 7), typed.outputShape());
        assertEquals(8L * 7 * 7, typed.totalFlops());
    }

    @Test void mismatchedBranchesFailAtTheirSourceLine() {
        LayerRegistry r = registry();
        Graph g = new Graph("Bad", List.of(new GraphInput("x", Shape.of(64, 56, 56), SourceSpan.UNKNOWN),
                new GraphInput("y", Shape.of(128, 28, 28), SourceSpan.UNKNOWN)),
                List.of(node("s", "add", LayerArgs.empty(), List.of("x", "y"), 9)), List.of("s"));
        ModelException e = assertThrows(ModelException.class, () -> TypedGraph.infer(g, r));
        assertEquals("inception.nn:9:5: error: add: inputs must have the same shape, but input 0 is [64, 56, 56] "
                + "and input 1 is [128, 28, 28]", e.getMessage());
    }

    @Test void addOfOneInputIsRefusedByItsInputCount() {
        LayerRegistry r = registry();
        Graph g = new Graph("Bad", List.of(new GraphInput("x", Shape.of(4), SourceSpan.UNKNOWN)),
                List.of(node("s", "add", LayerArgs.empty(), List.of("x"), 2)), List.of("s"));
        ModelException e = assertThrows(ModelException.class, () -> TypedGraph.infer(g, r));
        assertEquals("inception.nn:2:5: error: layer 'add' takes 2..n inputs, got 1", e.getMessage());
    }
}
