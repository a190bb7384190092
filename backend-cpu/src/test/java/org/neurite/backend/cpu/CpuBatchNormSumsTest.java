package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Batch norm's whole forward and backward passes (double partial sums, see {@link CpuNormalization})
 * give the same bits on both paths and on 1 and 2 threads. Rows shorter than a group of 16, exactly one,
 * groups with a tail (196 = 12 x 16 + 4), one row per channel and several, a channel far from zero.
 */
class CpuBatchNormSumsTest {

    @ParameterizedTest(name = "outer={0} channels={1} inner={2}")
    @CsvSource({"1, 3, 7", "4, 5, 196", "9, 2, 16", "2, 16, 49"})
    void wholePassesAreTheSameOnEveryPathAndThreadCount(int outer, int channels, int inner) {
        float[] one = pass(outer, channels, inner, 1, CpuKernels.Path.select());
        assertArrayEquals(one, pass(outer, channels, inner, 2, CpuKernels.Path.select()));
        assertArrayEquals(one, pass(outer, channels, inner, 2, CpuKernels.Path.PLAIN_JAVA));
    }

    /** y, the saved and running statistics, dx, dgamma and dbeta of one training step (x about 40, 40 standard deviations from zero). */
    private static float[] pass(int outer, int channels, int inner, int threads, CpuKernels.Path path) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null), path)) {
            SplittableRandom rnd = new SplittableRandom(inner);
            Shape shape = Shape.of(outer, channels, inner), perChannel = Shape.of(channels);
            Tensor x = random(cpu, rnd, shape, 40), dy = random(cpu, rnd, shape, 0), gamma = random(cpu, rnd, perChannel, 1);
            Tensor beta = random(cpu, rnd, perChannel, 0), mean = random(cpu, rnd, perChannel, 0), var = random(cpu, rnd, perChannel, 5);
            Tensor y = cpu.allocate(shape), dx = cpu.allocate(shape), saveMean = cpu.allocate(perChannel), saveInvStd = cpu.allocate(perChannel);
            Tensor dgamma = cpu.allocate(perChannel), dbeta = cpu.allocate(perChannel);
            cpu.batchNormForward(x, y, gamma, beta, mean, var, saveMean, saveInvStd, outer, channels, inner, 1e-5f, 0.1f, true);
            cpu.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            return downloadAll(cpu, y, saveMean, saveInvStd, mean, var, dx, dgamma, dbeta);
        }
    }

    /** The tensors' values one after another, in the order given. */
    static float[] downloadAll(CpuBackend cpu, Tensor... all) {
        int size = 0;
        for (Tensor t : all) size += t.shape().size();
        float[] out = new float[size];
        int at = 0;
        for (Tensor t : all) {
            float[] v = cpu.download(t);
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    /** A tensor of Gaussian values about {@code offset}. */
    static Tensor random(CpuBackend cpu, SplittableRandom rnd, Shape shape, float offset) {
        float[] v = new float[shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (offset + rnd.nextGaussian());
        Tensor t = cpu.allocate(shape);
        cpu.upload(v, t);
        return t;
    }
}
