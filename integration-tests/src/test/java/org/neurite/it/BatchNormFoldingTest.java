package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
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
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * Compiling for inference folds a batch norm into the convolution whose output it alone reads
 * (its running statistics, weight and bias into the convolution's weight and bias): the logits
 * agree with the unfolded model's to float rounding, before training and after four steps and
 * random changes have moved every parameter and running statistic. Training compiles fold nothing.
 */
public class BatchNormFoldingTest {
    private static Backend cpu() {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(2, null), List.of(), w -> {});
    }

    /** The logits of the first {@code n} samples of {@code data} from an inference compile, fused or not. */
    private static float[] logits(TypedGraph graph, Backend backend, ParameterStore store, Dataset data, int n, boolean fuse,
                                  Map<String, String> foldsSeen) {
        try (CompiledModel m = EpilogueFusionTest.withFusion(fuse, () -> CompiledModel.compileForInference(graph, backend, n, store))) {
            foldsSeen.putAll(m.foldedIntoWeights());
            int[] order = new int[n];
            for (int i = 0; i < n; i++) order[i] = i;
            float[] x = new float[n * data.sampleSize()];
            float[] y = new float[n * data.targetSize()];
            data.copyBatch(order, 0, n, x, y);
            backend.upload(x, m.input(0));
            m.forward(false, 0);
            float[] out = new float[m.output().size()];
            backend.download(Slice.of(m.output()), out, 0);
            return out;
        }
    }

    private static void assertClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double scale = 0;
        for (float v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, scale), "logit " + i);
        }
    }

    /** Trains four steps, then compares folded and unfolded inference on 16 samples on the CPU; returns the folds made. */
    private static Map<String, String> foldedMatchesUnfolded(TypedGraph graph, TrainSpec spec) throws Exception {
        return foldedMatchesUnfolded(graph, spec, BatchNormFoldingTest::cpu);
    }

    /** As {@link #foldedMatchesUnfolded(TypedGraph, TrainSpec)} on the backend {@code backends} makes. */
    public static Map<String, String> foldedMatchesUnfolded(TypedGraph graph, TrainSpec spec, Supplier<Backend> backends)
            throws Exception {
        Dataset data = Fixtures.bundledSubset().train().head(4 * spec.batch());
        try (Backend backend = backends.get(); ParameterStore store = new ParameterStore(graph, backend, spec.seed())) {
            Map<String, String> folds = new HashMap<>();
            // Before training (running mean 0, variance 1, weight 1, bias 0) and after four steps.
            assertClose(logits(graph, backend, store, data, 16, false, new HashMap<>()), logits(graph, backend, store, data, 16, true, folds));
            try (Trainer trainer = new Trainer(graph, store, spec)) {
                trainer.trainEpoch(data, 1, TrainingListener.NONE);
            }
            perturb(graph, backend, store);
            Map<String, String> unfoldedFolds = new HashMap<>();
            float[] unfolded = logits(graph, backend, store, data, 16, false, unfoldedFolds);
            assertClose(unfolded, logits(graph, backend, store, data, 16, true, folds));
            assertTrue(unfoldedFolds.isEmpty(), "no fold with fusion off: " + unfoldedFolds);
            try (CompiledModel training = EpilogueFusionTest.withFusion(true, () -> CompiledModel.compile(graph, backend, 16, store))) {
                assertTrue(training.foldedIntoWeights().isEmpty(), "training folds nothing: " + training.foldedIntoWeights());
            }
            return folds;
        }
    }

    /**
     * Moves every parameter and running statistic by random amounts (variances by a positive
     * factor): training leaves a convolution's bias before a batch norm at zero (the norm removes
     * its gradient), and the fold must carry it all the same.
     */
    private static void perturb(TypedGraph graph, Backend backend, ParameterStore store) {
        Random rnd = new Random(11);
        for (var node : graph.graph().nodes()) {
            for (ParamInfo p : graph.params(node.name())) {
                Tensor t = store.value(p.fullName());
                float[] v = new float[t.size()];
                backend.download(Slice.of(t), v, 0);
                boolean variance = p.decl().name().equals("running_var");
                for (int i = 0; i < v.length; i++) v[i] = variance ? v[i] * (0.5f + rnd.nextFloat()) : v[i] + 0.2f * (float) rnd.nextGaussian();
                backend.upload(v, t);
            }
        }
    }

    /** Every batch norm of the small ResNet follows a convolution without a bias that nothing else reads. */
    @Test void resnetSmallFoldsEveryBatchNorm() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        Map<String, String> folds = foldedMatchesUnfolded(graph, script.training("ResNetSmall").orElseThrow());
        long batchNorms = graph.graph().nodes().stream().filter(n -> graph.type(n.name()).name().equals("batchnorm")).count();
        assertEquals(9, batchNorms);
        assertEquals(batchNorms, folds.size(), folds.toString());
        for (var e : folds.entrySet()) assertEquals("conv", graph.type(e.getValue()).name(), e.toString());
    }

    /**
     * A convolution with a bias, a batch norm without affine parameters and a sigmoid after it; a
     * batch norm after a max pooling and one after a convolution read twice stay unfolded.
     */
    @Test void foldsOnlyABatchNormThatAloneReadsAConvolution() throws Exception {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("fold.nn", """
                model Fold {
                    input x: [1, 28, 28]
                    a = conv(4, kernel=3, pad=1) -> batchnorm(affine=false) -> sigmoid -> maxpool(2)
                    b = batchnorm -> conv(6, kernel=3, bias=false)
                    c = batchnorm(eps=0.01) -> relu
                    d = add(b, c) -> flatten
                    output y = dense(10)
                }
                train Fold { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.1, momentum=0.9); batch = 32; seed = 3 }
                """);
        TypedGraph graph = script.mainModel();
        Map<String, String> folds = foldedMatchesUnfolded(graph, script.training("Fold").orElseThrow());
        assertEquals(1, folds.size(), "only a's batch norm: " + folds);
    }
}
