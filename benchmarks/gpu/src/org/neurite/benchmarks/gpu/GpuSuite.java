package org.neurite.benchmarks.gpu;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.opencl.ClBackendProvider;
import org.neurite.backend.opencl.ClDeviceInfo;
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
import org.neurite.tensor.Tensor;
import org.neurite.train.TrainSpec;

/**
 * What {@code benchmarks/gpu/run.sh} runs on a machine with an OpenCL device (an NVIDIA GPU, or
 * PoCL): the OpenCL devices found, backend-gpu-opencl's parity suite (JUnit, the same classes
 * Maven runs: every op against the CPU backend and the PyTorch fixtures), SGEMM throughput
 * ({@code C[n,n] = A[n,n] B[n,n]}, 2n^3 flops per call) on the device and on the CPU backend, and
 * the training and inference throughput of the three workloads of {@code benchmarks/peer}
 * (lenet5, fashion_cnn, rowlstm) on random data on both backends. Ends with one table.
 *
 * <p>Options: {@code --device SEL} (index, type or name, as a deployment's {@code device:}),
 * {@code --examples DIR} (the .nn scripts), {@code --sizes 256,512,...}, {@code --cpu-sizes ...},
 * {@code --rounds N} (median of N), {@code --steps N} (training steps per round), {@code --threads N}
 * (CPU backend threads, 0 = all cores), {@code --workloads lenet5,...} (empty for none), {@code --skip-parity}.
 */
public final class GpuSuite {
    private final List<String[]> table = new ArrayList<>();
    private final NeuriteRuntime runtime = NeuriteRuntime.discover();
    private final String device;
    private final int rounds;
    private final int threads;

    private GpuSuite(String device, int rounds, int threads) {
        this.device = device;
        this.rounds = rounds;
        this.threads = threads;
    }

    public static void main(String[] args) throws Exception {
        String device = option(args, "--device", null);
        Path examples = Path.of(option(args, "--examples", "examples"));
        int rounds = Integer.parseInt(option(args, "--rounds", "5"));
        int steps = Integer.parseInt(option(args, "--steps", "20"));
        int threads = Integer.parseInt(option(args, "--threads", "0"));
        int[] sizes = ints(option(args, "--sizes", "256,512,1024,2048,4096"));
        int[] cpuSizes = ints(option(args, "--cpu-sizes", "256,512,1024,2048"));
        GpuSuite suite = new GpuSuite(device, rounds, threads);

        ClBackendProvider provider = (ClBackendProvider) suite.runtime.backends().get("opencl");
        String why = provider.availability();
        System.out.println("== OpenCL devices");
        if (why != null) {
            System.out.println("OpenCL is unavailable: " + why);
            System.exit(2);
        }
        for (ClDeviceInfo d : provider.devices()) System.out.println("  " + d.describe());
        try (Backend cl = suite.opencl()) {
            System.out.println("selected: " + cl.description());
            suite.row("device", cl.description());
        }

        if (!Arrays.asList(args).contains("--skip-parity")) suite.parity(device);
        for (int n : sizes) suite.sgemm("opencl", n);
        for (int n : cpuSizes) suite.sgemm("cpu", n);
        for (String workload : option(args, "--workloads", "lenet5,fashion_cnn,rowlstm").split(",")) {
            if (workload.isBlank()) continue;
            Path script = examples.resolve(workload + ".nn");
            suite.workload("opencl", script, steps);
            suite.workload("cpu", script, steps);
        }
        suite.printTable();
    }

    private Backend opencl() {
        return runtime.createBackend("opencl", new BackendOptions(0, device), List.of(), w -> {});
    }

    private Backend backend(String name) {
        return name.equals("opencl") ? opencl() : runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
    }

    /** backend-gpu-opencl's test classes through the JUnit platform; failures are printed in full. */
    private void parity(String device) {
        System.out.println("== parity suite (org.neurite.backend.opencl tests)");
        if (device != null) System.setProperty("neurite.opencl.device", device);
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage("org.neurite.backend.opencl")).build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        long start = System.nanoTime();
        launcher.execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printTo(out);
        s.printFailuresTo(out, 30);
        row("parity tests", String.format(Locale.ROOT, "%d run, %d passed, %d failed, %d skipped (%.0f s)", s.getTestsStartedCount(),
                s.getTestsSucceededCount(), s.getTestsFailedCount(), s.getTestsSkippedCount() + s.getTestsAbortedCount(),
                (System.nanoTime() - start) / 1e9));
    }

    /** Median GFLOP/s of n x n x n SGEMM; each round repeats the call for at least 200 ms and then synchronises. */
    private void sgemm(String backendName, int n) {
        try (Backend b = backend(backendName)) {
            Tensor a = b.allocate(Shape.of(n, n)), x = b.allocate(Shape.of(n, n)), c = b.allocate(Shape.of(n, n));
            SplittableRandom random = new SplittableRandom(n);
            float[] values = new float[n * n];
            for (int i = 0; i < values.length; i++) values[i] = (float) random.nextDouble(-1, 1);
            b.upload(values, a);
            b.upload(values, x);
            Runnable call = () -> b.gemm(new Gemm(false, false, n, n, n, 1), 1f, Matrix.of(a, n), Matrix.of(x, n), 0f,
                    Matrix.of(c, n));
            call.run();
            b.synchronize();
            long t0 = System.nanoTime();
            call.run();
            b.synchronize();
            double once = Math.max(1e-6, (System.nanoTime() - t0) / 1e9);
            int calls = (int) Math.max(1, Math.min(1000, 0.2 / once));
            double[] gflops = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                for (int i = 0; i < calls; i++) call.run();
                b.synchronize();
                gflops[r] = 2.0 * n * n * n * calls / ((System.nanoTime() - start) / 1e9) / 1e9;
            }
            String line = String.format(Locale.ROOT, "%.1f GFLOP/s (median of %d rounds x %d calls)", median(gflops), rounds, calls);
            System.out.println("sgemm " + n + " on " + backendName + ": " + line);
            row("sgemm " + n + " " + backendName, line);
        }
    }

    /** Median training and inference samples/s of a script on random data (batch 64, the script's optimiser). */
    private void workload(String backendName, Path scriptFile, int steps) throws Exception {
        Script script = new ScriptLoader(runtime.layers()).load(scriptFile);
        TypedGraph graph = script.mainModel();
        int batch = 64;
        TrainSpec spec = script.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        Dataset data = randomClassification(graph, batch * steps);
        double[] train = new double[rounds], infer = new double[rounds];
        try (Backend b = backend(backendName);
             ParameterStore store = new ParameterStore(graph, b, 1);
             Trainer trainer = new Trainer(graph, store, spec);
             Predictor predictor = new Predictor(graph, store, 256)) {
            trainer.trainEpoch(data, 1, TrainingListener.NONE); // warm-up: JIT, buffers, kernel code generation
            for (int r = 0; r < rounds; r++) {
                EpochStats s = trainer.trainEpoch(data, r + 2, TrainingListener.NONE);
                train[r] = s.samplesPerSecond();
            }
            int n = 256 * Math.max(1, steps / 4);
            float[] x = Arrays.copyOf(data.features(), n * data.sampleSize());
            predictor.predict(x, n);
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                predictor.predict(x, n);
                infer[r] = n / ((System.nanoTime() - start) / 1e9);
            }
        }
        String line = String.format(Locale.ROOT, "train %.0f samples/s, infer %.0f samples/s", median(train), median(infer));
        System.out.println(graph.graph().name() + " on " + backendName + ": " + line);
        row(graph.graph().name() + " " + backendName, line);
    }

    private static Dataset randomClassification(TypedGraph graph, int count) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int classes = graph.outputShape().size();
        SplittableRandom random = new SplittableRandom(42);
        float[] x = new float[count * sample.size()];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble();
        int[] y = new int[count];
        for (int i = 0; i < count; i++) y[i] = random.nextInt(classes);
        return new Dataset("random", sample, x, y, classes, List.of(), false, count + " random samples");
    }

    private void row(String what, String result) {
        table.add(new String[] {what, result});
    }

    private void printTable() {
        int width = table.stream().mapToInt(r -> r[0].length()).max().orElse(10);
        System.out.println();
        System.out.println("== summary");
        for (String[] r : table) System.out.printf(Locale.ROOT, "%-" + width + "s  %s%n", r[0], r[1]);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return args[i + 1];
        return fallback;
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
    }
}
