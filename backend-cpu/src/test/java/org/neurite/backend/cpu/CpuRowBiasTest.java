package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.neurite.backend.BinaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A dense or recurrent layer's bias and its gradient ({@code inner == 1}, which run by rows):
 * {@code channelBroadcast(ADD)} and {@code channelSum} give, for 1, 2 and 3 threads, the bits of
 * their definitions, x[o, c] + v[c] and beta·out[c] + the sum over o in order in double. The
 * sizes are above the parallel threshold and split the channels unevenly between the workers.
 */
class CpuRowBiasTest {
    @Test
    void rowBiasAndItsGradientAreTheirDefinitionsForAnyThreadCount() {
        Random rnd = new Random(21);
        int outer = 301, channels = 517;   // 155,617 elements: several workers, rows split mid-row
        float[] x = CpuGemmTest.random(rnd, outer * channels), v = CpuGemmTest.random(rnd, channels), prior = CpuGemmTest.random(rnd, channels);
        float[] added = new float[x.length];
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < channels; c++) added[o * channels + c] = x[o * channels + c] + v[c];
        }
        float[] sums = new float[channels], sumsOnPrior = new float[channels];
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int o = 0; o < outer; o++) sum += x[o * channels + c];
            sums[c] = (float) sum;
            sumsOnPrior[c] = (float) (0.5f * (double) prior[c] + sum);
        }
        for (int threads : new int[] {1, 2, 3}) {
            try (CpuBackend b = new CpuBackend(threads)) {
                Tensor tx = tensor(b, x), tv = tensor(b, v), out = b.allocate(Shape.of(x.length));
                b.channelBroadcast(BinaryOp.ADD, tx, tv, out, outer, channels, 1);
                assertArrayEquals(added, b.download(out), threads + " threads: x + bias");
                b.channelBroadcast(BinaryOp.ADD, tx, tv, tx, outer, channels, 1);
                assertArrayEquals(added, b.download(tx), threads + " threads: x + bias in place");

                Tensor grad = b.allocate(Shape.of(channels)), onPrior = tensor(b, prior);
                b.channelSum(tensor(b, x), grad, outer, channels, 1, 0f);
                assertArrayEquals(sums, b.download(grad), threads + " threads: column sums");
                b.channelSum(tensor(b, x), onPrior, outer, channels, 1, 0.5f);
                assertArrayEquals(sumsOnPrior, b.download(onPrior), threads + " threads: column sums added to half the prior");
            }
        }
    }

    private static Tensor tensor(CpuBackend b, float[] values) {
        Tensor t = b.allocate(Shape.of(values.length));
        b.upload(values, t);
        return t;
    }
}
