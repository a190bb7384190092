package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The stride-1 implicit-GEMM forward over the padded grid (whole samples, each packed strip row
 * one contiguous run of the padded input) gives the bits of the gathered implicit GEMM (the
 * pixel-table walk, taken when one sample is cut into pixel chunks for two workers): each
 * sample of a batch of three, against the same sample convolved alone. Covered: padding 1 and 2,
 * no padding, a dilated kernel (whose last rows read past the padded input into its zeroed
 * slack), a map whose padded grid is not a whole number of strips, and a bias.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuConvPaddedGridTest {
    private CpuBackend cpu;

    @BeforeAll void start() { cpu = new CpuBackend(new BackendOptions(2, null)); }

    @AfterAll void stop() { cpu.close(); }

    static Stream<Conv2dGeometry> convolutions() {
        // batch 3; every output map is wider than one GEMM strip, so batch 1 on two workers is chunked
        return Stream.of(
                new Conv2dGeometry(3, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(3, 5, 13, 11, 24, 5, 5, 1, 1, 2, 2, 1, 1, 1),
                new Conv2dGeometry(3, 4, 12, 12, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1),
                new Conv2dGeometry(3, 3, 15, 15, 17, 3, 3, 1, 1, 2, 2, 2, 2, 1));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convolutions")
    void eachSampleOfABatchHasTheBitsOfThatSampleAlone(Conv2dGeometry g) {
        SplittableRandom rnd = new SplittableRandom(g.hashCode());
        int sampleIn = g.inChannels() * g.height() * g.width(), sampleOut = g.outChannels() * g.outHeight() * g.outWidth();
        float[] x = random(rnd, g.batch() * sampleIn);
        float[] w = random(rnd, g.outChannels() * g.inChannelsPerGroup() * g.kernelH() * g.kernelW());
        float[] bias = random(rnd, g.outChannels());
        float[] batched = forward(g, x, w, bias);
        Conv2dGeometry one = new Conv2dGeometry(1, g.inChannels(), g.height(), g.width(), g.outChannels(), g.kernelH(), g.kernelW(),
                g.strideH(), g.strideW(), g.padH(), g.padW(), g.dilationH(), g.dilationW(), g.groups());
        for (int n = 0; n < g.batch(); n++) {
            float[] sample = new float[sampleIn];
            System.arraycopy(x, n * sampleIn, sample, 0, sampleIn);
            float[] expected = forward(one, sample, w, bias), actual = new float[sampleOut];
            System.arraycopy(batched, n * sampleOut, actual, 0, sampleOut);
            assertArrayEquals(expected, actual, "sample " + n);
        }
    }

    private float[] forward(Conv2dGeometry g, float[] x, float[] w, float[] bias) {
        Tensor xt = upload(x, Shape.of(g.batch(), g.inChannels(), g.height(), g.width()));
        Tensor wt = upload(w, Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW()));
        Tensor bt = upload(bias, Shape.of(g.outChannels()));
        Tensor y = cpu.allocate(Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()));
        cpu.conv2dForward(g, xt, wt, bt, y);
        return cpu.download(y);
    }

    private Tensor upload(float[] values, Shape shape) {
        Tensor t = cpu.allocate(shape);
        cpu.upload(values, t);
        return t;
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 4 - 2);
        return v;
    }
}
