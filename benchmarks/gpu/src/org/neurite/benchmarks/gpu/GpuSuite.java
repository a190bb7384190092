package org.neurite.benchmarks.gpu;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
import org.neurite.io.AtomicFiles;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * What {@code benchmarks/gpu/run.sh} runs on a machine with an OpenCL device (an NVIDIA GPU, or
 * PoCL): the OpenCL devices found, backend-gpu-opencl's parity suite (JUnit, the same classes
 * Maven runs: every op against the CPU backend and the PyTorch fixtures), SGEMM throughput
 * ({@code C[n,n] = A[n,n] B[n,n]}, 2n^3 flops per call) on the device and on the CPU backend, and
 * the training and inference throughput of the three workloads of {@code benchmarks/peer}
 * (lenet5, fashion_cnn, rowlstm) on random data at each batch size, measured along the path of
 * {@code nn train} ({@link UserPathWorkload}: the script's settings, {@code TrainingRun}, after a
 * warm-up epoch) with the host synchronisations and kernel launches per step the backend counted.
 * Ends with one table; {@code --json FILE} also writes the figures as JSON, which
 * {@code torch_twin.py --neurite FILE} reads to print the ratios to PyTorch.
 *
 * <p>Options: {@code --device SEL} (index, type or name, as a deployment's {@code device:}),
 * {@code --examples DIR} (the .nn scripts), {@code --sizes 256,512,...}, {@code --cpu-sizes ...},
 * {@code --rounds N} (median of N), {@code --steps N} (training steps per epoch), {@code --batch 64,256,1024}
 * (training and inference), {@code --infer-batches N} (batches per inference round), {@code --threads N}
 * (CPU backend threads, 0 = all cores), {@code --workloads lenet5,...} (empty for none),
 * {@code --workload-backends opencl,cpu}, {@code --skip-parity}, {@code --json FILE}, {@code --list-devices} (only that).
 */
public final class GpuSuite {
    private final List<String[]> table = new ArrayList<>();
    private final Map<Integer, Double> sgemmOpenCl = new LinkedHashMap<>();
    private final List<UserPathWorkload.Result> workloads = new ArrayList<>();
    private final NeuriteRuntime runtime = NeuriteRuntime.discover();
    private final String device;
    private final int rounds;
    private final int threads;
    private String deviceDescription = "";
    private String parity = "not run";
    private boolean parityFailed;

    private GpuSuite(String device, int rounds, int threads) {
        this.device = device;
        this.rounds = rounds;
        this.threads = threads;
    }

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (NumberFormatException e) {
            System.err.println("GpuSuite: a number was expected: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) throws Exception {
        String device = option(args, "--device", null);
        Path examples = Path.of(option(args, "--examples", "examples"));
        int rounds = Integer.parseInt(option(args, "--rounds", "3"));
        int steps = Integer.parseInt(option(args, "--steps", "20"));
        int inferBatches = Integer.parseInt(option(args, "--infer-batches", "8"));
        int threads = Integer.parseInt(option(args, "--threads", "0"));
        int[] sizes = ints(option(args, "--sizes", "256,512,1024,2048,4096"));
        int[] cpuSizes = ints(option(args, "--cpu-sizes", "256,512,1024,2048"));
        int[] batches = ints(option(args, "--batch", "64,256,1024"));
        String json = option(args, "--json", null);
        List<String> workloadBackends = Arrays.stream(option(args, "--workload-backends", "opencl,cpu").split(","))
                .map(String::trim).filter(b -> !b.isEmpty()).toList();
        List<Path> scripts = Arrays.stream(option(args, "--workloads", "lenet5,fashion_cnn,rowlstm").split(","))
                .map(String::trim).filter(w -> !w.isEmpty()).map(w -> examples.resolve(w + ".nn")).toList();
        for (Path script : scripts) {
            if (!Files.isRegularFile(script)) {
                System.err.println("GpuSuite: no workload script " + script + " (--workloads names scripts in --examples " + examples + ")");
                System.exit(2);
            }
        }
        GpuSuite suite = new GpuSuite(device, rounds, threads);

        ClBackendProvider provider = (ClBackendProvider) suite.runtime.backends().get("opencl");
        String why = provider.availability();
        System.out.println("== OpenCL devices");
        if (why != null) {
            System.out.println("OpenCL is unavailable: " + why);
            System.exit(2);
        }
        for (ClDeviceInfo d : provider.devices()) System.out.println("  " + d.describe());
        if (Arrays.asList(args).contains("--list-devices")) {
            // The driver is loaded now. A second's pause lets -Xcheck:jni's periodic check name any
            // signal handler it replaced (device-check.sh); JOCL reads no device data under that flag,
            // so nothing more can run in such a process.
            Thread.sleep(1000);
            return;
        }
        try (Backend cl = suite.opencl()) {
            // The description names the program's origin (compiled or cached) and the tuned SGEMM kernels.
            suite.deviceDescription = cl.description();
            System.out.println("selected: " + cl.description());
            suite.row("device", cl.description());
        }

        if (!Arrays.asList(args).contains("--skip-parity")) suite.parity(device);
        for (int n : sizes) suite.sgemm("opencl", n);
        for (int n : cpuSizes) suite.sgemm("cpu", n);
        UserPathWorkload measure = new UserPathWorkload(suite.runtime);
        for (Path script : scripts) {
            for (String backendName : workloadBackends) {
                for (int batch : batches) {
                    try (Backend b = suite.backend(backendName)) {
                        suite.workload(measure.measure(b, backendName, script, batch, steps, rounds, inferBatches));
                    }
                    if (json != null) suite.writeJson(Path.of(json)); // after each: a run cut short keeps what it measured
                }
            }
        }
        suite.printTable();
        if (json != null) {
            suite.writeJson(Path.of(json));
            System.out.println("figures written to " + json);
        }
        if (suite.parityFailed) System.exit(1); // after the figures: a failed parity test fails the run
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
        parity = String.format(Locale.ROOT, "%d run, %d passed, %d failed, %d skipped (%.0f s)", s.getTestsStartedCount(),
                s.getTestsSucceededCount(), s.getTestsFailedCount(), s.getTestsSkippedCount() + s.getTestsAbortedCount(),
                (System.nanoTime() - start) / 1e9);
        row("parity tests", parity);
        parityFailed = s.getTestsFailedCount() > 0;
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
            if (backendName.equals("opencl")) sgemmOpenCl.put(n, median(gflops));
        }
    }

    private void workload(UserPathWorkload.Result r) {
        workloads.add(r);
        String line = String.format(Locale.ROOT, "train %.0f samples/s (%.2f ms/step, %.3f syncs/step, %.1f launches/step), "
                        + "infer %.0f samples/s (%.3f syncs/batch, %.1f launches/batch)", r.trainSamplesPerSecond(), r.msPerStep(),
                r.syncsPerStep(), r.launchesPerStep(), r.inferSamplesPerSecond(), r.inferSyncsPerBatch(), r.inferLaunchesPerBatch());
        String what = r.workload() + " " + r.backend() + " batch " + r.batch();
        System.out.println(what + ": " + line);
        row(what, line);
    }

    /**
     * The figures as one JSON object, written atomically: {@code framework}, {@code device},
     * {@code parity}, {@code sgemm_gflops} (size to GFLOP/s on OpenCL) and {@code workloads}, one
     * object per workload, backend and batch with the fields {@code torch_twin.py} prints.
     */
    private void writeJson(Path file) throws IOException {
        StringBuilder s = new StringBuilder("{\n  \"framework\": \"neurite\",\n  \"device\": ").append(quote(deviceDescription))
                .append(",\n  \"parity\": ").append(quote(parity)).append(",\n  \"sgemm_gflops\": {");
        String sep = "";
        for (Map.Entry<Integer, Double> e : sgemmOpenCl.entrySet()) {
            s.append(sep).append('"').append(e.getKey()).append("\": ").append(number(e.getValue()));
            sep = ", ";
        }
        s.append("},\n  \"workloads\": [");
        sep = "\n    ";
        for (UserPathWorkload.Result r : workloads) {
            s.append(sep).append(String.format(Locale.ROOT, "{\"workload\": %s, \"backend\": %s, \"batch\": %d, \"steps\": %d, "
                            + "\"train_samples_per_second\": %s, \"ms_per_step\": %s, \"syncs_per_step\": %s, \"launches_per_step\": %s, "
                            + "\"infer_samples_per_second\": %s, \"infer_syncs_per_batch\": %s, \"infer_launches_per_batch\": %s}",
                    quote(r.workload()), quote(r.backend()), r.batch(), r.steps(), number(r.trainSamplesPerSecond()), number(r.msPerStep()),
                    number(r.syncsPerStep()), number(r.launchesPerStep()), number(r.inferSamplesPerSecond()),
                    number(r.inferSyncsPerBatch()), number(r.inferLaunchesPerBatch())));
            sep = ",\n    ";
        }
        s.append("\n  ]\n}\n");
        AtomicFiles.writeString(file, s.toString());
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    private static String quote(String text) {
        StringBuilder s = new StringBuilder("\"");
        for (char ch : text.toCharArray()) {
            if (ch == '"' || ch == '\\') s.append('\\').append(ch);
            else if (ch < 0x20) s.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
            else s.append(ch);
        }
        return s.append('"').toString();
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
        return UserPathWorkload.median(v);
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return args[i + 1];
        return fallback;
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).filter(s -> !s.isEmpty()).mapToInt(Integer::parseInt).toArray();
    }
}
