package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;

import java.lang.management.ManagementFactory;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.neurite.backend.Backend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Two builds of the CPU backend side by side in one JVM, for before/after figures on a machine
 * shared with other work: each build is loaded from its own class path (a jar or a classes
 * folder) by its own class loader, and the kernels of fashion_cnn and LeNet-5 (each convolution
 * pass, max pooling, the dense layers' GEMMs), square SGEMMs and the small ResNet's convolutions,
 * batch norm and ReLU backward run in alternating rounds, old
 * then new then old..., so both see the same load. Printed per kernel: the median milliseconds
 * of each build and the median over rounds of old time / new time (the speed-up).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.PairedKernels --old /tmp/old-backend-cpu.jar --new backend-cpu/target/classes --rounds 9 --threads 2</pre>
 *
 * <p>{@code --threads 1 --cpu-time} times each round in the calling thread's CPU time (the kernels
 * then run on it), for a machine too loaded for wall time; {@code --warm-up-ms N} runs each kernel
 * pair for N ms before its rounds; {@code --only S} keeps the kernels whose name contains S;
 * {@code --cold} times each call alone after pushing the caches out (a 64 MiB write), as a
 * training step meets an op's inputs.
 */
public final class PairedKernels {
    private PairedKernels() {}

    /** One kernel, bound to one backend's tensors. */
    private interface Kernel {
        void run();
    }

    /** The kernels of one build, by name, in a fixed order. */
    private static Map<String, Kernel> kernels(Backend b, int batch, String only) {
        Map<String, Kernel> k = new LinkedHashMap<>();
        conv(k, b, "fashion_cnn.c1", new Conv2dGeometry(batch, 1, 28, 28, 32, 5, 5, 1, 1, 2, 2, 1, 1, 1), false);
        conv(k, b, "fashion_cnn.c2", new Conv2dGeometry(batch, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 1, 1, 1), true);
        conv(k, b, "lenet5.c1", new Conv2dGeometry(batch, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1), false);
        conv(k, b, "lenet5.c3", new Conv2dGeometry(batch, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1), true);
        pool(k, b, "fashion_cnn.pool1", new Pool2dGeometry(batch, 32, 28, 28, 2, 2, 2, 2, 0, 0, false, true));
        pool(k, b, "fashion_cnn.pool2", new Pool2dGeometry(batch, 64, 14, 14, 2, 2, 2, 2, 0, 0, false, true));
        // fashion_cnn's dense 3136 -> 1024: forward, dL/dx, dL/dw (as plugins/core Dense calls them).
        gemm(k, b, "dense.fwd 64x1024x3136 NT", false, true, batch, 1024, 3136);
        gemm(k, b, "dense.dx 64x3136x1024 NN", false, false, batch, 3136, 1024);
        gemm(k, b, "dense.dw 1024x3136x64 TN", true, false, 1024, 3136, batch);
        for (int n : new int[] {256, 512, 1024}) gemm(k, b, "sgemm " + n, false, false, n, n, n);
        // examples/resnet_small.nn: the 3x3 convolutions of its three stages (stride 1) and of a
        // stride-2 block entry, its widest batch norm and ReLU backward.
        conv(k, b, "resnet.16x14x14", new Conv2dGeometry(batch, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
        conv(k, b, "resnet.32x7x7", new Conv2dGeometry(batch, 32, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
        conv(k, b, "resnet.64x4x4", new Conv2dGeometry(batch, 64, 4, 4, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
        conv(k, b, "resnet.16to32 stride 2", new Conv2dGeometry(batch, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1), true);
        conv(k, b, "resnet.32to64 stride 2", new Conv2dGeometry(batch, 32, 7, 7, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1), true);
        conv(k, b, "resnet.shortcut 16to32 1x1 stride 2", new Conv2dGeometry(batch, 16, 14, 14, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1), true);
        conv(k, b, "resnet.shortcut 32to64 1x1 stride 2", new Conv2dGeometry(batch, 32, 7, 7, 64, 1, 1, 2, 2, 0, 0, 1, 1, 1), true);
        // examples/inception_small.nn: its second block's 3x3 convolutions (the channel-vector rule takes them).
        conv(k, b, "inception_small.3x3 24to32 7x7", new Conv2dGeometry(batch, 24, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1), false);
        conv(k, b, "inception_small.3x3 8to16 7x7", new Conv2dGeometry(batch, 8, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1), false);
        batchNorm(k, b, "resnet.bn 16x14x14", batch, 16, 14 * 14, null);
        batchNorm(k, b, "resnet.bn 32x7x7", batch, 32, 7 * 7, null);
        batchNorm(k, b, "resnet.bn 64x4x4", batch, 64, 4 * 4, null);
        // The stem (1 -> 16, 3x3 stride 2 on 28x28; its backward-filter runs CpuStridedDirectConv2d) and the blocks' batchnorm -> relu.
        // Inference folds the stem's batch norm into its weights and bias, and runs the relu in the convolution.
        conv(k, b, "resnet.stem 1to16 stride 2", new Conv2dGeometry(batch, 1, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1), false, true);
        batchNorm(k, b, "resnet.bn+relu 16x14x14", batch, 16, 14 * 14, UnaryOp.RELU);
        batchNorm(k, b, "resnet.bn+relu 32x7x7", batch, 32, 7 * 7, UnaryOp.RELU);
        batchNorm(k, b, "resnet.bn+relu 64x4x4", batch, 64, 4 * 4, UnaryOp.RELU);
        Tensor rx = random(b, Shape.of(batch, 16, 14, 14), 9), rdy = random(b, rx.shape(), 10), rdx = b.allocate(rx.shape());
        k.put("resnet.relu backward 16x14x14", () -> b.unaryBackward(UnaryOp.RELU, rx, null, rdy, rdx));
        globalPool(k, b, batch);
        if (only != null) k.keySet().removeIf(name -> !name.contains(only));
        return k;
    }

    /**
     * The small ResNet's global average pool ([N, 64, 4, 4] -> [N, 64]) as globalavgpool runs it, a
     * pooling window over each whole plane, and as a matrix-vector product with a ones vector.
     */
    private static void globalPool(Map<String, Kernel> k, Backend b, int batch) {
        Pool2dGeometry g = new Pool2dGeometry(batch, 64, 4, 4, 4, 4, 1, 1, 0, 0, false, true);
        Tensor x = random(b, Shape.of(batch, 64, 4, 4), 16), y = b.allocate(Shape.of(batch, 64)), dy = random(b, y.shape(), 17);
        Tensor dx = b.allocate(x.shape()), ones = b.allocate(Shape.of(16));
        b.fill(ones, 1f);
        Gemm average = new Gemm(false, false, batch * 64, 1, 16, 1), spread = new Gemm(false, false, batch * 64, 16, 1, 1);
        k.put("resnet.global pool forward", () -> b.avgPool2dForward(g, x, y));
        k.put("resnet.global pool backward", () -> b.avgPool2dBackward(g, dy, dx));
        k.put("resnet.global pool as gemm forward", () -> b.gemm(average, 1f / 16, Matrix.of(x, 16), Matrix.of(ones, 1), 0f, Matrix.of(y, 1)));
        k.put("resnet.global pool as gemm backward", () -> b.gemm(spread, 1f / 16, Matrix.of(dy, 1), Matrix.of(ones, 16), 0f, Matrix.of(dx, 16)));
    }

    private static void conv(Map<String, Kernel> k, Backend b, String name, Conv2dGeometry g, boolean data) {
        conv(k, b, name, g, data, false);
    }

    /** With {@code relu}, also the forward with the relu in the convolution, as compiled inference runs a convolution before batchnorm -> relu. */
    private static void conv(Map<String, Kernel> k, Backend b, String name, Conv2dGeometry g, boolean data, boolean relu) {
        Tensor x = random(b, Shape.of(g.batch(), g.inChannels(), g.height(), g.width()), 1);
        Tensor w = random(b, Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW()), 2);
        Tensor bias = random(b, Shape.of(g.outChannels()), 3);
        Tensor dy = random(b, Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()), 4);
        Tensor y = b.allocate(dy.shape()), dx = b.allocate(x.shape()), dw = b.allocate(w.shape()), db = b.allocate(bias.shape());
        k.put(name + " forward", () -> b.conv2dForward(g, x, w, bias, y));
        if (data) k.put(name + " backward-data", () -> b.conv2dBackwardData(g, dy, w, dx));
        k.put(name + " backward-filter", () -> b.conv2dBackwardFilter(g, x, dy, dw, db));
        if (relu) k.put(name + " forward + relu", () -> b.conv2dForward(g, x, w, bias, UnaryOp.RELU, y));
    }

    private static void pool(Map<String, Kernel> k, Backend b, String name, Pool2dGeometry g) {
        Tensor x = random(b, Shape.of(g.batch(), g.channels(), g.height(), g.width()), 5);
        Shape out = Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth());
        Tensor y = b.allocate(out), argmax = b.allocate(out), dy = random(b, out, 6), dx = b.allocate(x.shape());
        k.put(name + " max forward", () -> b.maxPool2dForward(g, x, y, argmax));
        k.put(name + " max backward", () -> b.maxPool2dBackward(g, dy, argmax, dx));
    }

    /**
     * Batch norm's training forward and backward, plain ({@code activation} null) or with the
     * activation in their epilogues (the engine's {@code batchnorm -> relu}).
     */
    private static void batchNorm(Map<String, Kernel> k, Backend b, String name, int outer, int channels, int inner, UnaryOp activation) {
        Tensor x = random(b, Shape.of(outer, channels, inner), 11), dy = random(b, x.shape(), 12);
        Tensor y = b.allocate(x.shape()), dx = b.allocate(x.shape());
        Tensor gamma = random(b, Shape.of(channels), 13), beta = random(b, Shape.of(channels), 14);
        Tensor mean = b.allocate(Shape.of(channels)), var = random(b, Shape.of(channels), 15);
        Tensor saveMean = b.allocate(Shape.of(channels)), saveInvStd = b.allocate(Shape.of(channels));
        Tensor dgamma = b.allocate(Shape.of(channels)), dbeta = b.allocate(Shape.of(channels));
        if (activation == null) {
            k.put(name + " forward", () -> b.batchNormForward(x, y, gamma, beta, mean, var, saveMean, saveInvStd, outer, channels, inner,
                    1e-5f, 0f, true));
            k.put(name + " backward", () -> b.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels,
                    inner));
        } else {
            k.put(name + " forward", () -> b.batchNormForward(x, y, gamma, beta, mean, var, saveMean, saveInvStd, outer, channels, inner,
                    1e-5f, 0f, true, activation));
            k.put(name + " backward", () -> b.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, activation, y, dx, dgamma, dbeta,
                    outer, channels, inner));
        }
    }

    private static void gemm(Map<String, Kernel> k, Backend b, String name, boolean ta, boolean tb, int m, int n, int kk) {
        Tensor a = random(b, Shape.of(m * kk), 7), bb = random(b, Shape.of(kk * n), 8), c = b.allocate(Shape.of(m * n));
        int lda = ta ? m : kk, ldb = tb ? kk : n;
        k.put(name, () -> b.gemm(new Gemm(ta, tb, m, n, kk, 1), 1f, Matrix.of(a, lda), Matrix.of(bb, ldb), 0f, Matrix.of(c, n)));
    }

    private static Tensor random(Backend b, Shape shape, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() - 0.5);
        Tensor t = b.allocate(shape);
        b.upload(v, t);
        return t;
    }

    /** A CpuBackend of the build at {@code path}, loaded child-first so that its classes are its own. */
    private static Backend load(String path, int threads) throws Exception {
        URL url = Path.of(path).toUri().toURL();
        ClassLoader loader = new ChildFirstClassLoader(new URL[] {url}, PairedKernels.class.getClassLoader(), "org.neurite.backend.cpu.");
        return (Backend) loader.loadClass("org.neurite.backend.cpu.CpuBackend").getConstructor(int.class).newInstance(threads);
    }

    /** Whether rounds are timed in the calling thread's CPU time ({@code --cpu-time}) rather than wall time. */
    private static boolean cpuTime;

    /**
     * With {@code --cold}, each call is timed alone after {@link #evictCaches}: in a training step
     * an op's inputs were mostly written long before (the forward's activations, read again by the
     * backward), so they come from memory, not from the caches a loop of calls keeps them in.
     */
    private static byte[] evictionBuffer;

    /** Writes a buffer of 4 times the last-level cache (64 MiB), one store per cache line, pushing the kernels' data out. */
    private static void evictCaches() {
        byte[] b = evictionBuffer;
        for (int i = 0; i < b.length; i += 64) b[i]++;
    }

    /** Milliseconds per call of one round: calls repeated for at least {@code minMs}. */
    private static double round(Kernel k, int calls) {
        if (evictionBuffer != null) {
            long total = 0;
            for (int i = 0; i < calls; i++) {
                evictCaches();
                long start = now();
                k.run();
                total += now() - start;
            }
            return total / 1e6 / calls;
        }
        long start = now();
        for (int i = 0; i < calls; i++) k.run();
        return (now() - start) / 1e6 / calls;
    }

    private static long now() {
        return cpuTime ? ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() : System.nanoTime();
    }

    public static void main(String[] args) throws Exception {
        String oldPath = stringOption(args, "--old", null), newPath = stringOption(args, "--new", "backend-cpu/target/classes");
        int rounds = intOption(args, "--rounds", 9);
        int threads = intOption(args, "--threads", 2);
        int batch = intOption(args, "--batch", 64);
        int minMs = intOption(args, "--min-ms", 150);
        String only = stringOption(args, "--only", null);
        // With --threads 1 the kernels run on this thread, and its CPU time leaves out the waits
        // for a core that dominate wall time on a loaded machine.
        cpuTime = Arrays.asList(args).contains("--cpu-time");
        if (Arrays.asList(args).contains("--cold")) evictionBuffer = new byte[64 << 20];
        int warmUpMs = intOption(args, "--warm-up-ms", 0);
        if (oldPath == null) throw new IllegalArgumentException("--old <jar or classes folder> is required");
        try (Backend oldB = load(oldPath, threads); Backend newB = load(newPath, threads)) {
            Map<String, Kernel> olds = kernels(oldB, batch, only), news = kernels(newB, batch, only);
            System.out.printf(Locale.ROOT, "%-40s %10s %10s %8s   (batch %d, %d threads, %d rounds, %s)%n", "kernel", "old ms", "new ms",
                    "speed-up", batch, threads, rounds, cpuTime ? "thread CPU time" : "wall time");
            List<String> names = new ArrayList<>(olds.keySet());
            for (String name : names) {
                Kernel o = olds.get(name), n = news.get(name);
                // At least 3 calls each, and --warm-up-ms of them: with many kernels in one JVM, C2's
                // queue can lag, and a kernel timed before its Vector API code is compiled runs boxed.
                long warmUntil = System.nanoTime() + warmUpMs * 1_000_000L;
                for (int w = 0; w < 3 || System.nanoTime() < warmUntil; w++) {
                    o.run();
                    n.run();
                }
                int calls = (int) Math.max(1, Math.min(1000, minMs / Math.max(1e-3, round(o, 1))));
                double[] to = new double[rounds], tn = new double[rounds], ratio = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    // Alternate which build goes first, so neither always follows the other.
                    if (r % 2 == 0) {
                        to[r] = round(o, calls);
                        tn[r] = round(n, calls);
                    } else {
                        tn[r] = round(n, calls);
                        to[r] = round(o, calls);
                    }
                    ratio[r] = to[r] / tn[r];
                }
                System.out.printf(Locale.ROOT, "%-40s %10.3f %10.3f %7.2fx%n", name, WorkloadThroughput.median(to),
                        WorkloadThroughput.median(tn), WorkloadThroughput.median(ratio));
            }
        }
    }
}
