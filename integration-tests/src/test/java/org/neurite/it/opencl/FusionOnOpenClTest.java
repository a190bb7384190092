package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.train.TrainSpec;

/**
 * LeNet-5 and the small ResNet trained two epochs of four steps on OpenCL with the engine's fusions on and off: the fused kernels
 * (bias and relu in the GEMM and convolution stores, the relu's derivative in the pooling
 * backward's gather and the next dense layer's input-gradient GEMM store; the relu in batch norm's
 * store and its derivative where batch norm's backward reads dy) round every step as the separate kernels do, so the weights are the same bits;
 * and a fused step launches fewer kernels.
 */
class FusionOnOpenClTest {
    /** What one run produced. */
    private record Run(List<NamedTensor> weights, BackendCounters counted) {}

    private static Run train(TypedGraph graph, TrainSpec spec, Dataset data, boolean fuse) {
        String before = System.getProperty(CompiledModel.FUSION_PROPERTY);
        System.setProperty(CompiledModel.FUSION_PROPERTY, Boolean.toString(fuse));
        try (Backend backend = OpenClRuns.opencl();
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            // The second epoch is counted: the first may include the device's one-time tuning searches.
            trainer.trainEpoch(data, 1, TrainingListener.NONE);
            BackendCounters start = backend.counters().orElseThrow();
            trainer.trainEpoch(data, 2, TrainingListener.NONE);
            BackendCounters counted = backend.counters().orElseThrow().minus(start);
            return new Run(store.export(), counted);
        } finally {
            if (before == null) System.clearProperty(CompiledModel.FUSION_PROPERTY);
            else System.setProperty(CompiledModel.FUSION_PROPERTY, before);
        }
    }

    @Test void lenet5TrainsTheSameBitsFusedAndUnfusedWithFewerLaunches() throws IOException {
        // Per step: four relu forward launches (two convolutions, two dense layers) and four relu backward launches (folded
        // into the max poolings' and the next dense layers' backward) fewer.
        trainsTheSameBitsWithFewerLaunches("lenet5.nn", "LeNet5", 8);
    }

    /**
     * Batch norm -> relu (the stem's and each block's first) and relu(add) (each block's end): per
     * step four relu forward and four relu backward launches fewer (batch norm applies both), and
     * for each add one copy fewer (the relu's derivative is written straight into its first input's gradient) and one
     * launch fewer (the sum and its relu are one launch, {@code add_activation}).
     */
    @Test void resnetSmallTrainsTheSameBitsFusedAndUnfusedWithFewerLaunches() throws IOException {
        trainsTheSameBitsWithFewerLaunches("resnet_small.nn", "ResNetSmall", 4 + 4 + 3 + 3);
    }

    private static void trainsTheSameBitsWithFewerLaunches(String file, String model, int fewerPerStep) throws IOException {
        Script script = new ScriptLoader(OpenClRuns.RUNTIME.layers()).load(Path.of("../examples", file));
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training(model).orElseThrow();
        Dataset data = new DatasetLocator(null, Map.of(), Path.of("/nonexistent-neurite-data"), FusionOnOpenClTest.class.getClassLoader())
                .locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN).train().head(4 * spec.batch());
        Run unfused = train(graph, spec, data, false);
        Run fused = train(graph, spec, data, true);
        assertEquals(unfused.weights().size(), fused.weights().size());
        for (int i = 0; i < fused.weights().size(); i++) {
            assertArrayEquals(unfused.weights().get(i).data(), fused.weights().get(i).data(), 0f, fused.weights().get(i).name());
        }
        assertEquals(unfused.counted().launches() - 4 * fewerPerStep, fused.counted().launches(), "launches in the second epoch's 4 steps: "
                + unfused.counted() + " unfused, " + fused.counted() + " fused");
    }
}
