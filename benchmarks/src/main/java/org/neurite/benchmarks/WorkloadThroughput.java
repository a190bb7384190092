package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.backend.BatchShards;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * Whole-workload throughput of a {@code .nn} script on random data, the Neurite half of
 * {@code benchmarks/peer/peer.py}: training (forward, loss, backward, the script's optimiser)
 * and inference, each timed over several rounds after warm-up. Prints one JSON line with the
 * median samples per second of each, the host synchronisations and launches per training step
 * the backend counted in the last training round ({@code syncs_per_step}, {@code launches_per_step})
 * the bytes the JVM allocated per timed training step ({@code bytes_per_step}, see
 * {@link #allocatedBytes}) and the milliseconds per timed step the step's two shards waited for
 * each other ({@code shard_wait_ms_per_step}, see {@link #shardWaitNanos}), and each shard's part
 * ({@code shard_wait_ms_per_step_by_shard}, shard 0's first: see {@link #shardWaitNanosByShard}).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.WorkloadThroughput examples/lenet5.nn --batch 64 --steps 50 --rounds 5 --threads 2</pre>
 *
 * {@code --backend opencl} measures another registered backend (its jars added to the classpath);
 * {@code --read-every K} reads the steps' results every K steps instead of the backend's default.
 *
 * <p>{@code --commands} times one round per command read from standard input instead, so that
 * {@code peer.py} can alternate PyTorch's rounds with Neurite's (see {@link #commands}).
 */
public final class WorkloadThroughput {
    private WorkloadThroughput() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args[0]);
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 50);
        int rounds = intOption(args, "--rounds", 5);
        int threads = intOption(args, "--threads", 2);
        int inferBatch = intOption(args, "--infer-batch", 256);
        // Any registered backend ("opencl" when backend-gpu-opencl and JOCL are on the classpath); the CPU by default.
        String backendName = stringOption(args, "--backend", "cpu");
        // Steps between reads of the training step's results (0: the backend's default, TrainStep.readEvery).
        int readEvery = intOption(args, "--read-every", 0);
        // The longest training warm-up: it ends earlier once the JIT is quiet (warmUpTraining), never before 10 s.
        int warmUpMaxSeconds = intOption(args, "--warm-up-max-seconds", WARM_UP_MAX_SECONDS);

        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        Dataset data = randomClassification(graph, batch * steps);

        double[] train;
        double[] infer = new double[rounds];
        BackendCounters perEpoch;
        int stepsPerEpoch;
        double bytesPerStep, waitPerStep;
        double[] waitPerStepByShard;
        WarmUp warmUp;
        try (Backend backend = runtime.createBackend(backendName, new BackendOptions(threads, null), List.of(), w -> {});
             ParameterStore store = new ParameterStore(graph, backend, 1);
             Trainer trainer = new Trainer(graph, store, spec);
             Predictor predictor = new Predictor(graph, store, inferBatch)) {
            if (readEvery > 0) trainer.trainStep().readEvery(readEvery);
            int n = inferBatch * Math.max(1, steps / 4);
            float[] x = Arrays.copyOf(data.features(), n * data.sampleSize());      // the inference inputs
            if (Arrays.asList(args).contains("--commands")) {
                commands(backend, trainer, predictor, data, x, n, warmUpMaxSeconds);
                return;
            }
            warmUp = warmUpTraining(trainer, data, warmUpMaxSeconds);
            // The wait reading first: its first call links a method reference, which allocates.
            long waitedBefore = shardWaitNanos(backend);
            long[] waitedBeforeByShard = shardWaitNanosByShard(backend);
            long before = allocatedBytes();
            train = timedRounds(trainer, data, warmUp.nextEpoch(), rounds);
            stepsPerEpoch = trainer.lastEpochSteps();
            bytesPerStep = bytesPerStep(before, allocatedBytes(), rounds * stepsPerEpoch);
            waitPerStep = msPerStep(waitedBefore, shardWaitNanos(backend), rounds * stepsPerEpoch);
            waitPerStepByShard = msPerStepByShard(waitedBeforeByShard, shardWaitNanosByShard(backend), rounds * stepsPerEpoch);
            perEpoch = trainer.lastEpochCounters().orElse(BackendCounters.ZERO);   // the last round's epoch
            warmUpInference(predictor, x, n);
            for (int r = 0; r < rounds; r++) infer[r] = inferenceRate(predictor, x, n);
        }
        System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"batch\": %d, \"threads\": %d, \"train_samples_per_second\": %.1f, "
                        + "\"infer_samples_per_second\": %.1f, \"train_rounds\": %s, \"infer_rounds\": %s, "
                        + "\"syncs_per_step\": %.3f, \"launches_per_step\": %.1f, \"bytes_per_step\": %.0f, \"shard_wait_ms_per_step\": %.3f, "
                        + "\"shard_wait_ms_per_step_by_shard\": [%.3f, %.3f], \"warm_up_seconds\": %.1f}%n",
                graph.graph().name(), batch, threads, median(train), median(infer), Arrays.toString(round(train)), Arrays.toString(round(infer)),
                perEpoch.syncsPer(stepsPerEpoch), perEpoch.launchesPer(stepsPerEpoch), bytesPerStep, waitPerStep,
                waitPerStepByShard[0], waitPerStepByShard[1], warmUp.seconds());
    }

    /**
     * Rounds on request, one per line of standard input, each answered by one JSON line on
     * standard output: first the training warm-up of {@link #trainingRounds}, then
     * {@code {"ready": "train"}}; {@code train} runs one timed epoch ({@code {"train": samples/s}},
     * with its {@code bytes_per_step} and {@code shard_wait_ms_per_step}),
     * {@code warm-infer} the inference warm-up ({@code {"ready": "infer"}}), {@code infer} one timed
     * pass over the {@code n} samples of {@code x} ({@code {"infer": samples/s}}); end of input or
     * {@code quit} ends it. {@code peer.py} alternates these rounds with PyTorch's, so that a
     * machine whose speed drifts over seconds (a shared VM: PyTorch's resnet_small inference went
     * between 10 and 15 thousand samples/s in periods of a few seconds within one process) slows
     * both sides of a pair alike.
     */
    static void commands(Backend backend, Trainer trainer, Predictor predictor, Dataset data, float[] x, int n, int warmUpMaxSeconds)
            throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        WarmUp warmUp = warmUpTraining(trainer, data, warmUpMaxSeconds);
        int epoch = warmUp.nextEpoch();
        System.out.printf(Locale.ROOT, "{\"ready\": \"train\", \"warm_up_seconds\": %.1f}%n", warmUp.seconds());
        System.out.flush();
        for (String line; (line = in.readLine()) != null; ) {
            switch (line.strip()) {
                case "train" -> {
                    long waitedBefore = shardWaitNanos(backend);   // the wait readings outside the allocation count
                    long[] waitedBeforeByShard = shardWaitNanosByShard(backend);
                    long before = allocatedBytes();
                    EpochStats s = trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
                    int steps = trainer.lastEpochSteps();
                    double perStep = bytesPerStep(before, allocatedBytes(), steps);
                    double waited = msPerStep(waitedBefore, shardWaitNanos(backend), steps);
                    double[] byShard = msPerStepByShard(waitedBeforeByShard, shardWaitNanosByShard(backend), steps);
                    System.out.printf(Locale.ROOT, "{\"train\": %.1f, \"bytes_per_step\": %.0f, \"shard_wait_ms_per_step\": %.3f, "
                                    + "\"shard_wait_ms_per_step_by_shard\": [%.3f, %.3f]}%n",
                            s.samplesPerSecond(), perStep, waited, byShard[0], byShard[1]);
                }
                case "warm-infer" -> {
                    warmUpInference(predictor, x, n);
                    System.out.println("{\"ready\": \"infer\"}");
                }
                case "infer" -> System.out.printf(Locale.ROOT, "{\"infer\": %.1f}%n", inferenceRate(predictor, x, n));
                case "quit" -> {
                    return;
                }
                default -> throw new IllegalArgumentException("unknown command '" + line + "' (train, warm-infer, infer, quit)");
            }
            System.out.flush();
        }
    }

    /**
     * Training warm-up before the timed rounds, at least (inference: a third of it, after
     * training). Until C2 has compiled a Vector API kernel it runs in the interpreter or C1, where
     * every vector is an allocated array and the kernel is many times slower; on a 2-core machine
     * the JVM has one C2 thread, whose queue of large vector methods delays each kernel's
     * compilation by seconds. {@code -XX:+PrintCompilation} on resnet_small (2 threads, 2 cores):
     * C2 compilations of the backend's kernels went on until 7 s into training (the Winograd output
     * transform ran in C1 until then), and its epochs climbed from 3,500 to 5,200 samples/s over
     * the first 10 s; 3 s of warm-up had left the timed rounds anywhere on that climb. Training
     * then goes on until the JIT is quiet ({@link #warmUpTraining}).
     */
    static final long WARM_UP_NANOS = 10_000_000_000L;

    /** The longest training warm-up by default ({@code --warm-up-max-seconds}). */
    static final int WARM_UP_MAX_SECONDS = 60;
    /** The JIT is quiet when it compiled for at most {@link #QUIET_COMPILE_MILLIS} over the last {@link #QUIET_WINDOW_NANOS}. */
    private static final long QUIET_WINDOW_NANOS = 2_000_000_000L;
    private static final long QUIET_COMPILE_MILLIS = 20;

    /**
     * Training samples per second of {@code rounds} epochs over {@code data}, after warm-up epochs
     * (JIT, buffers) for at least {@link #WARM_UP_NANOS}. {@link LoaderThroughput} compares its
     * loader with these figures.
     */
    static double[] trainingRounds(Trainer trainer, Dataset data, int rounds) {
        return timedRounds(trainer, data, warmUpTraining(trainer, data, WARM_UP_MAX_SECONDS).nextEpoch(), rounds);
    }

    /** Training samples per second of {@code rounds} epochs over {@code data} from epoch number {@code epoch} on. */
    private static double[] timedRounds(Trainer trainer, Dataset data, int epoch, int rounds) {
        double[] train = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            EpochStats s = trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
            train[r] = s.samplesPerSecond();
        }
        return train;
    }

    /**
     * Bytes the JVM's live threads (the caller and the backend's workers among them) have
     * allocated so far, -1 where the JVM does not count them. A training step of a warmed-up JVM
     * allocates a few hundred bytes; tens of kilobytes and more mean Vector API kernels compiled
     * without their intrinsics, boxing every vector (a JVM in that state trains the small ResNet
     * 10-45% slower for its whole life: BENCHMARKS.md, "the JIT lottery"), which {@code peer.py}
     * reports. Summed over the thread ids rather than by {@code getTotalThreadAllocatedBytes},
     * which JDK 17's own API does not have (17.0.x updates do; a {@code --release 17} build on a
     * later JDK does not compile against it).
     */
    static long allocatedBytes() {
        try {
            if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean counting)
                    || !counting.isThreadAllocatedMemorySupported() || !counting.isThreadAllocatedMemoryEnabled()) return -1;
            long total = 0;
            for (long bytes : counting.getThreadAllocatedBytes(counting.getAllThreadIds())) if (bytes > 0) total += bytes;
            return total;
        } catch (LinkageError runtimeWithoutManagement) { // a jlink runtime without java.management or jdk.management
            return -1;
        }
    }

    /**
     * Nanoseconds the training step's two shards have waited for each other at their batch-norm
     * exchanges so far ({@link BatchShards#waitNanos}); 0 on a backend without shards.
     */
    static long shardWaitNanos(Backend backend) {
        return backend.extension(BatchShards.class).map(BatchShards::waitNanos).orElse(0L);
    }

    /**
     * Each shard's part of {@link #shardWaitNanos} ({@link BatchShards#waitNanos(int)}), shard 0's
     * first; zeros on a backend without shards. The shard that waited less ran on the slower core.
     */
    static long[] shardWaitNanosByShard(Backend backend) {
        return backend.extension(BatchShards.class).map(s -> new long[] {s.waitNanos(0), s.waitNanos(1)}).orElse(new long[2]);
    }

    /** {@link #msPerStep} of each shard's readings ({@link #shardWaitNanosByShard}). */
    static double[] msPerStepByShard(long[] nanosBefore, long[] nanosAfter, int steps) {
        return new double[] {msPerStep(nanosBefore[0], nanosAfter[0], steps), msPerStep(nanosBefore[1], nanosAfter[1], steps)};
    }

    /** Milliseconds per step between two nanosecond readings ({@link #shardWaitNanos}) over {@code steps} steps (at least one). */
    static double msPerStep(long nanosBefore, long nanosAfter, int steps) {
        return (nanosAfter - nanosBefore) / 1e6 / Math.max(1, steps);
    }

    /** Bytes allocated per step between two {@link #allocatedBytes} readings over {@code steps} steps; -1 if not counted. */
    private static double bytesPerStep(long before, long after, int steps) {
        return before < 0 || after < 0 || steps <= 0 ? -1 : (after - before) / (double) steps;
    }

    /**
     * Training epochs over {@code data} for at least {@link #WARM_UP_NANOS}, then until the JIT
     * compilers have been quiet for a while (at most {@link #QUIET_COMPILE_MILLIS} of compilation
     * in the last {@link #QUIET_WINDOW_NANOS}, from {@code CompilationMXBean}) or {@code
     * maxSeconds} have passed; returns the next epoch's number and how long it trained. Why: methods the step calls once
     * (the optimiser's, the step's own) reach C2's thresholds only after thousands of steps, so
     * after 10 s C2 was still compiling and recompiling (12-19 s into resnet_small's run, by
     * {@code -XX:+PrintCompilation}); each compilation takes one of a 2-core machine's cores from
     * a training shard, and both shards wait (BENCHMARKS.md, 2026-12-07, "the shards' waits"). A
     * training run of minutes spends nearly all of them past that point.
     */
    static WarmUp warmUpTraining(Trainer trainer, Dataset data, int maxSeconds) {
        int epoch = 1;
        long start = System.nanoTime(), windowStart = start, longest = Math.max(WARM_UP_NANOS, maxSeconds * 1_000_000_000L);
        long compiledAtWindowStart = compilationMillis();
        while (true) {
            trainer.trainEpoch(data, epoch++, TrainingListener.NONE);
            long now = System.nanoTime();
            if (now - start >= longest) break;
            if (now - windowStart < QUIET_WINDOW_NANOS) continue;
            long compiled = compilationMillis();
            if (now - start >= WARM_UP_NANOS && (compiled < 0 || compiled - compiledAtWindowStart <= QUIET_COMPILE_MILLIS)) break;
            windowStart = now;
            compiledAtWindowStart = compiled;
        }
        return new WarmUp(epoch, (System.nanoTime() - start) / 1e9);
    }

    /** A training warm-up's end: the next epoch's number, and how long it trained. */
    record WarmUp(int nextEpoch, double seconds) {}

    /** Milliseconds the JIT compilers have spent compiling so far (added over their threads), -1 where the JVM does not say. */
    static long compilationMillis() {
        try {
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
        } catch (LinkageError runtimeWithoutManagement) { // a jlink runtime without java.management
            return -1;
        }
    }

    /** Inference passes over the {@code n} samples of {@code x} for at least a third of {@link #WARM_UP_NANOS}. */
    private static void warmUpInference(Predictor predictor, float[] x, int n) {
        long warmUpStart = System.nanoTime();
        do {
            predictor.predict(x, n);
        } while (System.nanoTime() - warmUpStart < WARM_UP_NANOS / 3);
    }

    /** Samples per second of one timed inference pass over the {@code n} samples of {@code x}. */
    private static double inferenceRate(Predictor predictor, float[] x, int n) {
        long start = System.nanoTime();
        predictor.predict(x, n);
        return n / ((System.nanoTime() - start) / 1e9);
    }

    /** Uniform [0,1) inputs of the graph's input shape and labels over its outputs. */
    static Dataset randomClassification(TypedGraph graph, int count) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom rng = new SplittableRandom(42);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = rng.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static long[] round(double[] v) {
        return Arrays.stream(v).mapToLong(Math::round).toArray();
    }
}
