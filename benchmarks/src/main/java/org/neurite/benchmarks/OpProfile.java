package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * Where a training step's time goes, op by op: runs a {@code .nn} script's training (and then
 * inference) on random data through a timing proxy around the CPU backend and prints, per op
 * and shape (a GEMM by its transposes and m x n x k, a convolution by its channels and image
 * size), the calls per step, milliseconds per step and the share of the step.
 *
 * <p>The proxy boxes its arguments (a few hundred bytes per op), which costs microseconds
 * against ops of milliseconds; use {@code WorkloadThroughput} or JMH for throughput figures and
 * compare shares here, not totals. An op's name is formatted once per call site (its method and
 * the arguments the name shows): formatted on every call, about 20 µs an op, it let the idle
 * worker of a two-thread backend park between ops, and the small ResNet's step took 11.8 ms
 * profiled against 9.9 ms with the proxy alone (batch 64). Training warms up as
 * {@link WorkloadThroughput#warmUpTraining} does (at least 10 s, then until the JIT is quiet),
 * inference for a third of {@link WorkloadThroughput#WARM_UP_NANOS}. {@code --rounds R} (5) epochs of training
 * and passes of inference are timed, so that one descheduled worker on a shared machine does not
 * dominate an op's total (a single inference pass of a few batches lasts about 0.1 s).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.OpProfile examples/fashion_cnn.nn --batch 64 --steps 30 --threads 2</pre>
 */
public final class OpProfile {
    private OpProfile() {}

    /** Accumulated nanoseconds and calls per op key, in first-call order. */
    private static final class Timings implements InvocationHandler {
        final Backend target;
        final Map<String, long[]> byKey = new LinkedHashMap<>();
        /**
         * Each call site's totals by the arguments its key is made of: a key by
         * {@code String.format} for every call took about 20 µs, long enough on two threads for
         * the waiting worker to park between ops (2 ms more a step on the small ResNet).
         */
        private final Map<List<Object>, long[]> byCall = new HashMap<>();
        boolean recording;
        /**
         * The thread whose calls are timed: a training step that runs as two shards of its batch
         * (docs/architecture.md) calls the second shard's ops from a pool worker at the same time,
         * and its times would count twice; shard 0's ops, on this thread, stand for the step's
         * (with one thread both shards run here, in turns, and both count).
         */
        private final Thread caller = Thread.currentThread();

        Timings(Backend target) {
            this.target = target;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            long start = System.nanoTime();
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            long took = System.nanoTime() - start;
            if (recording && Thread.currentThread() == caller) {
                long[] t = byCall.computeIfAbsent(keyArguments(method, args), k -> byKey.computeIfAbsent(key(method, args), s -> new long[2]));
                t[0] += took;
                t[1]++;
            }
            return result;
        }

        /** The method and those of its arguments that {@link #key} reads (records and enums compare by value). */
        private static List<Object> keyArguments(Method method, Object[] args) {
            String name = method.getName();
            if (args == null) return List.of(method);
            if (name.equals("gemm") && !(args[0] instanceof Gemm)) return Arrays.asList(method, args[0], args[1], args[2], args[3], args[4]);
            if (name.equals("denseForward") || name.equals("denseBackwardData")) return Arrays.asList(method, args[3], args[5], args[6], args[7]);
            if (name.startsWith("conv2d")) return Arrays.asList(method, args[0], args.length == 6 ? args[4] : null);
            if (name.equals("maxPool2dBackward")) return Arrays.asList(method, args.length, args.length == 6 ? args[4] : null);
            return Arrays.asList(method, args[0] instanceof Gemm || args[0] instanceof Enum<?> ? args[0] : null);
        }

        private static String key(Method method, Object[] args) {
            String name = method.getName();
            if (name.equals("gemm") && args[0] instanceof Gemm g) {
                return String.format(Locale.ROOT, "gemm %s%s %dx%dx%d x%d", g.transA() ? "T" : "N", g.transB() ? "T" : "N",
                        g.m(), g.n(), g.k(), g.batch());
            }
            if (name.equals("gemm")) {
                return String.format(Locale.ROOT, "gemm %s%s %dx%dx%d", (boolean) args[0] ? "T" : "N", (boolean) args[1] ? "T" : "N",
                        args[2], args[3], args[4]);
            }
            // The fused forms (docs/backends.md, "Fused epilogues"): the product they run, and the activation they fold in.
            if (name.equals("denseForward") || name.equals("denseBackwardData")) {
                boolean forward = name.equals("denseForward");
                return String.format(Locale.ROOT, "%s (gemm %s %dx%dx%d)%s", name, forward ? "NT" : "NN", args[5], forward ? args[7] : args[6],
                        forward ? args[6] : args[7], args[3] == null ? "" : " + " + args[3]);
            }
            if (name.startsWith("conv2d")) {
                Conv2dGeometry g = (Conv2dGeometry) args[0];
                return String.format(Locale.ROOT, "%s %d->%d %dx%d on %dx%d%s", name, g.inChannels(), g.outChannels(),
                        g.kernelH(), g.kernelW(), g.height(), g.width(), args.length == 6 ? " + " + args[4] : "");
            }
            if (name.equals("maxPool2dBackward") && args.length == 6 && args[4] != null) return name + " + " + args[4];
            if (name.equals("unary") || name.equals("unaryBackward") || name.equals("binary") || name.equals("channelBroadcast")) {
                return name + " " + args[0];
            }
            return name;
        }

        void print(String title, int steps) {
            long total = byKey.values().stream().mapToLong(t -> t[0]).sum();
            System.out.printf(Locale.ROOT, "%s: %.2f ms per step in backend ops%n", title, total / 1e6 / steps);
            List<Map.Entry<String, long[]>> rows = new ArrayList<>(byKey.entrySet());
            rows.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
            for (Map.Entry<String, long[]> e : rows) {
                long[] t = e.getValue();
                System.out.printf(Locale.ROOT, "  %-52s %5.1f calls %8.3f ms %5.1f%%%n", e.getKey(), (double) t[1] / steps,
                        t[0] / 1e6 / steps, 100.0 * t[0] / total);
            }
            byKey.clear();
            byCall.clear();
        }
    }

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args[0]);
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 30);
        int threads = intOption(args, "--threads", 2);
        int inferBatch = intOption(args, "--infer-batch", 256);
        int rounds = intOption(args, "--rounds", 5);

        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        int count = batch * steps;
        Dataset data = WorkloadThroughput.randomClassification(graph, count);
        float[] x = data.features();

        try (Backend real = runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {})) {
            Timings timings = new Timings(real);
            Backend backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, timings);
            try (ParameterStore store = new ParameterStore(graph, backend, 1);
                 Trainer trainer = new Trainer(graph, store, spec);
                 Predictor predictor = new Predictor(graph, store, inferBatch)) {
                // WorkloadThroughput's warm-up: until C2 has compiled a kernel it runs in C1 with its
                // vectors allocated, and its share of the step would be inflated.
                int epoch = WorkloadThroughput.warmUpTraining(trainer, data, WorkloadThroughput.WARM_UP_MAX_SECONDS).nextEpoch();
                timings.recording = true;
                long start = System.nanoTime(), waitedBefore = WorkloadThroughput.shardWaitNanos(real);
                for (int r = 0; r < rounds; r++) trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
                double ms = (System.nanoTime() - start) / 1e6 / (steps * rounds);
                double waitMs = WorkloadThroughput.msPerStep(waitedBefore, WorkloadThroughput.shardWaitNanos(real), steps * rounds);
                timings.recording = false;
                System.out.printf(Locale.ROOT, "training, batch %d, %d threads, %d epochs of %d steps: %.2f ms per step (%.0f samples/s)%n",
                        batch, threads, rounds, steps, ms, batch * 1000 / ms);
                if (TrainStep.runsInShards(graph, backend, batch)) {
                    String whose = threads == 1 ? "in turns on this thread: the ops below are both shards'"
                            : "the ops below are the first shard's, on its " + (batch - batch / 2) + " samples";
                    System.out.println("(the step runs as two shards of the batch, " + whose + "; -Dneurite.shards=false for the step unsharded)");
                    if (threads > 1) {
                        System.out.printf(Locale.ROOT, "(batch norm's times include the shards' waits for each other at its exchanges: %.3f ms per step,"
                                + " both shards' added)%n", waitMs);
                    }
                }
                timings.print("training", steps * rounds);

                int inferSteps = Math.max(1, count / inferBatch);
                int n = inferBatch * inferSteps;
                long warmUpStart = System.nanoTime();
                do {
                    predictor.predict(x, n);
                } while (System.nanoTime() - warmUpStart < WorkloadThroughput.WARM_UP_NANOS / 3);
                // Several passes: one pass of a few batches lasts ~0.1 s, and one descheduled worker on a
                // shared machine would inflate whichever op it hit.
                timings.recording = true;
                start = System.nanoTime();
                for (int r = 0; r < rounds; r++) predictor.predict(x, n);
                ms = (System.nanoTime() - start) / 1e6 / (inferSteps * rounds);
                timings.recording = false;
                System.out.printf(Locale.ROOT, "inference, batch %d, %d passes of %d batches: %.2f ms per batch (%.0f samples/s)%n",
                        inferBatch, rounds, inferSteps, ms, inferBatch * 1000 / ms);
                if (Predictor.runsInShards(graph, backend)) {
                    String whose = threads == 1 ? "in turns on this thread: the ops below are both shards'" : "the ops below are the first shard's";
                    System.out.println("(the predictor runs each pass as two shards in pieces of at most 32 samples, " + whose
                            + ", per batch of " + inferBatch + "; -Dneurite.predictor.shards=false for whole batches)");
                }
                timings.print("inference", inferSteps * rounds);
            }
        }
    }
}
