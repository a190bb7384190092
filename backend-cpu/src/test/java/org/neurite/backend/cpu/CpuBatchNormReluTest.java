package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * threads, training and evaluation, with dx in its own buffer or in dy's. (The channel kernels'
 * own bits against the plain loops, relu masks with zeros of both signs included, are
 * {@link CpuBatchNormChannelTest}'s.)
 */
class CpuBatchNormReluTest {

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
