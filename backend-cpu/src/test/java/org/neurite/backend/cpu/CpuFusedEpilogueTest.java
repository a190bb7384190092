package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The CPU backend's fused epilogues with a relu ({@code conv2dForward}, {@code denseForward} and
 * {@code addForward} with {@link UnaryOp#RELU}) give the bits of the unfused ops in sequence, on both kernel paths
 * and at 1 and 2 threads: every convolution algorithm (direct, GEMM over the padded grid, gathered
 * and explicit im2col, 1x1, groups, Winograd), with and without a bias, and the dense layer's
 * skinny (transposed) and ordinary products with and without a bias. So does
 * {@code conv2dResidualForward}, with a relu or none, on the small ResNet's layers (the
 * channel-vector, strided 1x1, Winograd and GEMM paths add the residual in their write-back, the
 * direct path after the convolution). The inputs hold a NaN, which the relu keeps.
 */
class CpuFusedEpilogueTest {
    private static final CpuKernels.Path[] PATHS = {CpuKernels.Path.select(), CpuKernels.Path.PLAIN_JAVA};

    @ParameterizedTest(name = "n={0} cin={1} {2}x{3} cout={4} k={5} stride={6} pad={7} groups={8} bias={9}")
    @CsvSource({
            "3, 1, 13, 11, 6, 5, 1, 2, 1, true", // direct
            "3, 1, 13, 11, 6, 5, 1, 2, 1, false",
            "2, 8, 9, 11, 16, 3, 1, 1, 1, true", // GEMM over the padded grid
            "1, 8, 12, 13, 16, 3, 1, 1, 1, true", // chunks of one sample
            "3, 5, 11, 9, 17, 3, 2, 1, 1, true", // gathered panels
            "2, 6, 10, 7, 5, 3, 2, 0, 1, false", // explicit im2col
            "2, 7, 5, 6, 9, 1, 1, 0, 1, true", // 1x1
            "2, 8, 7, 7, 10, 3, 1, 1, 2, true", // groups
            "2, 32, 7, 6, 32, 3, 1, 1, 1, true", // Winograd
            "1, 32, 8, 7, 64, 5, 1, 2, 1, true"})
    void convolutionWithReluGivesTheUnfusedBits(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups,
                                                boolean withBias) {
        Conv2dGeometry g = new Conv2dGeometry(n, cin, h, w, cout, k, k, stride, stride, pad, pad, 1, 1, groups);
        BiFunction<CpuBackend, Boolean, float[]> run = (cpu, fused) -> {
            SplittableRandom rnd = new SplittableRandom(cin * 31L + cout);
            Tensor x = random(cpu, rnd, Shape.of(n, cin, h, w), true), wt = random(cpu, rnd, Shape.of(cout, cin / groups, k, k), false);
            Tensor bias = withBias ? random(cpu, rnd, Shape.of(cout), false) : null;
            Tensor y = cpu.allocate(Shape.of(n, cout, g.outHeight(), g.outWidth()));
            if (fused) cpu.conv2dForward(g, x, wt, bias, UnaryOp.RELU, y);
            else {
                cpu.conv2dForward(g, x, wt, bias, y);
                cpu.unary(UnaryOp.RELU, y, y);
            }
            return cpu.download(y);
        };
        float[] reference = everywhereTheSame(run);
        assertTrue(hasNaNZerosAndPositives(reference), "the outputs exercise the relu");
    }

    /** conv(x, w) + bias + residual, then the relu or nothing, against the convolution, the add and the relu ops. */
    @ParameterizedTest(name = "n={0} cin={1} {2}x{2} cout={3} k={4} stride={5} pad={6} relu={7}")
    @CsvSource({
            "2, 16, 14, 16, 3, 1, 1, true", // the channel-vector kernel, residual in its write-back
            "1, 16, 14, 16, 3, 1, 1, true", // one sample: blocks of rows on two threads
            "2, 16, 14, 16, 3, 1, 1, false",
            "2, 32, 7, 32, 3, 1, 1, true",
            "3, 32, 7, 64, 1, 2, 0, true", // the strided 1x1 kernel (512 bits; the GEMM path at 256)
            "2, 32, 7, 64, 1, 2, 0, false",
            "2, 16, 14, 32, 1, 2, 0, true", // the GEMM path (1x1), residual in its epilogue
            "2, 16, 14, 32, 1, 2, 0, false",
            "2, 8, 9, 17, 3, 1, 1, true", // the GEMM path over the padded grid, residual in its copy-out
            "2, 8, 9, 17, 3, 1, 1, false",
            "3, 5, 11, 17, 3, 2, 1, false", // gathered panels
            "2, 64, 4, 64, 3, 1, 1, true", // Winograd F(4x4, 3x3), residual after each block's output transform
            "3, 32, 6, 32, 3, 1, 1, false", // F(2x2, 3x3) at 512 bits
            "2, 32, 8, 64, 5, 1, 2, true", // F(2x2, 5x5)
            "3, 1, 13, 6, 5, 1, 2, true"}) // direct
    void convolutionWithResidualGivesTheUnfusedBits(int n, int cin, int hw, int cout, int k, int stride, int pad, boolean relu) {
        Conv2dGeometry g = new Conv2dGeometry(n, cin, hw, hw, cout, k, k, stride, stride, pad, pad, 1, 1, 1);
        BiFunction<CpuBackend, Boolean, float[]> run = (cpu, fused) -> {
            SplittableRandom rnd = new SplittableRandom(cin * 37L + cout + k);
            Tensor x = random(cpu, rnd, Shape.of(n, cin, hw, hw), false), wt = random(cpu, rnd, Shape.of(cout, cin, k, k), false);
            Tensor bias = random(cpu, rnd, Shape.of(cout), false);
            Shape out = Shape.of(n, cout, g.outHeight(), g.outWidth());
            Tensor residual = random(cpu, rnd, out, true), y = cpu.allocate(out);
            if (fused) cpu.conv2dResidualForward(g, x, wt, bias, residual, relu ? UnaryOp.RELU : null, y);
            else {
                cpu.conv2dForward(g, x, wt, bias, y);
                cpu.binary(BinaryOp.ADD, y, residual, y);
                if (relu) cpu.unary(UnaryOp.RELU, y, y);
            }
            return cpu.download(y);
        };
        float[] reference = everywhereTheSame(run);
        if (relu) assertTrue(hasNaNZerosAndPositives(reference), "the outputs exercise the relu");
    }

    /** The residual sum with its relu ({@code addForward}), out apart from the addends or in place over the first. */
    @ParameterizedTest(name = "n={0} inPlace={1}")
    @CsvSource({"1, false", "37, false", "5000, false", "70001, true"})
    void addWithReluGivesTheUnfusedBits(int n, boolean inPlace) {
        BiFunction<CpuBackend, Boolean, float[]> run = (cpu, fused) -> {
            SplittableRandom rnd = new SplittableRandom(n);
            Tensor a = random(cpu, rnd, Shape.of(n), true), b = random(cpu, rnd, Shape.of(n), false);
            Tensor out = inPlace ? a : cpu.allocate(Shape.of(n));
            if (fused) cpu.addForward(a, b, UnaryOp.RELU, out);
            else {
                cpu.binary(BinaryOp.ADD, a, b, out);
                cpu.unary(UnaryOp.RELU, out, out);
            }
            return cpu.download(out);
        };
        float[] reference = everywhereTheSame(run);
        if (n > 1) assertTrue(hasNaNZerosAndPositives(reference), "the outputs exercise the relu");
    }

    @ParameterizedTest(name = "rows={0} in={1} out={2} bias={3}")
    @CsvSource({"64, 37, 300, true", "64, 37, 300, false", "3, 5, 7, true", "200, 33, 50, true", "130, 20, 600, false", "2, 9, 40, true"})
    void denseWithReluGivesTheUnfusedBits(int rows, int in, int out, boolean withBias) {
        BiFunction<CpuBackend, Boolean, float[]> run = (cpu, fused) -> {
            SplittableRandom rnd = new SplittableRandom(rows * 31L + out);
            Tensor x = random(cpu, rnd, Shape.of(rows, in), true), w = random(cpu, rnd, Shape.of(out, in), false);
            Tensor bias = withBias ? random(cpu, rnd, Shape.of(out), false) : null;
            Tensor y = cpu.allocate(Shape.of(rows, out));
            if (fused) cpu.denseForward(x, w, bias, UnaryOp.RELU, y, rows, in, out);
            else {
                cpu.gemm(new Gemm(false, true, rows, out, in, 1), 1f, Matrix.of(x, in), Matrix.of(w, in), 0f, Matrix.of(y, out));
                if (bias != null) cpu.channelBroadcast(BinaryOp.ADD, y, bias, y, rows, out, 1);
                cpu.unary(UnaryOp.RELU, y, y);
            }
            return cpu.download(y);
        };
        float[] reference = everywhereTheSame(run);
        assertTrue(hasNaNZerosAndPositives(reference), "the outputs exercise the relu");
    }

    /** The unfused result on the plain path at one thread, after checking that both forms give it on every path and thread count. */
    private static float[] everywhereTheSame(BiFunction<CpuBackend, Boolean, float[]> run) {
        float[] reference;
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(1, null), CpuKernels.Path.PLAIN_JAVA)) {
            reference = run.apply(cpu, false);
        }
        for (int threads = 1; threads <= 2; threads++) {
            for (CpuKernels.Path path : PATHS) {
                try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null), path)) {
                    String where = threads + " threads, " + path;
                    assertArrayEquals(reference, run.apply(cpu, false), "unfused, " + where);
                    assertArrayEquals(reference, run.apply(cpu, true), "fused, " + where);
                }
            }
        }
        return reference;
    }

    private static boolean hasNaNZerosAndPositives(float[] v) {
        boolean nan = false, zero = false, positive = false;
        for (float f : v) {
            nan |= Float.isNaN(f);
            zero |= f == 0f;
            positive |= f > 0f;
        }
        return nan && zero && positive;
    }

    /** Gaussian values; {@code withNaN} puts a NaN at element 3. */
    private static Tensor random(CpuBackend cpu, SplittableRandom rnd, Shape shape, boolean withNaN) {
        float[] v = new float[shape.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        if (withNaN && v.length > 3) v[3] = Float.NaN;
        Tensor t = cpu.allocate(shape);
        cpu.upload(v, t);
        return t;
    }
}
