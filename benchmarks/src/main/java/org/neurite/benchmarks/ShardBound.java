package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * What a sharded training step could reach on the CPU backend (the bound {@code TrainStep}'s
 * two-shard step was built against): the batch
 * split into two shards, each trained by its own thread on a one-thread CPU backend, the two
 * meeting at a barrier wherever a sharded step would have to exchange data: before and after each
 * batch norm forward (its statistics over the whole batch), after each batch norm backward (its
 * two sums), and before the step's update (the weight gradients added across shards). Each shard
 * keeps its own weights and runs its own optimiser (Adam's share is small), and its batch norm
 * uses its own statistics: the figure is the step's speed, not a training run.
 * <pre>java -XX:InlineSmallCode=10000 --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.ShardBound examples/resnet_small.nn --batch 64 --steps 50 --rounds 7 [--barriers 0]</pre>
 * prints the median training samples/s of the two shards together (batch/2 each), one line of
 * JSON. {@code --barriers 0} leaves the barriers out (the bound of two independent halves).
 */
public final class ShardBound {
    private ShardBound() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args[0]);
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 50);
        int rounds = intOption(args, "--rounds", 7);
        boolean barriers = intOption(args, "--barriers", 1) != 0;
        int warmUpEpochs = intOption(args, "--warm-up-epochs", 30);

        // Each half is a plain one-thread step: not itself split into shards by TrainStep.
        System.setProperty("neurite.shards", "false");
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        int shardBatch = batch / 2;
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(shardBatch, 1, 1);
        SpinBarrier barrier = new SpinBarrier();
        double[] rates = new double[rounds];
        AtomicInteger meetings = new AtomicInteger();
        Thread[] shards = new Thread[2];
        Throwable[] failure = new Throwable[1];
        for (int s = 0; s < 2; s++) {
            int shard = s;
            shards[s] = new Thread(() -> {
                Dataset data = WorkloadThroughput.randomClassification(graph, shardBatch * steps);
                try (Backend real = runtime.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> {})) {
                    Backend backend = barriers ? meeting(real, barrier, shard == 0 ? meetings : null) : real;
                    try (ParameterStore store = new ParameterStore(graph, backend, 1);
                         Trainer trainer = new Trainer(graph, store, spec)) {
                        int epoch = 1;
                        for (int e = 0; e < warmUpEpochs; e++) trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
                        for (int r = 0; r < rounds; r++) {
                            barrier.await();
                            long start = System.nanoTime();
                            trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
                            barrier.await();
                            if (shard == 0) rates[r] = 2.0 * shardBatch * steps / ((System.nanoTime() - start) / 1e9);
                        }
                    }
                } catch (Throwable t) {
                    failure[0] = t;
                    barrier.broken = true;
                }
            }, "shard-" + s);
            shards[s].start();
        }
        for (Thread t : shards) t.join();
        if (failure[0] != null) throw new IllegalStateException(failure[0]);
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"batch\": %d, \"shards\": 2, \"barriers\": %b, \"meetings_per_step\": %.1f, "
                        + "\"train_samples_per_second\": %.1f, \"train_rounds\": %s}%n",
                graph.graph().name(), batch, barriers, meetings.get() / (double) ((warmUpEpochs + rounds) * steps),
                sorted[rounds / 2], Arrays.toString(Arrays.stream(rates).mapToLong(Math::round).toArray()));
    }

    /** The backend with a barrier wherever a sharded step would exchange data (see the class comment). */
    private static Backend meeting(Backend real, SpinBarrier barrier, AtomicInteger count) {
        InvocationHandler h = (proxy, method, args) -> {
            String name = method.getName();
            boolean before = name.startsWith("batchNormForward") || name.equals("stepControl");
            boolean after = name.startsWith("batchNormForward") || name.startsWith("batchNormBackward");
            if (before) meet(barrier, count);
            Object result = invoke(real, method, args);
            if (after) meet(barrier, count);
            return result;
        };
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, h);
    }

    private static void meet(SpinBarrier barrier, AtomicInteger count) {
        if (count != null) count.incrementAndGet();
        barrier.await();
    }

    private static Object invoke(Backend real, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(real, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /**
     * Two parties, sense-reversing, spinning (as the CPU backend's workers spin between regions):
     * a parked thread's wake-up would measure the scheduler, not the step.
     */
    private static final class SpinBarrier {
        private final AtomicInteger arrived = new AtomicInteger();
        private volatile int generation;
        volatile boolean broken;

        void await() {
            int g = generation;
            if (arrived.incrementAndGet() == 2) {
                arrived.set(0);
                generation = g + 1;
                return;
            }
            while (generation == g) {
                if (broken) throw new IllegalStateException("the other shard failed");
                Thread.onSpinWait();
            }
        }
    }
}
