package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * Compiling for inference folds a residual block's {@code relu(bn(conv(x)) + shortcut)} into the
 * convolution whose (folded) output is the sum's term computed last: it adds the other term in its
 * write-back ({@code Backend.conv2dResidualForward}) and the sum's step runs nothing. On the CPU
 * backend the logits are the same bits as with the sum run on its own
 * ({@code -Dneurite.fusion.residual=false}); training compiles and sums whose other term comes
 * after the convolution fold nothing.
 */
class ResidualFoldingTest {
    /** The logits of 16 samples from an inference compile, with residual folding on or off; the folds made go into {@code folds}. */
    private static float[] logits(TypedGraph graph, Backend backend, ParameterStore store, Dataset data, boolean residual,
                                  Map<String, String> folds) {
        return Fixtures.withProperty(CompiledModel.RESIDUAL_FOLDING_PROPERTY, Boolean.toString(residual), () -> {
            try (CompiledModel m = CompiledModel.compileForInference(graph, backend, 16, store)) {
                folds.putAll(m.foldedResiduals());
                int[] order = new int[16];
                for (int i = 0; i < 16; i++) order[i] = i;
                float[] x = new float[16 * data.sampleSize()];
                float[] y = new float[16 * data.targetSize()];
                data.copyBatch(order, 0, 16, x, y);
                backend.upload(x, m.input(0));
                m.forward(false, 0);
                float[] out = new float[m.output().size()];
                backend.download(Slice.of(m.output()), out, 0);
                return out;
            }
        });
    }

    /** Trains four steps, then compares inference with and without residual folding; returns the folds made. */
    private static Map<String, String> sameBitsFoldedOrNot(TypedGraph graph, TrainSpec spec) throws Exception {
        Dataset data = Fixtures.bundledSubset().train().head(4 * spec.batch());
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, spec.seed())) {
            try (Trainer trainer = new Trainer(graph, store, spec)) {
                trainer.trainEpoch(data, 1, TrainingListener.NONE);
            }
            Map<String, String> folds = new HashMap<>(), none = new HashMap<>();
            float[] apart = logits(graph, backend, store, data, false, none);
            assertTrue(none.isEmpty(), "nothing folded with -D" + CompiledModel.RESIDUAL_FOLDING_PROPERTY + "=false: " + none);
            assertArrayEquals(apart, logits(graph, backend, store, data, true, folds));
            try (CompiledModel training = CompiledModel.compile(graph, backend, 16, store)) {
                assertTrue(training.foldedResiduals().isEmpty(), "training folds nothing: " + training.foldedResiduals());
            }
            return folds;
        }
    }

    /**
     * Each block's sum folds: into its second convolution where the shortcut is the block's input
     * (layer1), into the projection's 1x1 convolution where both terms are convolutions (layer2 and
     * layer3: the projection runs after the second convolution, whose output it then adds).
     */
    @Test void resnetSmallFoldsEveryResidualSum() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        Map<String, String> folds = sameBitsFoldedOrNot(graph, script.training("ResNetSmall").orElseThrow());
        assertEquals(3, folds.size(), folds.toString());
        for (var e : folds.entrySet()) {
            assertEquals("add", graph.type(e.getKey()).name(), e.toString());
            assertEquals("conv", graph.type(e.getValue()).name(), e.toString());
        }
        long projections = folds.values().stream().filter(conv -> conv.contains("downsample")).count();
        assertEquals(2, projections, "layer2 and layer3 fold into their projections: " + folds);
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel m = CompiledModel.compileForInference(graph, backend, 2, store)) {
            // The sums' terms are not stored: the convolution's buffer holds the sum after the relu.
            for (String sum : folds.keySet()) {
                for (String term : graph.graph().nodes().stream().filter(n -> n.name().equals(sum)).findFirst().orElseThrow().inputs()) {
                    if (m.foldedIntoWeights().containsKey(term) && folds.get(sum).equals(m.foldedIntoWeights().get(term))) {
                        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> m.activation(term));
                        assertTrue(refused.getMessage().contains("is not stored"), refused.getMessage());
                    }
                }
            }
        }
    }

    /**
     * A sum of three terms, a sum whose other term is computed after the convolution (a relu, which
     * folds into nothing) and a sum of a convolution without a batch norm fold nothing; a sum of a
     * folded convolution and the graph's input, without a relu after it, folds.
     */
    @Test void foldsOnlyATwoTermSumOfAFoldedConvolutionAndAnEarlierValue() throws Exception {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("residual.nn", """
                model Residual {
                    input x: [1, 28, 28]
                    stem = conv(4, kernel=3, pad=1) -> batchnorm -> relu
                    a = stem -> conv(4, kernel=3, pad=1, bias=false) -> batchnorm
                    b = stem -> conv(4, kernel=1) -> relu
                    ab = add(a, b) -> relu
                    c = ab -> conv(4, kernel=3, pad=1) -> batchnorm
                    d = add(c, ab, stem)
                    e = d -> conv(4, kernel=3, pad=1)
                    f = add(e, d) -> relu
                    g = f -> conv(4, kernel=3, pad=1) -> batchnorm
                    h = add(g, f)
                    output y = h -> flatten -> dense(10)
                }
                train Residual { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.05, momentum=0.9); batch = 32; seed = 5 }
                """);
        TypedGraph graph = script.mainModel();
        Map<String, String> folds = sameBitsFoldedOrNot(graph, script.training("Residual").orElseThrow());
        assertEquals(1, folds.size(), folds.toString());
        String sum = folds.keySet().iterator().next();
        assertEquals("h", sum, folds.toString());
    }
}
