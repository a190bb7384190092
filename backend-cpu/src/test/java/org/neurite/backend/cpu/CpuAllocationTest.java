package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The steady state allocates nothing: after a warm-up call (which grows the per-worker scratch),
 * the ops of a CNN and an LSTM training step, sized to take the parallel paths on two threads,
 * allocate no heap memory on the calling thread. Before the dispatch used reusable loop objects,
 * every parallel op allocated its lambda here (at least 16 bytes a call), so 50 repetitions of
 * the step would have allocated kilobytes; the assertion allows less than one byte per call.
 * Slices and GEMM descriptors are made before the step, as layers make them when they compile.
 *
 * <p>A JVM now and then keeps a Vector API kernel boxing its vectors for its whole life (C2's
 * "JIT lottery", backend-cpu/README.md; about one JVM in 20-30 at 256 bits, 98-120 KB a window
 * of 50 steps): a step that allocates is therefore measured once more in a fresh JVM, and only
 * an allocation both JVMs show fails. The backend's own allocation shows in every JVM.
 */
class CpuAllocationTest {

    /** Bytes allocated so far by the calling thread (HotSpot's per-thread TLAB accounting). */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /**
     * The raw backend, and the same backend behind the checking wrapper the runtime hands out
     * (its checks compare sizes and identities and build no message unless they refuse).
     */
    @ParameterizedTest(name = "checked {0}")
    @ValueSource(booleans = {false, true})
    void aTrainingStepOfParallelOpsAllocatesNothingOnTheCaller(boolean checked) throws Exception {
        String here = allocationOfSteadySteps(checked);
        if (here == null) return;
        String fresh = allocationInAFreshJvm(checked);
        assertTrue(fresh == null, "bytes allocated by each window of 50 steps of 22 ops, over 20 s: " + here
                + "; in a fresh JVM: " + fresh);
    }

    /** {@link #allocationOfSteadySteps} in this JVM: prints its result as the last line ("clean" when null). */
    public static void main(String[] args) {
        String result = allocationOfSteadySteps(Boolean.parseBoolean(args[0]));
        System.out.println(result == null ? "clean" : result);
        System.exit(0);
    }

    /** Runs {@link #main} in a JVM of its own, with this one's flags, classpath and vector width; null when it was clean. */
    private static String allocationInAFreshJvm(boolean checked) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        String width = System.getProperty(CpuVectorWidth.PROPERTY);
        if (width != null) command.add("-D" + CpuVectorWidth.PROPERTY + "=" + width);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CpuAllocationTest.class.getName(), String.valueOf(checked)));
        Path out = Files.createTempFile("neurite-allocation", ".txt");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "no answer within 120 s";
            }
            List<String> lines = Files.readAllLines(out);
            String last = lines.isEmpty() ? "no output, exit " + process.exitValue() : lines.get(lines.size() - 1);
            return last.equals("clean") ? null : last;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** What windows of 50 steps allocated, or null when one allocated (almost) nothing. */
    private static String allocationOfSteadySteps(boolean checked) {
        Random rnd = new Random(5);
        try (CpuBackend raw = new CpuBackend(2)) {
            Backend cpu = checked ? CheckedBackend.wrap(raw) : raw;
            // conv 16@5x5 pad 2 on [8, 14, 14], batch 16 -> relu -> maxpool 2 -> dense 784 -> 10, and one LSTM cell step.
            Conv2dGeometry conv = new Conv2dGeometry(16, 8, 14, 14, 16, 5, 5, 1, 1, 2, 2, 1, 1, 1);
            Pool2dGeometry pool = new Pool2dGeometry(16, 16, 14, 14, 2, 2, 2, 2, 0, 0, false, false);
            Tensor x = random(cpu, rnd, 16, 8, 14, 14), w = random(cpu, rnd, 16, 8, 5, 5), b = random(cpu, rnd, 16);
            Tensor y = cpu.allocate(Shape.of(16, 16, 14, 14)), dy = random(cpu, rnd, 16, 16, 14, 14);
            Tensor dx = cpu.allocate(x.shape()), dw = cpu.allocate(w.shape()), db = cpu.allocate(b.shape());
            Tensor pooled = cpu.allocate(Shape.of(16, 16, 7, 7)), argmax = cpu.allocate(pooled.shape());
            Tensor dense = random(cpu, rnd, 10, 784), logits = cpu.allocate(Shape.of(16, 10)), dLogits = cpu.allocate(logits.shape());
            Tensor labels = cpu.allocate(Shape.of(16)), velocity = cpu.allocate(w.shape()), channelMax = cpu.allocate(Shape.of(16));
            Tensor gates = random(cpu, rnd, 64, 512), state = random(cpu, rnd, 64, 128), c = cpu.allocate(state.shape());
            Tensor h = cpu.allocate(state.shape()), dc = cpu.allocate(state.shape()), dGates = cpu.allocate(gates.shape());
            Tensor m = cpu.allocate(dense.shape()), v = cpu.allocate(dense.shape());
            // Descriptors are built once, as a compiled model builds them when it compiles.
            Slice xs = Slice.of(x), ys = Slice.of(y), dys = Slice.of(dy), dxs = Slice.of(dx);
            Gemm logitsGemm = Gemm.of(16, 10, 784).transposeB();
            Matrix pooledA = Matrix.of(pooled, 784), denseB = Matrix.of(dense, 784), logitsC = Matrix.of(logits, 10);
            Slice gatesS = Slice.of(gates), stateS = Slice.of(state), cS = Slice.of(c), hS = Slice.of(h), dcS = Slice.of(dc);
            Slice dGatesS = Slice.of(dGates);
            Tensor denseBias = random(cpu, rnd, 10), dPooled = cpu.allocate(pooled.shape()), norm = cpu.allocate(Shape.of(1));
            List<Tensor> parameters = List.of(w, dense);
            Slice normS = Slice.of(norm);
            Tensor gateBias = random(cpu, rnd, 512), gateBiasGrad = cpu.allocate(Shape.of(512));
            Runnable step = () -> {
                cpu.conv2dForward(conv, x, w, b, y);
                cpu.unary(UnaryOp.RELU, ys, ys);
                cpu.affine(ys, 0.5f, 1f, ys);
                cpu.channelMax(y, channelMax, 16, 16, 14 * 14);
                cpu.maxPool2dForward(pool, y, pooled, argmax);
                cpu.gemm(logitsGemm, 1f, pooledA, denseB, 0f, logitsC);
                cpu.softmaxCrossEntropy(logits, labels, dLogits, 16, 10, 1f / 16);
                cpu.maxPool2dBackward(pool, pooled, argmax, dy);
                cpu.unaryBackward(UnaryOp.RELU, ys, null, dys, dys);
                cpu.conv2dBackwardData(conv, dy, w, dx);
                cpu.conv2dBackwardFilter(conv, x, dy, dw, db);
                cpu.binary(BinaryOp.ADD, dxs, xs, dxs);
                cpu.sgdUpdate(w, dw, velocity, 0.01f, 0.9f, 0f, false);
                cpu.adamUpdate(dense, dense, m, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1);
                cpu.lstmCellForward(gatesS, stateS, cS, hS, 64, 128);
                cpu.lstmCellBackward(gatesS, stateS, cS, hS, dcS, dGatesS, 64, 128);
                cpu.sumOfSquares(dw);
                // the dense layer's ops without a fused relu, and the gradient norm over a parameter list
                cpu.denseForward(pooled, dense, denseBias, null, logits, 16, 784, 10);
                cpu.denseBackwardData(dLogits, dense, pooled, UnaryOp.RELU, dPooled, 16, 784, 10);
                cpu.sumOfSquares(parameters, normS);
                // the recurrent layer's gate bias and its gradient: rows of 512, by vectors
                cpu.channelBroadcast(BinaryOp.ADD, gates, gateBias, gates, 64, 512, 1);
                cpu.channelSum(dGates, gateBiasGrad, 64, 512, 1, 0f);
            };
            // Grows scratch, loads classes and lets C2 compile the kernels: until then the Vector
            // API code runs interpreted and allocates its vectors (also on a recompilation).
            for (int i = 0; i < 20; i++) step.run();
            int repetitions = 50;
            // A steady allocation shows in every window of 50 steps; a JIT transient (a late C2
            // compilation or a recompilation, during which vector code runs interpreted and
            // allocates) in the windows before the compiler catches up, so windows are measured
            // for up to 20 s and one clean window passes. The compiler queue can lag seconds past
            // the warm-up: a clean-clone build saw five windows (0.5 s) of 98-120 KB at 256 bits
            // after a first one of 441 MB, while the same test passed on its own.
            StringBuilder seen = new StringBuilder();
            boolean clean = false;
            long last = 0;
            long giveUp = System.nanoTime() + 20_000_000_000L;
            for (int window = 0; !clean && (window < 5 || System.nanoTime() < giveUp); window++) {
                // Reading the counter allocates a little itself (hundreds of bytes); measure that and take it off.
                long probe = allocatedBytes();
                long before = allocatedBytes();
                long probeCost = before - probe;
                for (int i = 0; i < repetitions; i++) step.run();
                long allocated = allocatedBytes() - before - probeCost;
                if (window < 5) seen.append(window == 0 ? "" : ", ").append(allocated);
                else if (window == 5) seen.append(", ...");
                clean = allocated < 15L * repetitions;
                last = allocated;
            }
            return clean ? null : seen + " (last " + last + ")";
        }
    }

    private static Tensor random(Backend cpu, Random rnd, int... dims) {
        Tensor t = cpu.allocate(Shape.of(dims));
        cpu.upload(CpuGemmTest.random(rnd, t.size()), t);
        return t;
    }
}
