package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Batch norm with a relu in its epilogue ({@code batchNormForward} and {@code batchNormBackward}
 * with {@link UnaryOp#RELU}): the same bits as the unfused ops in sequence (batch norm, then the
 * relu; the relu's backward from y, then the batch-norm backward), on both paths, at 1 and 2
 * threads, training and evaluation, with dx in its own buffer or in dy's; and the masked vector
 * sums ({@link CpuKernels#normBackwardSumsRelu}) give the plain loops' bits at unaligned rows, with
 * y holding zeros of both signs where the mask must drop dy.
 */
class CpuBatchNormReluTest {
    @ParameterizedTest(name = "outer={0} channels={1} inner={2}")
    @CsvSource({"1, 1, 5", "3, 2, 16", "2, 3, 17", "64, 4, 196", "7, 2, 33"})
    void maskedVectorSumsGiveThePlainLoopsBits(int outer, int channels, int inner) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs --add-modules jdk.incubator.vector for the vector path");
        CpuKernels vector = CpuKernels.Path.VECTOR_API.create(), plain = CpuKernels.Path.PLAIN_JAVA.create();
        SplittableRandom rnd = new SplittableRandom(outer * 31L + inner);
        int n = outer * channels * inner + 3;
        float[] x = new float[n], dy = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
            dy[i] = (float) rnd.nextGaussian();
            y[i] = i % 7 == 0 ? 0f : i % 11 == 0 ? -0f : (float) rnd.nextGaussian();
        }
        for (int c = 0; c < channels; c++) {
            double[] v = new double[2 * CpuKernels.NORM_PARTIALS], p = v.clone(), unfused = v.clone();
            for (int o = 0; o < outer; o++) {
                int from = 3 + (o * channels + c) * inner - (o == 0 && c == 0 ? 3 : 0);
                vector.normBackwardSumsRelu(x, dy, y, from, from + inner, 0.25f, v);
                plain.normBackwardSumsRelu(x, dy, y, from, from + inner, 0.25f, p);
                float[] masked = new float[n];
                plain.reluBackward(y, 0, dy, 0, masked, from, from + inner);
                plain.normBackwardSums(x, masked, from, from + inner, 0.25f, unfused);
            }
            assertArrayEquals(p, v, "vector vs plain, channel " + c);
            assertArrayEquals(unfused, p, "masked first vs masked as read, channel " + c);
        }
    }

    /**
     * The row kernels of the fused passes ({@link CpuKernels#normalizeRelu},
     * {@link CpuKernels#normBackwardDxRelu}) give the plain loops' bits, and the relu's: values
     * normalised to -0 (x = mean, a negative scale, shift -0) become +0, NaN stays NaN, as
     * {@code Math.max(v, 0f)} has it; a dy where y is 0, -0 or NaN is dropped, as {@code reluBackward} drops it.
     */
    @ParameterizedTest(name = "n={0} scale={1} shift={2}")
    @CsvSource({"5, 1.5, 0.25", "16, -2, -0.0", "67, -0.5, -0.0", "200, 3, -1"})
    void rowKernelsGiveThePlainLoopsAndTheRelusBits(int n, float scale, float shift) {
        assumeTrue(CpuKernels.VECTOR_API_PRESENT, "needs --add-modules jdk.incubator.vector for the vector path");
        CpuKernels vector = CpuKernels.Path.VECTOR_API.create(), plain = CpuKernels.Path.PLAIN_JAVA.create();
        SplittableRandom rnd = new SplittableRandom(n);
        float mean = 0.375f;
        float[] x = new float[n + 1], dy = new float[n + 1], y = new float[n + 1];
        for (int i = 0; i <= n; i++) {
            x[i] = i % 5 == 0 ? mean : i % 13 == 0 ? Float.NaN : (float) rnd.nextGaussian();
            dy[i] = (float) rnd.nextGaussian();
        }
        float[] yVector = new float[n + 1], yPlain = new float[n + 1], yUnfused = new float[n + 1];
        vector.normalizeRelu(x, yVector, 1, n + 1, mean, scale, shift);
        plain.normalizeRelu(x, yPlain, 1, n + 1, mean, scale, shift);
        for (int i = 1; i <= n; i++) yUnfused[i] = Math.max((x[i] - mean) * scale + shift, 0f);
        assertArrayEquals(yUnfused, yPlain, "plain forward");
        assertArrayEquals(yPlain, yVector, "vector forward");
        for (int i = 0; i <= n; i++) y[i] = i % 7 == 0 ? -0f : yPlain[i];
        float[] dxVector = new float[n + 1], dxPlain = new float[n + 1], masked = new float[n + 1], dxUnfused = new float[n + 1];
        vector.normBackwardDxRelu(x, dy, y, dxVector, 1, n + 1, mean, 1.25f, 0.125f, -0.75f);
        plain.normBackwardDxRelu(x, dy, y, dxPlain, 1, n + 1, mean, 1.25f, 0.125f, -0.75f);
        plain.reluBackward(y, 0, dy, 0, masked, 1, n + 1);
        for (int i = 1; i <= n; i++) dxUnfused[i] = 1.25f * (masked[i] - 0.125f - (x[i] - mean) * -0.75f);
        assertArrayEquals(dxUnfused, dxPlain, "plain backward");
        assertArrayEquals(dxPlain, dxVector, "vector backward");
        float[] inPlace = dy.clone();
        vector.normBackwardDxRelu(x, inPlace, y, inPlace, 1, n + 1, mean, 1.25f, 0.125f, -0.75f);
        assertArrayEquals(dxVector, withFirst(inPlace, dxVector[0]), "dx over dy");
    }

    /** {@code v} with element 0 replaced (the row kernels start at 1). */
    private static float[] withFirst(float[] v, float first) {
        float[] c = v.clone();
        c[0] = first;
        return c;
    }

    @ParameterizedTest(name = "outer={0} channels={1} inner={2} training={3}")
    @CsvSource({"1, 3, 7, true", "4, 5, 196, true", "9, 2, 16, true", "2, 16, 49, true", "4, 5, 196, false"})
    void fusedPassesGiveTheUnfusedBitsOnEveryPathAndThreadCount(int outer, int channels, int inner, boolean training) {
        float[] reference = pass(outer, channels, inner, training, 1, CpuKernels.Path.PLAIN_JAVA, false, false);
        for (int threads = 1; threads <= 2; threads++) {
            for (CpuKernels.Path path : new CpuKernels.Path[] {CpuKernels.Path.select(), CpuKernels.Path.PLAIN_JAVA}) {
                String where = threads + " threads, " + path;
                assertArrayEquals(reference, pass(outer, channels, inner, training, threads, path, false, false), "unfused, " + where);
                assertArrayEquals(reference, pass(outer, channels, inner, training, threads, path, true, false), "fused, " + where);
                if (training) assertArrayEquals(reference, pass(outer, channels, inner, true, threads, path, true, true), "dx in dy, " + where);
            }
        }
    }

    /**
     * y, the running (and in training the saved) statistics, and in training dx, dgamma and dbeta:
     * batch norm then relu ({@code fused} false) or the fused ops; {@code dxInDy} writes dx over dy.
     */
    private static float[] pass(int outer, int channels, int inner, boolean training, int threads, CpuKernels.Path path,
                                boolean fused, boolean dxInDy) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null), path)) {
            SplittableRandom rnd = new SplittableRandom(inner);
            Shape shape = Shape.of(outer, channels, inner), perChannel = Shape.of(channels);
            Tensor x = CpuBatchNormSumsTest.random(cpu, rnd, shape, 3), dy = CpuBatchNormSumsTest.random(cpu, rnd, shape, 0), gamma = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 1);
            Tensor beta = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 0), mean = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 3), var = CpuBatchNormSumsTest.random(cpu, rnd, perChannel, 5);
            Tensor y = cpu.allocate(shape), saveMean = cpu.allocate(perChannel), saveInvStd = cpu.allocate(perChannel);
            Tensor dgamma = cpu.allocate(perChannel), dbeta = cpu.allocate(perChannel);
            Tensor dx = dxInDy ? dy : cpu.allocate(shape);
            if (fused) {
                cpu.batchNormForward(x, y, gamma, beta, mean, var, saveMean, saveInvStd, outer, channels, inner, 1e-5f, 0.1f, training,
                        UnaryOp.RELU);
                if (training) cpu.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, UnaryOp.RELU, y, dx, dgamma, dbeta, outer, channels, inner);
            } else {
                Tensor normalised = cpu.allocate(shape);
                cpu.batchNormForward(x, normalised, gamma, beta, mean, var, saveMean, saveInvStd, outer, channels, inner, 1e-5f, 0.1f,
                        training);
                cpu.unary(UnaryOp.RELU, normalised, y);
                if (training) {
                    Tensor dNormalised = cpu.allocate(shape);
                    cpu.unaryBackward(UnaryOp.RELU, y, y, dy, dNormalised);
                    cpu.batchNormBackward(x, dNormalised, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
                }
            }
            return training ? CpuBatchNormSumsTest.downloadAll(cpu, y, saveMean, saveInvStd, mean, var, dx, dgamma, dbeta)
                    : CpuBatchNormSumsTest.downloadAll(cpu, y, mean, var);
        }
    }
}
