package org.neurite.benchmarks.jmh;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Optimizer;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.TrainStep;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One full training step of an example script, as {@code Trainer} takes it: the engine's
 * {@link TrainStep} (forward in training mode, the script's loss, backward, the gradient norm,
 * clipping and the script's optimiser, its results read every {@link TrainStep#readEvery()}
 * steps), on one fixed random batch. Run it with the GC profiler ({@code -prof gc}):
 * {@code gc.alloc.rate.norm} is the heap allocated per step, which the planned buffers and the
 * backend's reusable parallel loops are meant to keep near zero. At the end of each trial it
 * prints the backend's host synchronisations and launches per step.
 *
 * <p>Scripts are read from {@code examples/<script>.nn} under the working directory (the
 * repository root) or under the {@code neurite.root} system property; {@code backend} names a
 * registered backend ({@code opencl} needs its jars on the classpath).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.openjdk.jmh.Main TrainingStepBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:InlineSmallCode=10000"})
public class TrainingStepBenchmark {
    @Param({"lenet5", "fashion_cnn", "rowlstm", "resnet_small"})
    public String script;

    @Param("64")
    public int batch;

    @Param("2")
    public int threads;

    @Param("cpu")
    public String backendName;

    private static final String COUNTERS_LINE = "%n%s on %s: %.3f host synchronisations and %.1f launches per step over %d steps%n";

    private Backend backend;
    private ParameterStore store;
    private TrainStep trainStep;
    private Dataset data;
    private int[] order;
    private int step;
    private BackendCounters countsAtStart;
    private int firstStep;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Path file = Path.of(System.getProperty("neurite.root", "."), "examples", script + ".nn");
        Script parsed = new ScriptLoader(runtime.layers()).load(file);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name()));
        backend = runtime.createBackend(backendName, new BackendOptions(threads, null), List.of(), warning -> {});
        store = new ParameterStore(graph, backend, spec.seed());
        trainStep = new TrainStep(graph, store, spec, Optimizer.create(spec.optimizer(), store), batch);

        // One random batch: inputs uniform in [0, 1), class labels over the outputs.
        SplittableRandom rng = new SplittableRandom(42);
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        float[] x = new float[batch * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int classes = graph.outputShape().size();
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(classes);
        data = new Dataset("random", sample, x, labels, classes, List.of(), false, batch + " random samples");
        order = new int[batch];
        for (int i = 0; i < batch; i++) order[i] = i;
        // JMH runs the trial's tear-down inside the last measured iteration, so what it allocates
        // counts against that iteration's steps (-prof gc): a first formatted line loads and
        // initialises the formatter's classes, hundreds of KB, about 2 KB a step of a 2 s
        // iteration at resnet_small's speed; closing the step, the parameters and the backend
        // another 65 KB (1.3 KB a fashion_cnn step). So the line is formatted once here, and the
        // closing waits for the fork's exit (with -f 0 every trial's backend stays open until then).
        String.format(Locale.ROOT, COUNTERS_LINE, script, backendName, 0.0, 0.0, 0);
        TrainStep closingStep = trainStep;
        ParameterStore closingStore = store;
        Backend closingBackend = backend;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            closingStep.close();
            closingStore.close();
            closingBackend.close();
        }, "close-" + script));
    }

    /** Counts from the first measured step: warm-up included, the figures are per step all the same. */
    @Setup(Level.Iteration)
    public void startCounting() {
        if (countsAtStart == null) {
            countsAtStart = backend.counters().orElse(BackendCounters.ZERO);
            firstStep = step + 1;
        }
    }

    @Benchmark
    public int trainingStep() {
        step++;
        trainStep.submit(data, order, 0, batch, step, 1);
        if (trainStep.pending() == trainStep.readEvery()) return trainStep.collect().size();
        return trainStep.pending();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainStep.collect();
        BackendCounters counted = backend.counters().orElse(BackendCounters.ZERO).minus(countsAtStart);
        int steps = step - firstStep + 1;
        System.out.printf(Locale.ROOT, COUNTERS_LINE, script, backend.name(), counted.syncsPer(steps), counted.launchesPer(steps), steps);
    }
}
