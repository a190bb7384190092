package org.neurite.plugins.norm;

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
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerSchemaCheck;

/** The norm plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class NormPluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin norm = found.stream().filter(p -> p instanceof NormPlugin).findFirst().orElseThrow();
        assertEquals("norm-layers", norm.name());
        return new LayerRegistry(Guice.createInjector(norm.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {})));
    }

    @Test void serviceLoaderFindsEveryNormLayer() {
        assertEquals(List.of("batchnorm", "lrn"), registry().names());
    }

    @Test void schemasAreDocumentedAndTheirDefaultsBind() {
        LayerRegistry r = registry();
        LayerArgs bn = LayerSchemaCheck.check(r.find("batchnorm").orElseThrow(), Map.of(), Shape.of(16, 8, 8));
        assertEquals("eps=1.0E-5, momentum=0.1, affine=true", bn.toString());
        LayerSchemaCheck.check(r.find("batchnorm").orElseThrow(), Map.of(), Shape.of(120));
        LayerArgs lrn = LayerSchemaCheck.check(r.find("lrn").orElseThrow(), Map.of("size", 5), Shape.of(96, 55, 55));
        assertEquals("size=5, alpha=1.0E-4, beta=0.75, k=1", lrn.toString());
    }

    @Test void checkpointNamesAndCountsMatchPyTorch() {
        // conv -> batchnorm as ResNet writes it, here on a given [64, 56, 56] activation.
        LayerRegistry r = registry();
        LayerType bn = r.find("batchnorm").orElseThrow();
        Graph g = new Graph("Bn", List.of(new GraphInput("x", Shape.of(64, 56, 56), SourceSpan.UNKNOWN)),
                List.of(new Node("bn1", "batchnorm", bn.schema().bind(List.of(), Map.of()), List.of("x"),
                        SourceSpan.at("resnet.nn", 3, 9))), List.of("bn1"));
        TypedGraph typed = TypedGraph.infer(g, r);
        assertEquals(List.of("bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"),
                typed.params().stream().map(ParamInfo::fullName).toList());
        assertEquals(4 * 64, typed.parameterCount());
        assertEquals(2 * 64, typed.trainableParameterCount());
    }

    @Test void lrnOnAFlatValueFailsAtItsSourceLine() {
        LayerRegistry r = registry();
        LayerType lrn = r.find("lrn").orElseThrow();
        Graph g = new Graph("Bad", List.of(new GraphInput("x", Shape.of(4096), SourceSpan.UNKNOWN)),
                List.of(new Node("n1", "lrn", lrn.schema().bind(List.of(5), Map.of()), List.of("x"),
                        SourceSpan.at("alexnet.nn", 6, 14))), List.of("n1"));
        ModelException e = assertThrows(ModelException.class, () -> TypedGraph.infer(g, r));
        assertEquals("alexnet.nn:6:14: error: lrn: expects [channels, height, width] or [channels, length] per sample, got [4096]",
                e.getMessage());
    }
}
