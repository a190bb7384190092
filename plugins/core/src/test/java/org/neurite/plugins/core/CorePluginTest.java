package org.neurite.plugins.core;

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

/** The plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class CorePluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin core = found.stream().filter(p -> p instanceof CorePlugin).findFirst().orElseThrow();
        assertEquals("core-layers", core.name());
        Set<LayerType> types = Guice.createInjector(core.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {}));
        return new LayerRegistry(types);
    }

    @Test void serviceLoaderFindsEveryCoreLayer() {
        assertEquals(List.of("dense", "dropout", "flatten", "relu", "sigmoid", "softmax", "tanh"), registry().names());
    }

    @Test void everySchemaIsDocumentedAndItsDefaultsBind() {
        LayerRegistry r = registry();
        LayerArgs dense = LayerSchemaCheck.check(r.find("dense").orElseThrow(), Map.of("units", 10), Shape.of(84));
        assertEquals("units=10, bias=true, init=\"he\"", dense.toString());
        LayerArgs dropout = LayerSchemaCheck.check(r.find("dropout").orElseThrow(), Map.of(), Shape.of(84));
        assertEquals("p=0.5", dropout.toString());
        for (String name : List.of("relu", "sigmoid", "tanh", "softmax", "flatten")) {
            LayerSchemaCheck.check(r.find(name).orElseThrow(), Map.of(), Shape.of(6, 5, 5));
        }
    }

    private static Node node(String name, String layer, LayerArgs args, String input, int line) {
        return new Node(name, layer, args, List.of(input), SourceSpan.at("lenet.nn", line, 5));
    }

    @Test void lenetClassifierHeadInfersShapesParametersAndFlops() {
        LayerRegistry r = registry();
        LayerType dense = r.find("dense").orElseThrow();
        Graph head = new Graph("LeNetHead", List.of(new GraphInput("features", Shape.of(16, 5, 5), SourceSpan.UNKNOWN)), List.of(
                node("f", "flatten", LayerArgs.empty(), "features", 1),
                node("f5", "dense", dense.schema().bind(List.of(120), Map.of()), "f", 2),
                node("a5", "relu", LayerArgs.empty(), "f5", 2),
                node("f6", "dense", dense.schema().bind(List.of(84), Map.of()), "a5", 3),
                node("a6", "relu", LayerArgs.empty(), "f6", 3),
                node("logits", "dense", dense.schema().bind(List.of(10), Map.of()), "a6", 4)), List.of("logits"));
        TypedGraph typed = TypedGraph.infer(head, r);
        assertEquals(Shape.of(10), typed.outputShape());
        assertEquals(Shape.of(400), typed.shape("f"));
        assertEquals(48_120 + 10_164 + 850, typed.parameterCount());
        assertEquals(List.of("f5.weight", "f5.bias", "f6.weight", "f6.bias", "logits.weight", "logits.bias"),
                typed.params().stream().map(p -> p.fullName()).toList());
        // 2 x (400*120 + 120*84 + 84*10) multiply-adds plus one op per ReLU element.
        assertEquals(2L * (48_000 + 10_080 + 840) + 120 + 84, typed.totalFlops());
    }

    @Test void denseOnAnImageFailsAtItsSourceLine() {
        LayerRegistry r = registry();
        Graph g = new Graph("Bad", List.of(new GraphInput("x", Shape.of(16, 5, 5), SourceSpan.UNKNOWN)),
                List.of(node("f5", "dense", r.find("dense").orElseThrow().schema().bind(List.of(120), Map.of()), "x", 7)),
                List.of("f5"));
        ModelException e = assertThrows(ModelException.class, () -> TypedGraph.infer(g, r));
        assertEquals("lenet.nn:7:5: error: dense: expects [features] per sample, got [16, 5, 5]; put flatten before dense",
                e.getMessage());
    }
}
