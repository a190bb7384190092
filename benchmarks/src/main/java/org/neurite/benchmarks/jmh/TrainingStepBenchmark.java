package org.neurite.benchmarks.jmh;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.neurite.backend.Backend;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.Loss;
import org.neurite.engine.Optimizer;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
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
 * One full training step of an example script on the CPU backend, as {@code Trainer} runs it:
 * forward (training mode), the script's loss with its gradient, backward, and the script's
 * optimiser step, on one fixed random batch that is uploaded once. Run it with the GC profiler
 * ({@code -prof gc}): {@code gc.alloc.rate.norm} is the heap allocated per step, which the
 * planned buffers and the backend's reusable parallel loops are meant to keep near zero.
 *
 * <p>Scripts are read from {@code examples/<script>.nn} under the working directory (the
 * repository root) or under the {@code neurite.root} system property.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.openjdk.jmh.Main TrainingStepBenchmark -prof gc</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class TrainingStepBenchmark {
    @Param({"lenet5", "fashion_cnn", "rowlstm"})
    public String script;

    @Param("64")
    public int batch;

    @Param("2")
    public int threads;

    private Backend backend;
    private ParameterStore store;
    private CompiledModel model;
    private Loss loss;
    private Optimizer optimizer;
    private Tensor targets;
    private int step;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Path file = Path.of(System.getProperty("neurite.root", "."), "examples", script + ".nn");
        Script parsed = new ScriptLoader(runtime.layers()).load(file);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name()));
        backend = runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), warning -> {});
        store = new ParameterStore(graph, backend, spec.seed());
        model = CompiledModel.compile(graph, backend, batch, store);
        loss = Loss.byName(spec.loss());
        optimizer = Optimizer.create(spec.optimizer(), store);

        // One random batch: inputs uniform in [0, 1), class labels (as floats) over the outputs.
        SplittableRandom rng = new SplittableRandom(42);
        Tensor input = model.input(0);
        float[] x = new float[input.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        backend.upload(x, input);
        int classes = graph.outputShape().size();
        float[] labels = new float[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.nextInt(classes);
        targets = backend.allocate(Shape.of(batch));
        backend.upload(labels, targets);
    }

    @Benchmark
    public double trainingStep() {
        step++;
        model.forward(true, step);
        double summedLoss = loss.compute(model.output(), targets, model.gradOutput(), batch);
        model.backward();
        optimizer.step(step);
        return summedLoss;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
        store.close();
        backend.close();
    }
}
