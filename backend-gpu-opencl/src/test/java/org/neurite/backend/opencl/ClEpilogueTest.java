package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.backend.opencl.Twins.Twin;
import org.neurite.tensor.Shape;

/**
 * The fused epilogues of the dense and convolution forward passes ({@code gemm_store.cl}: the bias
 * by column or by row of C, then the activation, in the product's own store): against the CPU
 * reference, which runs the ops one after the other, within {@link ClCpuParityTest#SUMS}; against
 * the same ops run unfused on the OpenCL backend, bit for bit (each step rounds as the separate op
 * does); and in one launch. Likewise the dense input gradient with the derivative of the
 * activation before the layer in its GEMM's store, and the max-pooling backward with it in its gather.
 */
class ClEpilogueTest {
    /** Every activation the engine fuses, and none. */
    private static final List<UnaryOp> ACTIVATIONS = Arrays.asList(null, UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.TANH);

    private static Backend cpu;
    private Twins twins;

    @BeforeAll static void start() { cpu = new CpuBackend(1); }

    @AfterAll static void stop() { cpu.close(); }

    @BeforeEach void harness() { twins = new Twins(cpu, OpenClTests.backend(), 20251205L); }

    @Test void denseForwardWithEverySgemmKernelBiasAndActivation() {
        ClGemm gemm = OpenClTests.backend().gemmKernels();
        ClGemm.Choice tuned = gemm.choice();
        try {
            for (ClGemm.Variant variant : ClGemm.Variant.values()) {
                gemm.use(new ClGemm.Choice(variant, variant));
                // rows x in -> out: single elements, partial tiles, K over several 128-deep slices, whole 128 x 128 tiles
                int[][] sizes = {{1, 1, 1}, {7, 3, 5}, {33, 65, 17}, {70, 31, 90}, {64, 257, 120}, {200, 40, 260}};
                int i = 0;
                for (int[] size : sizes) {
                    for (UnaryOp activation : ACTIVATIONS) dense(variant.name(), size[0], size[1], size[2], activation, i++ % 3 != 2);
                }
            }
        } finally {
            gemm.use(tuned);
        }
    }

    /**
     * The dense layer's input gradient with the backward of the activation before the layer in the
     * product's store: x is the activation's output, the derivative taken from it.
     */
    @Test void denseInputGradientThroughTheActivationBeforeIt() {
        ClGemm gemm = OpenClTests.backend().gemmKernels();
        ClGemm.Choice tuned = gemm.choice();
        try {
            for (ClGemm.Variant variant : ClGemm.Variant.values()) {
                gemm.use(new ClGemm.Choice(variant, variant));
                int[][] sizes = {{1, 1, 1}, {7, 3, 5}, {33, 65, 17}, {70, 31, 90}, {64, 257, 120}, {200, 40, 260}};
                for (int[] size : sizes) {
                    for (UnaryOp activation : ACTIVATIONS) denseBackwardData(variant.name(), size[0], size[1], size[2], activation);
                }
            }
        } finally {
            gemm.use(tuned);
        }
    }

    private void denseBackwardData(String variant, int rows, int in, int out, UnaryOp activation) {
        Twin pre = twins.random(Shape.of(rows, in), -2, 2), w = twins.random(Shape.of(out, in), -1, 1);
        Twin dy = twins.random(Shape.of(rows, out), -1, 1), x = twins.stale(Shape.of(rows, in));
        Twin fused = twins.stale(Shape.of(rows, in)), unfused = twins.stale(Shape.of(rows, in));
        twins.both((b, s) -> {
            if (activation == null) b.copy(Slice.of(s.of(pre)), Slice.of(s.of(x)));
            else b.unary(activation, s.of(pre), s.of(x));
            b.denseBackwardData(s.of(dy), s.of(w), s.of(x), activation, s.of(fused), rows, in, out);
            b.gemm(new Gemm(false, false, rows, in, out, 1), 1f, Matrix.of(s.of(dy), out), Matrix.of(s.of(w), in), 0f,
                    Matrix.of(s.of(unfused), in));
            if (activation != null) b.unaryBackward(activation, s.of(x), s.of(x), s.of(unfused), s.of(unfused));
        });
        String what = variant + " dense input gradient " + rows + " x " + out + " -> " + in + " through " + activation;
        twins.assertClose(what, fused, ClCpuParityTest.SUMS);
        Twins.assertClose(what + ", fused against unfused on OpenCL", twins.cl.download(unfused.cl()), twins.cl.download(fused.cl()), 0);
    }

    private void dense(String variant, int rows, int in, int out, UnaryOp activation, boolean withBias) {
        Twin x = twins.random(Shape.of(rows, in), -1, 1), w = twins.random(Shape.of(out, in), -1, 1);
        Twin bias = withBias ? twins.random(Shape.of(out), -1, 1) : null;
        Twin fused = twins.stale(Shape.of(rows, out)), unfused = twins.stale(Shape.of(rows, out));
        twins.both((b, s) -> {
            b.denseForward(s.of(x), s.of(w), s.of(bias), activation, s.of(fused), rows, in, out);
            b.gemm(new Gemm(false, true, rows, out, in, 1), 1f, Matrix.of(s.of(x), in), Matrix.of(s.of(w), in), 0f,
                    Matrix.of(s.of(unfused), out));
            if (withBias) b.channelBroadcast(BinaryOp.ADD, s.of(unfused), s.of(bias), s.of(unfused), rows, out, 1);
            if (activation != null) b.unary(activation, s.of(unfused), s.of(unfused));
        });
        String what = variant + " dense " + rows + " x " + in + " -> " + out + " bias=" + withBias + " activation=" + activation;
        twins.assertClose(what, fused, ClCpuParityTest.SUMS);
        Twins.assertClose(what + ", fused against unfused on OpenCL", twins.cl.download(unfused.cl()), twins.cl.download(fused.cl()), 0);
    }

    /** batch, in, h, w, out, kh, kw, stride h/w, pad h/w, dilation h/w, groups: LeNet's first layer, grouped, pointwise, strided, 70 channels. */
    private static final int[][] CONVOLUTIONS = {
            {2, 1, 12, 12, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1},
            {2, 6, 7, 7, 6, 5, 5, 1, 1, 2, 2, 1, 1, 3},
            {2, 4, 6, 5, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1},
            {2, 2, 10, 9, 3, 3, 3, 3, 2, 2, 1, 2, 1, 1},
            {2, 9, 11, 13, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1},
    };

    @Test void convolutionForwardWithBothPathsBiasAndActivation() {
        ClConv2d conv = OpenClTests.backend().convolutions();
        ClConv2d.Choice tuned = conv.choice();
        try {
            for (ClConv2d.Choice path : List.of(ClConv2d.Choice.IM2COL, ClConv2d.Choice.IMPLICIT)) {
                conv.use(path);
                int i = 0;
                for (int[] c : CONVOLUTIONS) {
                    Conv2dGeometry g = new Conv2dGeometry(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12], c[13]);
                    for (UnaryOp activation : ACTIVATIONS) convolution(path.forward().name(), g, activation, i++ % 3 != 2);
                }
            }
        } finally {
            conv.use(tuned);
        }
    }

    private void convolution(String path, Conv2dGeometry g, UnaryOp activation, boolean withBias) {
        Shape xs = Shape.of(g.batch(), g.inChannels(), g.height(), g.width());
        Shape ys = Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth());
        Twin x = twins.random(xs, -1, 1), w = twins.random(Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW()), -1, 1);
        Twin bias = withBias ? twins.random(Shape.of(g.outChannels()), -1, 1) : null;
        Twin fused = twins.stale(ys), unfused = twins.stale(ys);
        twins.both((b, s) -> {
            b.conv2dForward(g, s.of(x), s.of(w), s.of(bias), activation, s.of(fused));
            b.conv2dForward(g, s.of(x), s.of(w), s.of(bias), s.of(unfused));
            if (activation != null) b.unary(activation, s.of(unfused), s.of(unfused));
        });
        String what = path + " " + g + " bias=" + withBias + " activation=" + activation;
        twins.assertClose(what, fused, ClCpuParityTest.SUMS);
        Twins.assertClose(what + ", fused against unfused on OpenCL", twins.cl.download(unfused.cl()), twins.cl.download(fused.cl()), 0);
    }

    /** batch, channels, h, w, kernel h/w, stride h/w, pad h/w, ceil: LeNet's 2x2, overlapping 3x3 windows with padding, ceil mode. */
    private static final int[][] POOLS = {
            {2, 6, 28, 28, 2, 2, 2, 2, 0, 0, 0},
            {2, 3, 9, 11, 3, 3, 2, 2, 1, 1, 0},
            {1, 4, 7, 7, 3, 2, 2, 2, 0, 1, 1},
    };

    /**
     * The max-pooling backward with the backward of the activation before it folded in: x is the
     * activation's output (relu's zeros make ties that the argmax settles), the derivative taken from it.
     */
    @Test void maxPoolingBackwardThroughTheActivationBeforeIt() {
        for (int[] p : POOLS) {
            Pool2dGeometry g = new Pool2dGeometry(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10] == 1, false);
            Shape xs = Shape.of(g.batch(), g.channels(), g.height(), g.width());
            Shape ys = Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth());
            for (UnaryOp activation : List.of(UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.TANH)) {
                Twin pre = twins.random(xs, -2, 2), dy = twins.random(ys, -1, 1);
                Twin x = twins.stale(xs), y = twins.stale(ys), argmax = twins.stale(ys);
                Twin fused = twins.stale(xs), unfused = twins.stale(xs);
                twins.both((b, s) -> {
                    b.unary(activation, s.of(pre), s.of(x));
                    b.maxPool2dForward(g, s.of(x), s.of(y), s.of(argmax));
                    b.maxPool2dBackward(g, s.of(dy), s.of(argmax), s.of(x), activation, s.of(fused));
                    b.maxPool2dBackward(g, s.of(dy), s.of(argmax), s.of(unfused));
                    b.unaryBackward(activation, s.of(x), s.of(x), s.of(unfused), s.of(unfused));
                });
                // The CPU's exp and tanh round differently (ClCpuParityTest.TRANSCENDENTAL), and so may the winners' sums.
                String what = g + " through " + activation;
                twins.assertClose(what, fused, ClCpuParityTest.SUMS);
                Twins.assertClose(what + ", fused against unfused on OpenCL", twins.cl.download(unfused.cl()), twins.cl.download(fused.cl()), 0);
            }
        }
    }

    /**
     * Batch norm with the activation after it in its store (training and evaluation), and its
     * training backward taking dy through the activation's derivative from y as it reads it: against
     * the CPU, and bit for bit against batch norm, the activation and its backward run one after the other.
     */
    @Test void batchNormWithTheActivationAfterIt() {
        int outer = 4, channels = 3, inner = 50;
        Shape xs = Shape.of(outer, channels, inner), cs = Shape.of(channels);
        for (boolean training : new boolean[] {true, false}) {
            for (UnaryOp activation : List.of(UnaryOp.RELU, UnaryOp.SIGMOID, UnaryOp.TANH)) {
                Twin x = twins.random(xs, -2, 3), gamma = twins.random(cs, 0.5, 1.5), beta = twins.random(cs, -1, 1);
                float[] mean = twins.values(channels, -0.5, 0.5), var = twins.values(channels, 0.5, 2);
                Twin rmFused = twins.of(cs, mean), rvFused = twins.of(cs, var), rm = twins.of(cs, mean), rv = twins.of(cs, var);
                Twin dy = twins.random(xs, -1, 1), pre = twins.stale(xs), y = twins.stale(xs), fused = twins.stale(xs);
                Twin sm = twins.stale(cs), si = twins.stale(cs), g = twins.stale(xs);
                Twin dx = twins.stale(xs), dg = twins.stale(cs), db = twins.stale(cs);
                Twin dxFused = twins.stale(xs), dgFused = twins.stale(cs), dbFused = twins.stale(cs);
                twins.both((b, s) -> {
                    b.batchNormForward(s.of(x), s.of(fused), s.of(gamma), s.of(beta), s.of(rmFused), s.of(rvFused), s.of(sm), s.of(si),
                            outer, channels, inner, 1e-5f, 0.1f, training, activation);
                    b.batchNormForward(s.of(x), s.of(pre), s.of(gamma), s.of(beta), s.of(rm), s.of(rv), s.of(sm), s.of(si),
                            outer, channels, inner, 1e-5f, 0.1f, training);
                    b.unary(activation, s.of(pre), s.of(y));
                    if (!training) return;
                    b.batchNormBackward(s.of(x), s.of(dy), s.of(gamma), s.of(sm), s.of(si), activation, s.of(y), s.of(dxFused),
                            s.of(dgFused), s.of(dbFused), outer, channels, inner);
                    b.unaryBackward(activation, s.of(y), s.of(y), s.of(dy), s.of(g));
                    b.batchNormBackward(s.of(x), s.of(g), s.of(gamma), s.of(sm), s.of(si), s.of(dx), s.of(dg), s.of(db), outer, channels, inner);
                });
                Twin[][] pairs = training
                        ? new Twin[][] {{y, fused}, {rv, rvFused}, {dx, dxFused}, {dg, dgFused}, {db, dbFused}}
                        : new Twin[][] {{y, fused}};
                String[] names = {"y", "running var", "dx", "dgamma", "dbeta"};
                for (int k = 0; k < pairs.length; k++) {
                    String what = "batch norm " + (training ? "training" : "evaluation") + " with " + activation + ": " + names[k];
                    twins.assertClose(what, pairs[k][1], ClCpuParityTest.SUMS);
                    Twins.assertClose(what + ", fused against unfused on OpenCL", twins.cl.download(pairs[k][0].cl()),
                            twins.cl.download(pairs[k][1].cl()), 0);
                }
            }
        }
        // One launch forward and one backward, as without the activation.
        Twin x = twins.random(xs, -2, 3), gamma = twins.random(cs, 0.5, 1.5), beta = twins.random(cs, -1, 1);
        Twin rm = twins.random(cs, -0.5, 0.5), rv = twins.random(cs, 0.5, 2), sm = twins.stale(cs), si = twins.stale(cs);
        Twin y = twins.stale(xs), dx = twins.stale(xs);
        Backend cl = twins.cl;
        BackendCounters before = cl.counters().orElseThrow();
        cl.batchNormForward(x.cl(), y.cl(), gamma.cl(), beta.cl(), rm.cl(), rv.cl(), sm.cl(), si.cl(), outer, channels, inner, 1e-5f, 0.1f,
                true, UnaryOp.RELU);
        cl.batchNormBackward(x.cl(), x.cl(), gamma.cl(), sm.cl(), si.cl(), UnaryOp.RELU, y.cl(), dx.cl(), null, null, outer, channels, inner);
        assertEquals(2, cl.counters().orElseThrow().minus(before).launches(), "batch norm + relu forward and backward");
    }

    /** The bias and the activation cost no launch of their own. */
    @Test void fusedForwardPassesAreOneLaunch() {
        Backend cl = twins.cl;
        Twin x = twins.random(Shape.of(16, 50), -1, 1), w = twins.random(Shape.of(30, 50), -1, 1), bias = twins.random(Shape.of(30), -1, 1);
        Twin y = twins.stale(Shape.of(16, 30));
        BackendCounters before = cl.counters().orElseThrow();
        cl.denseForward(x.cl(), w.cl(), bias.cl(), UnaryOp.RELU, y.cl(), 16, 50, 30);
        assertEquals(1, cl.counters().orElseThrow().minus(before).launches(), "dense + bias + relu");
        Twin dx = twins.stale(Shape.of(16, 50));
        before = cl.counters().orElseThrow();
        cl.denseBackwardData(y.cl(), w.cl(), x.cl(), UnaryOp.SIGMOID, dx.cl(), 16, 50, 30);
        assertEquals(1, cl.counters().orElseThrow().minus(before).launches(), "dense input gradient through sigmoid");

        ClConv2d conv = OpenClTests.backend().convolutions();
        ClConv2d.Choice tuned = conv.choice();
        conv.use(ClConv2d.Choice.IMPLICIT);
        try {
            Conv2dGeometry g = new Conv2dGeometry(2, 1, 12, 12, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1);
            Twin cx = twins.random(Shape.of(2, 1, 12, 12), -1, 1), cw = twins.random(Shape.of(6, 1, 5, 5), -1, 1);
            Twin cb = twins.random(Shape.of(6), -1, 1), cy = twins.stale(Shape.of(2, 6, 12, 12));
            before = cl.counters().orElseThrow();
            cl.conv2dForward(g, cx.cl(), cw.cl(), cb.cl(), UnaryOp.TANH, cy.cl());
            assertEquals(1, cl.counters().orElseThrow().minus(before).launches(), "implicit convolution + bias + tanh");
        } finally {
            conv.use(tuned);
        }
        // The pooling's backward is its argmax check and its gather, the activation's derivative or not.
        Pool2dGeometry g = new Pool2dGeometry(2, 6, 12, 12, 2, 2, 2, 2, 0, 0, false, false);
        Twin px = twins.random(Shape.of(2, 6, 12, 12), 0, 1), py = twins.stale(Shape.of(2, 6, 6, 6)), argmax = twins.stale(Shape.of(2, 6, 6, 6));
        Twin pdx = twins.stale(Shape.of(2, 6, 12, 12));
        cl.maxPool2dForward(g, px.cl(), py.cl(), argmax.cl());
        before = cl.counters().orElseThrow();
        cl.maxPool2dBackward(g, py.cl(), argmax.cl(), pdx.cl());
        long plain = cl.counters().orElseThrow().minus(before).launches();
        before = cl.counters().orElseThrow();
        cl.maxPool2dBackward(g, py.cl(), argmax.cl(), px.cl(), UnaryOp.RELU, pdx.cl());
        assertEquals(plain, cl.counters().orElseThrow().minus(before).launches(), "max pooling backward through relu");
    }
}
