package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Batch norm's per-channel kernels ({@link CpuKernels#normChannelStatistics},
 * {@link CpuKernels#normChannelBackwardSums}, {@link CpuKernels#normChannelNormalize},
 * {@link CpuKernels#normChannelDx}): the vector kernels give the plain loops' bits (rows shorter than
 * a group of 16 and than a vector, whole groups, groups with a tail, the last channel's tail group
 * ending at the array's end, a relu mask with zeros of both signs, in place); the whole training
 * step (forward and backward, with and without the relu) matches a two-pass double-precision
 * reference on the small ResNet's three shapes, gives the same bits on 1 and 2 threads and on both
 * paths; a steady call allocates nothing.
 */
class CpuBatchNormChannelTest {
    @ParameterizedTest(name = "outer={0} channels={1} inner={2} offset={3}")
    @CsvSource({"3, 2, 1, 0", "4, 3, 5, 0", "5, 2, 15, 7", "3, 3, 16, 0", "2, 3, 17, 100", "64, 2, 196, 0", "7, 4, 49, -3000",
            "9, 3, 33, 0", "64, 2, 16, 0", "2, 2, 24, 0"})
    void vectorKernelsGiveThePlainLoopsBits(int outer, int channels, int inner, float offset) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs --add-modules jdk.incubator.vector for the vector path");
        CpuKernels vector = CpuKernels.Path.VECTOR_API.create(), plain = CpuKernels.Path.PLAIN_JAVA.create();
        SplittableRandom rnd = new SplittableRandom(outer * 131L + inner * 7L + channels);
        int n = outer * channels * inner, stride = channels * inner; // no slack: the last tail group ends the array
        float[] x = new float[n], dy = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (offset + rnd.nextGaussian());
            dy[i] = (float) rnd.nextGaussian();
            y[i] = i % 5 == 0 ? 0f : i % 7 == 0 ? -0f : (float) rnd.nextGaussian(); // the relu output: masked where not > 0
        }
        for (int c = 0; c < channels; c++) {
            int base = c * inner;
            float shift = x[base], mean = offset + 0.25f;
            double[] sv = new double[2 * CpuKernels.NORM_PARTIALS], sp = sv.clone();
            vector.normChannelStatistics(x, base, outer, stride, inner, shift, sv);
            plain.normChannelStatistics(x, base, outer, stride, inner, shift, sp);
            assertArrayEquals(sp, sv, "statistics, channel " + c);
            for (float[] mask : new float[][] {null, y}) {
                double[] bv = new double[2 * CpuKernels.NORM_PARTIALS], bp = bv.clone();
                vector.normChannelBackwardSums(x, dy, mask, base, outer, stride, inner, mean, bv);
                plain.normChannelBackwardSums(x, dy, mask, base, outer, stride, inner, mean, bp);
                assertArrayEquals(bp, bv, "backward sums, channel " + c + (mask == null ? "" : ", relu"));
                float[] dxv = dy.clone(), dxp = dy.clone(), inPlace = dy.clone();
                vector.normChannelDx(x, dy, mask, dxv, base, outer, stride, inner, mean, 1.25f, 0.125f, -0.75f);
                plain.normChannelDx(x, dy, mask, dxp, base, outer, stride, inner, mean, 1.25f, 0.125f, -0.75f);
                vector.normChannelDx(x, inPlace, mask, inPlace, base, outer, stride, inner, mean, 1.25f, 0.125f, -0.75f);
                assertArrayEquals(dxp, dxv, "dx, channel " + c);
                assertArrayEquals(dxp, inPlace, "dx over dy, channel " + c);
            }
            for (boolean relu : new boolean[] {false, true}) {
                float[] yv = dy.clone(), yp = dy.clone(), inPlace = x.clone();
                vector.normChannelNormalize(x, yv, base, outer, stride, inner, mean, 0.5f, 0.1f, relu);
                plain.normChannelNormalize(x, yp, base, outer, stride, inner, mean, 0.5f, 0.1f, relu);
                vector.normChannelNormalize(inPlace, inPlace, base, outer, stride, inner, mean, 0.5f, 0.1f, relu);
                assertArrayEquals(yp, yv, "y, channel " + c);
                assertArrayEquals(channelOnly(yp, x, base, outer, stride, inner), inPlace, "y over x, channel " + c);
            }
        }
    }

    /** x with the channel's rows taken from {@code written}: what writing only that channel over x leaves. */
    private static float[] channelOnly(float[] written, float[] x, int base, int outer, int stride, int inner) {
        float[] v = x.clone();
        for (int o = 0; o < outer; o++) System.arraycopy(written, base + o * stride, v, base + o * stride, inner);
        return v;
    }

    @Test
    void channelStatisticsAddInTheDocumentedOrder() {
        // Two rows of 19: partial l takes the whole groups' element l of each row in row order,
        // then the tails (lanes 0..2) in row order; the missing lanes add +0.
        int inner = 19, rows = 2;
        float[] x = new float[rows * inner];
        for (int i = 0; i < x.length; i++) x[i] = i + 1;
        double[] acc = new double[2 * CpuKernels.NORM_PARTIALS];
        CpuKernels.Path.select().create().normChannelStatistics(x, 0, rows, inner, inner, 1f, acc);
        for (int l = 0; l < CpuKernels.NORM_PARTIALS; l++) {
            double expected = (x[l] - 1.0) + (x[inner + l] - 1.0);
            if (l < 3) expected += (x[16 + l] - 1.0) + (x[inner + 16 + l] - 1.0);
            assertEquals(expected, acc[l], "partial " + l);
        }
    }

    @ParameterizedTest(name = "{0}x{1}x{2} relu={3}")
    @CsvSource({"64, 16, 196, false", "64, 32, 49, true", "64, 64, 16, false", "64, 16, 196, true", "5, 3, 7, true", "37, 8, 20, true",
            "4, 3, 1100, true"})
    void aTrainingStepMatchesTheDoubleReference(int outer, int channels, int inner, boolean relu) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null), CpuKernels.Path.select())) {
            Step s = new Step(cpu, outer, channels, inner, relu, 3);
            s.run();
            float[] x = cpu.download(s.x), dy = cpu.download(s.dy), gamma = cpu.download(s.gamma), beta = cpu.download(s.beta);
            float[] y = cpu.download(s.y), dx = cpu.download(s.dx), dgamma = cpu.download(s.dgamma), dbeta = cpu.download(s.dbeta);
            float[] saveMean = cpu.download(s.saveMean), saveInvStd = cpu.download(s.saveInvStd);
            long m = (long) outer * inner;
            for (int c = 0; c < channels; c++) {
                double sum = 0, squares = 0;
                for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) sum += x[(o * channels + c) * inner + i];
                double mean = sum / m;
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) squares += Math.pow(x[(o * channels + c) * inner + i] - mean, 2);
                }
                double invStd = 1 / Math.sqrt(squares / m + 1e-5);
                assertEquals(mean, saveMean[c], 1e-6 * Math.abs(mean), "mean, channel " + c);
                assertEquals(invStd, saveInvStd[c], 1e-6 * invStd, "invStd, channel " + c);
                double g = 0, gx = 0;
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) {
                        int at = (o * channels + c) * inner + i;
                        double xhat = (x[at] - mean) * invStd, v = xhat * gamma[c] + beta[c];
                        if (relu) v = Math.max(v, 0);
                        assertEquals(v, y[at], 2e-5 * (1 + Math.abs(v)), "y at " + at);
                        double grad = relu && !(y[at] > 0) ? 0 : dy[at];
                        g += grad;
                        gx += grad * xhat;
                    }
                }
                assertEquals(g, dbeta[c], 1e-5 * (1 + Math.abs(g)), "dbeta, channel " + c);
                assertEquals(gx, dgamma[c], 1e-5 * (1 + Math.abs(gx)), "dgamma, channel " + c);
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) {
                        int at = (o * channels + c) * inner + i;
                        double xhat = (x[at] - mean) * invStd, grad = relu && !(y[at] > 0) ? 0 : dy[at];
                        double expected = gamma[c] * invStd * (grad - g / m - xhat * gx / m);
                        assertEquals(expected, dx[at], 2e-5 * (1 + Math.abs(expected)), "dx at " + at);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}x{1}x{2} relu={3}")
    @CsvSource({"64, 16, 196, false", "64, 32, 49, true", "64, 64, 16, true", "3, 5, 7, false", "2, 3, 300, true", "37, 8, 20, true",
            "4, 3, 1100, true", "40, 2, 1030, false"})
    void aTrainingStepIsTheSameOnEveryPathAndThreadCount(int outer, int channels, int inner, boolean relu) {
        float[] one = step(outer, channels, inner, relu, 1, CpuKernels.Path.select());
        assertArrayEquals(one, step(outer, channels, inner, relu, 2, CpuKernels.Path.select()), "2 threads");
        assertArrayEquals(one, step(outer, channels, inner, relu, 3, CpuKernels.Path.select()), "3 threads");
        assertArrayEquals(one, step(outer, channels, inner, relu, 2, CpuKernels.Path.PLAIN_JAVA), "plain path");
    }

    private static float[] step(int outer, int channels, int inner, boolean relu, int threads, CpuKernels.Path path) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null), path)) {
            Step s = new Step(cpu, outer, channels, inner, relu, 40);
            s.run();
            return CpuBatchNormSumsTest.downloadAll(cpu, s.y, s.saveMean, s.saveInvStd, s.runningMean, s.runningVar, s.dx, s.dgamma, s.dbeta);
        }
    }

    /** One training step's tensors: x about {@code offset}, the forward (with or without the relu), then the backward. */
    private static final class Step implements Runnable {
        final CpuBackend cpu;
        final int outer, channels, inner;
        final boolean relu;
        final Tensor x, dy, gamma, beta, runningMean, runningVar, y, dx, saveMean, saveInvStd, dgamma, dbeta;

        Step(CpuBackend cpu, int outer, int channels, int inner, boolean relu, float offset) {
            this.cpu = cpu;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            this.relu = relu;
            SplittableRandom rnd = new SplittableRandom(outer * 31L + channels * 7L + inner);
            Shape shape = Shape.of(outer, channels, inner), perChannel = Shape.of(channels);
            x = CpuBatchNormSumsTest.random(cpu, rnd, shape, offset);
            dy = CpuBatchNormSumsTest.random(cpu, rnd, shape, 0);
            gamma = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 1);
            beta = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 0);
            runningMean = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 0);
            runningVar = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 5);
            y = cpu.allocate(shape);
            dx = cpu.allocate(shape);
            saveMean = cpu.allocate(perChannel);
            saveInvStd = cpu.allocate(perChannel);
            dgamma = cpu.allocate(perChannel);
            dbeta = cpu.allocate(perChannel);
        }

        @Override
        public void run() {
            UnaryOp activation = relu ? UnaryOp.RELU : null;
            cpu.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, 1e-5f, 0.1f,
                    true, activation);
            cpu.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, activation, y, dx, dgamma, dbeta, outer, channels, inner);
        }
    }

    @Test
    void aSteadyStepAllocatesNothing() throws Exception {
        SteadyAllocationProbe.assertCleanInChildJvm(AllocationProbe.class);
    }

    /** The child JVM of {@link #aSteadyStepAllocatesNothing}: the three shapes' steps, with and without the relu, on 2 threads. */
    static final class AllocationProbe {
        public static void main(String[] args) {
            try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null), CpuKernels.Path.select())) {
                Step a = new Step(cpu, 8, 16, 196, true, 0), b = new Step(cpu, 8, 32, 49, false, 0), c = new Step(cpu, 8, 64, 16, true, 0);
                Step d = new Step(cpu, 3, 5, 7, false, 0);
                Runnable call = () -> {
                    a.run();
                    b.run();
                    c.run();
                    d.run();
                };
                // Four shapes' kernels (each width's groups and tails) wait in C2's queue behind
                // each other; on a loaded machine 40 windows did not cover it. Two seconds first.
                for (long until = System.nanoTime() + 2_000_000_000L; System.nanoTime() < until; ) call.run();
                SteadyAllocationProbe.measure(call);
            }
        }
    }
}
