package org.neurite.plugins.recurrent;

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

/** The recurrent plugin as the engine finds it: ServiceLoader, Guice multibinding, registry, shape inference. */
class RecurrentPluginTest {
    private static LayerRegistry registry() {
        List<NeuritePlugin> found = new ArrayList<>();
        ServiceLoader.load(NeuritePlugin.class).forEach(found::add);
        NeuritePlugin recurrent = found.stream().filter(p -> p instanceof RecurrentPlugin).findFirst().orElseThrow();
        assertEquals("recurrent-layers", recurrent.name());
        return new LayerRegistry(Guice.createInjector(recurrent.module()).getInstance(Key.get(new TypeLiteral<Set<LayerType>>() {})));
    }

    @Test void serviceLoaderFindsEveryRecurrentLayer() {
        assertEquals(List.of("embedding", "gru", "lstm", "rnn"), registry().names());
    }

    @Test void forgetBiasShiftsOnlyTheForgetGateSliceOfBiasIh() {
        LayerType lstm = registry().find("lstm").orElseThrow();
        LayerArgs plain = lstm.schema().bind(List.of(8), Map.of());
        LayerArgs shifted = lstm.schema().bind(List.of(8), Map.of("forget_bias", 1.0));
        List<Shape> in = List.of(Shape.of(5, 3));
        float[] a = initial(lstm.parameters(plain, in), "bias_ih_l0");
        float[] b = initial(lstm.parameters(shifted, in), "bias_ih_l0");
        for (int i = 0; i < 32; i++) {
            // gate order i, f, g, o: the f block is [8, 16)
            assertEquals(a[i] + (i >= 8 && i < 16 ? 1f : 0f), b[i], 0f, "element " + i);
        }
        assertArrayEquals(initial(lstm.parameters(plain, in), "bias_hh_l0"), initial(lstm.parameters(shifted, in), "bias_hh_l0"));
    }

    private static float[] initial(List<org.neurite.layer.ParamDecl> decls, String name) {
        var decl = decls.stream().filter(d -> d.name().equals(name)).findFirst().orElseThrow();
        float[] v = new float[decl.shape().size()];
        decl.initializer().initialize(v, decl.shape(), new java.util.SplittableRandom(9));
        return v;
    }

    @Test void everySchemaIsDocumentedAndItsDefaultsBind() {
        LayerRegistry r = registry();
        LayerArgs lstm = LayerSchemaCheck.check(r.find("lstm").orElseThrow(), Map.of("hidden", 32), Shape.of(35, 16));
        assertEquals("hidden=32, layers=1, bidirectional=false, dropout=0, sequences=true, bias=true, forget_bias=0, mask_zero=false",
                lstm.toString());
        LayerArgs gru = LayerSchemaCheck.check(r.find("gru").orElseThrow(), Map.of("hidden", 32), Shape.of(35, 16));
        assertEquals("hidden=32, layers=1, bidirectional=false, dropout=0, sequences=true, bias=true, mask_zero=false", gru.toString());
        LayerArgs rnn = LayerSchemaCheck.check(r.find("rnn").orElseThrow(), Map.of("hidden", 32), Shape.of(35, 16));
        assertEquals("hidden=32, layers=1, nonlinearity=\"tanh\", bidirectional=false, dropout=0, sequences=true, bias=true, "
                + "mask_zero=false", rnn.toString());
        LayerArgs embedding = LayerSchemaCheck.check(r.find("embedding").orElseThrow(), Map.of("num", 65, "dim", 16), Shape.of(35));
        assertEquals(65, embedding.getInt("num"));
        assertEquals(16, embedding.getInt("dim"));
        assertEquals(-1, embedding.getInt("padding_idx"), "no padding row unless asked for");
    }

    @Test void charLanguageModelNamesItsParametersLikeAPyTorchStateDict() {
        // tokens [35] -> embedding [35, 16] -> 2-layer LSTM [35, 32]: c1.weight_ih_l0 loads from PyTorch's lstm.weight_ih_l0.
        LayerRegistry r = registry();
        LayerType embedding = r.find("embedding").orElseThrow();
        LayerType lstm = r.find("lstm").orElseThrow();
        Graph g = new Graph("CharLM", List.of(new GraphInput("tokens", Shape.of(35), SourceSpan.UNKNOWN)), List.of(
                new Node("embed", "embedding", embedding.schema().bind(List.of(65, 16), Map.of()), List.of("tokens"),
                        SourceSpan.at("charlm.nn", 3, 5)),
                new Node("rnn", "lstm", lstm.schema().bind(List.of(32), Map.of("layers", 2)), List.of("embed"),
                        SourceSpan.at("charlm.nn", 4, 5))), List.of("rnn"));
        TypedGraph typed = TypedGraph.infer(g, r);
        assertEquals(Shape.of(35, 16), typed.shape("embed"));
        assertEquals(Shape.of(35, 32), typed.shape("rnn"));
        assertEquals(List.of("embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1"),
                typed.params().stream().map(p -> p.fullName()).toList());
        // 65*16 + (4*32*16 + 4*32*32 + 2*4*32) + (4*32*32 + 4*32*32 + 2*4*32)
        assertEquals(1040 + 6400 + 8448, typed.parameterCount());
    }
}
