package org.neurite.it.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.testkit.ReferenceBackend;
import org.neurite.train.TrainSpec;

/**
 * A real network trained on the reference backend: LeNet-5 from its example script, five steps of
 * SGD with momentum (as the script sets it) over 16 Fashion-MNIST images each, on the reference
 * backend and on the CPU backend from the same initial weights. Convolution, pooling, dense layers,
 * the fused loss and the optimiser, all as compositions of primitives on one side and fused
 * kernels on the other, must end at the same weights within 1e-4.
 */
class ReferenceLeNetTrainingTest {
    private static final double TOL = 1e-4;

    @Test void fiveStepsEndAtTheCpuBackendsWeights() throws IOException {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script script = new ScriptLoader(runtime.layers()).load(Path.of("../examples", "lenet5.nn"));
        TypedGraph graph = script.mainModel();
        TrainSpec lenet = script.training("LeNet5").orElseThrow();
        TrainSpec spec = lenet.with(16, lenet.epochs(), lenet.seed());
        // The subset bundled in the examples jar, whatever else this machine has.
        DatasetLocator locator = new DatasetLocator(null, Map.of(), Path.of("/nonexistent-neurite-data"),
                ReferenceLeNetTrainingTest.class.getClassLoader());
        Dataset data = locator.locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN).train().head(5 * 16);

        try (Backend cpu = runtime.createBackend("cpu", BackendOptions.defaults(), List.of(), warning -> {});
             Backend reference = ReferenceBackend.checked();
             ParameterStore onCpu = new ParameterStore(graph, cpu, spec.seed());
             ParameterStore onReference = new ParameterStore(graph, reference, spec.seed());
             Trainer cpuTrainer = new Trainer(graph, onCpu, spec);
             Trainer referenceTrainer = new Trainer(graph, onReference, spec)) {
            List<NamedTensor> initial = onCpu.export();
            onReference.load(initial);

            EpochStats expected = cpuTrainer.trainEpoch(data, 1, TrainingListener.NONE);
            EpochStats actual = referenceTrainer.trainEpoch(data, 1, TrainingListener.NONE);
            assertEquals(5, cpuTrainer.step());
            assertEquals(5, referenceTrainer.step());
            assertEquals(expected.loss(), actual.loss(), TOL * (1 + Math.abs(expected.loss())), "mean training loss");

            List<NamedTensor> cpuWeights = onCpu.export(), referenceWeights = onReference.export();
            double moved = 0;
            for (int t = 0; t < cpuWeights.size(); t++) {
                NamedTensor want = cpuWeights.get(t), got = referenceWeights.get(t);
                assertEquals(want.name(), got.name());
                for (int i = 0; i < want.data().length; i++) {
                    if (!(Math.abs(want.data()[i] - got.data()[i]) <= TOL))
                        fail(want.name() + " " + want.shape() + " at " + i + ": cpu " + want.data()[i] + ", reference " + got.data()[i]);
                    moved = Math.max(moved, Math.abs(want.data()[i] - initial.get(t).data()[i]));
                }
            }
            // The comparison means something only if training moved the weights well beyond the tolerance.
            assertTrue(moved > 100 * TOL, "largest weight change in five steps: " + moved);
        }
    }
}
