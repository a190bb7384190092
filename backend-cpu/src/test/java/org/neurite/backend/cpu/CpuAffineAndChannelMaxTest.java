package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Slice;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@code affine} (y = scale * x + shift, a float multiply then a float add, never fused) and
 * {@code channelMax} (the maximum over outer and inner per channel, NaN if any value is NaN, like
 * {@code torch.amax}): hand-worked values, rows long enough for the vector loops and their scalar
 * tails, slices at offsets, the checking wrapper's refusals, and bit-identical results for 1, 2,
 * 3 and 5 threads on sizes that take the parallel paths.
 */
class CpuAffineAndChannelMaxTest {
    private static final float NAN = Float.NaN;
    private static CpuBackend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(3); }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(Backend backend, float[] values, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims));
        backend.upload(values, t);
        return t;
    }

    @Test
    void affineScalesAndShiftsOnlyItsSlice() {
        Tensor x = tensor(cpu, new float[] {9, 1, -2, 0.5f, NAN, Float.POSITIVE_INFINITY}, 6), y = cpu.allocate(Shape.of(8));
        cpu.fill(y, 7f);
        cpu.affine(Slice.of(x, 1, 5), 3f, -1f, Slice.of(y, 2, 5));
        assertArrayEquals(new float[] {7, 7, 2, -7, 0.5f, NAN, Float.POSITIVE_INFINITY, 7}, cpu.download(y));
        Slice whole = Slice.of(x);
        cpu.affine(whole, -0.5f, 0f, whole); // in place
        assertArrayEquals(new float[] {-4.5f, -0.5f, 1f, -0.25f, NAN, Float.NEGATIVE_INFINITY}, cpu.download(x));
    }

    /**
     * With x = scale = 1 + 2^-12 and shift = -1, the exact result 2^-11 + 2^-24 is a float, so a
     * fused multiply-add would return it; the float product rounds 2^-24 away (a tie, to even)
     * and the add then gives 2^-11. Every element, in the vector loop and in its scalar tail.
     */
    @Test
    void affineMultipliesThenAddsWithoutFusing() {
        float v = 1f + 0x1p-12f;
        assertEquals(0x1p-11f + 0x1p-24f, Math.fma(v, v, -1f), "the fused result differs");
        int n = 2 * CpuKernels.LANES + 3;
        float[] values = new float[n];
        Arrays.fill(values, v);
        Tensor x = tensor(cpu, values, n), y = cpu.allocate(x.shape());
        cpu.affine(Slice.of(x), v, -1f, Slice.of(y));
        float[] expected = new float[n];
        Arrays.fill(expected, 0x1p-11f);
        assertArrayEquals(expected, cpu.download(y));
    }

    @Test
    void channelMaxOfNegativeValuesOverOuterAndInner() {
        // x viewed as [outer=2, channels=3, inner=2]; every value of channels 0 and 2 is negative.
        float[] x = {-5, -3, 1, 2, -1, -7,
                     -4, -6, 0, -2, -9, -8};
        Tensor out = tensor(cpu, new float[] {NAN, NAN, NAN}, 3);
        cpu.channelMax(tensor(cpu, x, 2, 3, 2), out, 2, 3, 2);
        assertArrayEquals(new float[] {-3, 2, -1}, cpu.download(out));
    }

    /** outer = 1 gives row maxima; rows of 37 run vectors and a scalar tail, whichever holds the maximum. */
    @Test
    void channelMaxWithOuterOneIsARowMaximum() {
        int rows = 4, cols = 37;
        float[] x = new float[rows * cols];
        Arrays.fill(x, -100f);
        x[3] = -1.5f;                 // row 0: in the first vector
        x[cols + 36] = 42f;           // row 1: the last element, in the scalar tail
        x[2 * cols + 20] = -0.25f;    // row 2: in a later vector
        // row 3: all -100
        Tensor out = cpu.allocate(Shape.of(rows));
        cpu.channelMax(tensor(cpu, x, rows, cols), out, 1, rows, cols);
        assertArrayEquals(new float[] {-1.5f, 42f, -0.25f, -100f}, cpu.download(out));
    }

    /** A NaN anywhere in a channel (vector part or tail) makes its maximum NaN; other channels are untouched by it. */
    @Test
    void channelMaxPropagatesNaNLikeTorchAmax() {
        int channels = 4, inner = 37;
        float[] x = new float[2 * channels * inner];
        for (int i = 0; i < x.length; i++) x[i] = i % 11 - 20f;
        x[inner + 5] = NAN;                              // channel 1, outer 0, a vector lane
        x[(channels + 2) * inner + inner - 1] = NAN;     // channel 2, outer 1, the scalar tail
        Arrays.fill(x, 3 * inner, 4 * inner, Float.NEGATIVE_INFINITY); // channel 3, outer 0
        Arrays.fill(x, (channels + 3) * inner, (channels + 4) * inner, Float.NEGATIVE_INFINITY);
        Tensor out = cpu.allocate(Shape.of(channels));
        cpu.channelMax(tensor(cpu, x, 2, channels, inner), out, 2, channels, inner);
        assertArrayEquals(new float[] {-10f, NAN, NAN, Float.NEGATIVE_INFINITY}, cpu.download(out));
    }

    /** -0 ranks below +0 (as in {@link Math#max}) wherever the two meet: in one lane, across lanes, or in the tail. */
    @Test
    void channelMaxRanksNegativeZeroBelowPositiveZero() {
        int inner = 2 * CpuKernels.LANES + 1;
        float[] x = new float[3 * inner];
        Arrays.fill(x, -0f);
        x[1] = 0f;                  // channel 0: +0 in a vector lane
        x[2 * inner - 1] = 0f;      // channel 1: +0 in the scalar tail
        Tensor out = cpu.allocate(Shape.of(3));
        cpu.channelMax(tensor(cpu, x, 3, inner), out, 1, 3, inner);
        float[] max = cpu.download(out);
        assertEquals(0, Float.floatToRawIntBits(max[0]), "+0");
        assertEquals(0, Float.floatToRawIntBits(max[1]), "+0");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(max[2]), "-0 alone");
    }

    @Test
    void theCheckingWrapperRefusesBadArguments() {
        Backend checked = CheckedBackend.wrap(cpu);
        Tensor x = cpu.allocate(Shape.of(2, 3, 4)), out = cpu.allocate(Shape.of(3));
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> checked.channelMax(x, out, 2, 4, 3));
        assertEquals("out [3] has 3 elements, expected 4", size.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> checked.channelMax(cpu.allocate(Shape.of(0)), out, 0, 3, 4));
        assertEquals("channelMax: the maximum of no values (outer x inner = 0 x 4)", empty.getMessage());
        IllegalArgumentException shifted = assertThrows(IllegalArgumentException.class,
                () -> checked.affine(Slice.of(x, 0, 10), 2f, 0f, Slice.of(x, 4, 10)));
        assertEquals("affine: y [4, 14) overlaps x [0, 10) of the same tensor; use the same range or disjoint ones", shifted.getMessage());
    }

    /**
     * Sizes above the parallel thresholds: every thread count gives the same bits, and those are
     * the scalar definitions (a float multiply and add; Math.max over the channel).
     */
    @Test
    void parallelPathsGiveTheDefinitionOnAnyThreadCount() {
        Random rnd = new Random(23);
        int outer = 8, channels = 16, inner = 24 * 24 + 3, n = outer * channels * inner, off = 5;
        float[] x = CpuGemmTest.random(rnd, off + n);
        for (int i = 0; i < x.length; i++) x[i] -= 2f; // all negative
        float scale = 1.7f, shift = -0.3f;
        float[] affine = new float[n], max = new float[channels];
        Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            affine[i] = scale * x[off + i] + shift;
            int c = i / inner % channels;
            max[c] = Math.max(max[c], x[off + i]);
        }
        float[] channelsOnly = Arrays.copyOfRange(x, off, off + n);
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor tx = tensor(backend, x, x.length), y = backend.allocate(Shape.of(n)), out = backend.allocate(Shape.of(channels));
                backend.affine(Slice.of(tx, off, n), scale, shift, Slice.of(y));
                backend.channelMax(tensor(backend, channelsOnly, outer, channels, inner), out, outer, channels, inner);
                assertArrayEquals(affine, backend.download(y), threads + " threads, affine");
                assertArrayEquals(max, backend.download(out), threads + " threads, channelMax");
            }
        }
    }
}
