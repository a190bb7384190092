package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
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
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.train.TrainSpec;

/**
 * LeNet-5 from its example script, trained for ten steps (640 images of the bundled Fashion-MNIST
 * subset, its own optimiser: SGD with momentum) once on the CPU and once on OpenCL from the same
 * seed: the running loss after every step, the evaluation on 1,000 test images and the final
 * weights must agree. Differences are float rounding carried through ten updates (on PoCL the
 * losses agree to about 1e-7 and the weights to a few 1e-6), so losses must agree to
 * {@link #LOSS_TOL} relative and weights to {@link #WEIGHT_TOL} (relative + absolute).
 */
class LeNetOnOpenClTest {
    static final double LOSS_TOL = 1e-5;
    static final double WEIGHT_TOL = 1e-4;

    /** What one run produced. */
    private record Run(List<Double> runningLoss, EpochStats test, List<NamedTensor> weights) {}

    @Test void tenTrainingStepsGiveTheSameLossesAndWeightsOnBothBackends() throws IOException {
        Script script = new ScriptLoader(OpenClRuns.RUNTIME.layers()).load(Path.of("../examples", "lenet5.nn"));
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("LeNet5").orElseThrow();
        DatasetLocator.Located data = new DatasetLocator(null, Map.of(), Path.of("/nonexistent-neurite-data"),
                LeNetOnOpenClTest.class.getClassLoader()).locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN);
        Dataset train = data.train().head(640), test = data.test();

        Run cpu, cl;
        try (Backend backend = OpenClRuns.opencl()) {
            cl = train(graph, spec, backend, train, test);
        }
        try (Backend backend = OpenClRuns.cpu()) {
            cpu = train(graph, spec, backend, train, test);
        }

        assertEquals(10, cpu.runningLoss().size());
        assertEquals(cpu.runningLoss().size(), cl.runningLoss().size());
        for (int step = 0; step < cpu.runningLoss().size(); step++) {
            double a = cpu.runningLoss().get(step), b = cl.runningLoss().get(step);
            assertEquals(a, b, LOSS_TOL * Math.abs(a), "running loss after step " + (step + 1));
        }
        assertTrue(cpu.runningLoss().get(9) < cpu.runningLoss().get(0), "it learns: " + cpu.runningLoss());
        assertEquals(cpu.test().loss(), cl.test().loss(), LOSS_TOL * cpu.test().loss(), "test loss");
        assertEquals(cpu.test().accuracy(), cl.test().accuracy(), 0.002, "test accuracy (at most two images of 1,000 may flip)");
        for (int i = 0; i < cpu.weights().size(); i++) {
            float[] a = cpu.weights().get(i).data(), b = cl.weights().get(i).data();
            for (int e = 0; e < a.length; e++)
                assertEquals(a[e], b[e], WEIGHT_TOL * (1 + Math.abs(a[e])), cpu.weights().get(i).name() + "[" + e + "]");
        }
    }

    private static Run train(TypedGraph graph, TrainSpec spec, Backend backend, Dataset train, Dataset test) {
        try (ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            List<Double> losses = new ArrayList<>();
            trainer.trainEpoch(train, 1, new org.neurite.engine.TrainingListener() {
                @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                    losses.add(meanLoss);
                }
            });
            EpochStats evaluation = trainer.evaluate(test, 1);
            return new Run(losses, evaluation, store.export());
        }
    }
}
