package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * The engine's fusions ({@link CompiledModel#FUSION_PROPERTY}) on and off, for one workload, on a
 * machine shared with other work: both compiles of the same script in one JVM on one CPU backend
 * with one thread (every op runs on the calling thread), their training epochs and inference
 * batches alternating (unfused, fused, unfused, ...), each timed in the calling thread's CPU time,
 * which other processes' load does not count. {@link PairedWorkloads} swaps backend-cpu builds
 * only; the fusions are the engine's, chosen at each compile from the system property, so this
 * compares them within one stack instead. Printed: each pair's training step and inference batch
 * (256) in milliseconds, then the medians and the median over pairs of fused / unfused.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.FusionPairs examples/resnet_small.nn --batch 64 --steps 10 --pairs 15</pre>
 */
public final class FusionPairs {
    private FusionPairs() {}

    private static final int INFER_BATCH = 256;

    public static void main(String[] args) throws Exception {
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 10);
        int pairs = intOption(args, "--pairs", 15);
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(Path.of(args[0]));
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        Dataset data = WorkloadThroughput.randomClassification(graph, batch * steps);
        int inferBatches = 4, n = INFER_BATCH * inferBatches;
        float[] x = Arrays.copyOf(data.features(), n * data.sampleSize());
        ThreadMXBean clock = ManagementFactory.getThreadMXBean();
        String before = System.getProperty(CompiledModel.FUSION_PROPERTY);
        try (Backend backend = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {});
             ParameterStore unfusedStore = new ParameterStore(graph, backend, 1);
             ParameterStore fusedStore = new ParameterStore(graph, backend, 1)) {
            // The property is read whenever a model is compiled (the trainer's at construction, the predictor's at its first
            // batch): set before every use of either side.
            fusion(false);
            Trainer unfused = new Trainer(graph, unfusedStore, spec);
            Predictor unfusedPredictor = new Predictor(graph, unfusedStore, INFER_BATCH);
            unfused.trainEpoch(data, 1, TrainingListener.NONE);
            unfusedPredictor.predict(x, n);
            fusion(true);
            Trainer fused = new Trainer(graph, fusedStore, spec);
            Predictor fusedPredictor = new Predictor(graph, fusedStore, INFER_BATCH);
            fused.trainEpoch(data, 1, TrainingListener.NONE);
            fusedPredictor.predict(x, n);
            double[] trainOff = new double[pairs], trainOn = new double[pairs], inferOff = new double[pairs], inferOn = new double[pairs];
            for (int p = 0; p < pairs; p++) {
                fusion(false);
                long t0 = clock.getCurrentThreadCpuTime();
                unfused.trainEpoch(data, p + 2, TrainingListener.NONE);
                long t1 = clock.getCurrentThreadCpuTime();
                unfusedPredictor.predict(x, n);
                long t2 = clock.getCurrentThreadCpuTime();
                fusion(true);
                fused.trainEpoch(data, p + 2, TrainingListener.NONE);
                long t3 = clock.getCurrentThreadCpuTime();
                fusedPredictor.predict(x, n);
                long t4 = clock.getCurrentThreadCpuTime();
                trainOff[p] = (t1 - t0) / 1e6 / steps;
                inferOff[p] = (t2 - t1) / 1e6 / inferBatches;
                trainOn[p] = (t3 - t2) / 1e6 / steps;
                inferOn[p] = (t4 - t3) / 1e6 / inferBatches;
                System.out.printf(Locale.ROOT, "pair %d: training step %.2f ms unfused, %.2f fused; inference batch of %d %.2f ms unfused, %.2f fused%n",
                        p + 1, trainOff[p], trainOn[p], INFER_BATCH, inferOff[p], inferOn[p]);
            }
            System.out.printf(Locale.ROOT, "medians: training step %.2f -> %.2f ms (fused / unfused, median over pairs: %.3f); "
                            + "inference batch %.2f -> %.2f ms (%.3f)%n", WorkloadThroughput.median(trainOff), WorkloadThroughput.median(trainOn),
                    WorkloadThroughput.median(ratios(trainOn, trainOff)), WorkloadThroughput.median(inferOff), WorkloadThroughput.median(inferOn),
                    WorkloadThroughput.median(ratios(inferOn, inferOff)));
            unfused.close();
            fused.close();
            unfusedPredictor.close();
            fusedPredictor.close();
        } finally {
            if (before == null) System.clearProperty(CompiledModel.FUSION_PROPERTY);
            else System.setProperty(CompiledModel.FUSION_PROPERTY, before);
        }
    }

    private static void fusion(boolean on) { System.setProperty(CompiledModel.FUSION_PROPERTY, Boolean.toString(on)); }

    private static double[] ratios(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i] / b[i];
        return r;
    }
}
