package org.neurite.plugins.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/** The pool plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class PoolPluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin pool = found.stream().filter(p -> p instanceof PoolPlugin).findFirst().orElseThrow();
        assertEquals("pool-layers", pool.name());
        return new LayerRegistry(Guice.createInjector(pool.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {})));
    }

    @Test void serviceLoaderFindsEveryPoolLayer() {
        assertEquals(List.of("avgpool", "globalavgpool", "maxpool"), registry().names());
    }

    @Test void schemasAreDocumentedAndTheirDefaultsBind() {
        LayerRegistry r = registry();
        LayerArgs max = LayerSchemaCheck.check(r.find("maxpool").orElseThrow(), Map.of("kernel", 2), Shape.of(6, 28, 28));
        assertFalse(max.has("stride"), "an unset stride follows the kernel");
        assertEquals("kernel=2, pad=0, ceil=false", max.toString());
        LayerArgs avg = LayerSchemaCheck.check(r.find("avgpool").orElseThrow(), Map.of("kernel", 2), Shape.of(6, 28, 28));
        assertEquals("kernel=2, pad=0, ceil=false, count_include_pad=true", avg.toString());
        LayerSchemaCheck.check(r.find("globalavgpool").orElseThrow(), Map.of(), Shape.of(6, 7, 7));
    }

    @Test void paddingLargerThanHalfTheWindowFailsAtItsSourceLine() {
        LayerRegistry r = registry();
        LayerType max = r.find("maxpool").orElseThrow();
        Graph g = new Graph("Bad", List.of(new GraphInput("x", Shape.of(6, 28, 28), SourceSpan.UNKNOWN)),
                List.of(new Node("p1", "maxpool", max.schema().bind(List.of(2), Map.of("pad", 2)), List.of("x"),
                        SourceSpan.at("net.nn", 4, 12))), List.of("p1"));
        ModelException e = assertThrows(ModelException.class, () -> TypedGraph.infer(g, r));
        assertEquals("net.nn:4:12: error: maxpool: pad 2x2 must be at most half of the kernel 2x2", e.getMessage());
    }
}
