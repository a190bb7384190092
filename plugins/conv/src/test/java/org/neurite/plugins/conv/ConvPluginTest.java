package org.neurite.plugins.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
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

/** The conv plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class ConvPluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin conv = found.stream().filter(p -> p instanceof ConvPlugin).findFirst().orElseThrow();
        assertEquals("conv-layers", conv.name());
        return new LayerRegistry(Guice.createInjector(conv.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {})));
    }

    @Test void serviceLoaderFindsConv() {
        assertEquals(List.of("conv"), registry().names());
    }

    @Test void schemaIsDocumentedAndItsDefaultsBind() {
        LayerArgs args = LayerSchemaCheck.check(registry().find("conv").orElseThrow(), Map.of("channels", 6, "kernel", 5),
                Shape.of(1, 28, 28));
        assertArrayEquals(new int[] {1, 1}, args.getPair("stride"));
        assertArrayEquals(new int[] {0, 0}, args.getPair("pad"));
        assertArrayEquals(new int[] {1, 1}, args.getPair("dilation"));
        assertEquals(1, args.getInt("groups"));
        assertEquals(true, args.getBool("bias"));
        assertEquals("he", args.getString("init"));
    }

    @Test void lenetFeatureExtractorParameterNamesAndCount() {
        LayerRegistry r = registry();
        LayerType conv = r.find("conv").orElseThrow();
        Graph g = new Graph("LeNetConvs", List.of(new GraphInput("image", Shape.of(1, 28, 28), SourceSpan.UNKNOWN)), List.of(
                new Node("c1", "conv", conv.schema().bind(List.of(6), Map.of("kernel", 5, "pad", 2)), List.of("image"),
                        SourceSpan.at("lenet.nn", 3, 10)),
                new Node("c3", "conv", conv.schema().bind(List.of(16), Map.of("kernel", 5)), List.of("c1"),
                        SourceSpan.at("lenet.nn", 4, 10))), List.of("c3"));
        TypedGraph typed = TypedGraph.infer(g, r);
        assertEquals(Shape.of(6, 28, 28), typed.shape("c1"));
        assertEquals(Shape.of(16, 24, 24), typed.shape("c3"));
        assertEquals(List.of("c1.weight", "c1.bias", "c3.weight", "c3.bias"), typed.params().stream().map(p -> p.fullName()).toList());
        assertEquals(156 + 2416, typed.parameterCount());
    }
}
