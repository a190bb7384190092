package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Strided block copies (concatenation, splitting, sequence transposes), zero padding's argument
 * rules, and the slice forms of the element-wise ops: they touch only their slice, may run in
 * place, and, behind the checking wrapper the runtime adds, refuse shifted overlaps and name bad
 * arguments.
 */
class CpuCopyAndSliceTest {
    private static final float NAN = Float.NaN;
    private static CpuBackend cpu;
    private static Backend checked;

    @BeforeAll static void start() {
        cpu = new CpuBackend(3);
        checked = CheckedBackend.wrap(cpu);
    }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(Backend backend, float[] values, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims));
        backend.upload(values, t);
        return t;
    }

    private static Tensor filled(float value, int... dims) {
        Tensor t = cpu.allocate(Shape.of(dims));
        cpu.fill(t, value);
        return t;
    }

    @Test
    void copyBlocksConcatenatesAndSplitsAlongTheChannelAxis() {
        // a [N=2, C=2, inner=3] and b [2, 1, 3] into out [2, 3, 3]: per sample, a's 6 floats then b's 3.
        Tensor a = tensor(cpu, new float[] {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16}, 2, 2, 3);
        Tensor b = tensor(cpu, new float[] {7, 8, 9, 17, 18, 19}, 2, 1, 3);
        Tensor out = filled(NAN, 2, 3, 3);
        cpu.copyBlocks(Strided.of(a, 0, 6), Strided.of(out, 0, 9), 6, 2);
        cpu.copyBlocks(Strided.of(b, 0, 3), Strided.of(out, 6, 9), 3, 2);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19}, cpu.download(out));

        // The backward of the concatenation is the split: b's gradient is the last channel of each sample.
        Tensor db = filled(NAN, 2, 1, 3);
        cpu.copyBlocks(Strided.of(out, 6, 9), Strided.of(db, 0, 3), 3, 2);
        assertArrayEquals(new float[] {7, 8, 9, 17, 18, 19}, cpu.download(db));
    }

    @Test
    void copyBlocksTransposesBatchMajorSequencesToTimeMajor() {
        int batch = 2, time = 3, features = 2;
        // x[b, t, f] = 100 b + 10 t + f
        float[] x = new float[batch * time * features];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < time; t++)
                for (int f = 0; f < features; f++) x[(b * time + t) * features + f] = 100 * b + 10 * t + f;
        Tensor tx = tensor(cpu, x, batch, time, features), ty = filled(NAN, time, batch, features);
        // One call per sample: its T rows of F go to rows b, b + B, b + 2B of the [T, B, F] tensor.
        for (int b = 0; b < batch; b++)
            cpu.copyBlocks(Strided.of(tx, b * time * features, features), Strided.of(ty, b * features, batch * features), features, time);
        assertArrayEquals(new float[] {0, 1, 100, 101, 10, 11, 110, 111, 20, 21, 120, 121}, cpu.download(ty));
    }

    @Test
    void copyBlocksWithinOneTensorRunsTheBlocksInOrder() {
        // Block i reads [2i, 2i+2) after block i-1 wrote it, so the first pair propagates.
        Tensor t = tensor(cpu, new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 8);
        cpu.copyBlocks(Strided.of(t, 0, 2), Strided.of(t, 2, 2), 2, 3);
        assertArrayEquals(new float[] {1, 2, 1, 2, 1, 2, 1, 2}, cpu.download(t));
    }

    @Test
    void largeCopiesSplitAcrossWorkersStillLandEveryBlock() {
        int length = 1000, count = 300; // 300,000 floats: above the parallel threshold
        float[] src = CpuGemmTest.random(new Random(3), count * 1003 + 5);
        float[] expected = new float[count * 1100];
        for (int i = 0; i < count; i++) System.arraycopy(src, 5 + i * 1003, expected, i * 1100 + 50, length);
        for (int threads : new int[] {1, 4}) {
            try (CpuBackend backend = new CpuBackend(threads)) {
                Tensor s = tensor(backend, src, src.length), d = backend.allocate(Shape.of(expected.length));
                backend.copyBlocks(Strided.of(s, 5, 1003), Strided.of(d, 50, 1100), length, count);
                assertArrayEquals(expected, backend.download(d), threads + " threads");
            }
        }
    }

    @Test
    void copyBlocksNamesBadArguments() {
        Tensor src = cpu.allocate(Shape.of(10)), dst = cpu.allocate(Shape.of(10));
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> checked.copyBlocks(Strided.of(src, 1, 4), Strided.of(dst, 0, 3), 3, 3));
        assertEquals("copyBlocks: 3 blocks of 3 floats, 4 apart from offset 1, reach element 11 of src (10 elements)", range.getMessage());
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> checked.copyBlocks(Strided.of(src, 0, 3), Strided.of(dst, 0, 2), 3, 3));
        assertEquals("copyBlocks: destination blocks of 3 floats 2 apart overlap; the stride must be >= the length", overlap.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> checked.copyBlocks(Strided.of(src, 0, -1), Strided.of(dst, 0, 3), 1, 2));
        assertEquals("copyBlocks: offset and stride of src must be >= 0, got 0 and -1", negative.getMessage());
    }

    @Test
    void padAndCropNameBadArguments() {
        Tensor x = cpu.allocate(Shape.of(2, 3, 3)), y = cpu.allocate(Shape.of(2, 4, 5));
        IllegalArgumentException fit = assertThrows(IllegalArgumentException.class, () -> checked.pad2d(x, y, 2, 3, 3, 2, 0, 4, 5));
        assertEquals("pad2d: a 3x3 plane at (top 2, left 0) does not fit inside 4x5", fit.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> checked.crop2d(x, y, 2, 3, 3, 0, 0, 4, 5));
        assertEquals("dy [2, 3, 3] has 18 elements, expected 40", size.getMessage());
        Tensor square = cpu.allocate(Shape.of(2, 3, 3));
        IllegalArgumentException same = assertThrows(IllegalArgumentException.class, () -> checked.pad2d(square, square, 2, 3, 3, 0, 0, 3, 3));
        assertEquals("pad2d: y must not be the same tensor as x", same.getMessage());
    }

    @Test
    void unarySliceWritesOnlyItsRange() {
        Tensor x = tensor(cpu, new float[] {-1, 2, -3, 4, -5, 6}, 6), y = filled(NAN, 8);
        cpu.unary(UnaryOp.RELU, Slice.of(x, 2, 3), Slice.of(y, 5, 3));
        assertArrayEquals(new float[] {NAN, NAN, NAN, NAN, NAN, 0, 4, 0}, cpu.download(y));
        Slice middle = Slice.of(x, 1, 2);
        cpu.unary(UnaryOp.SQUARE, middle, middle); // in place
        assertArrayEquals(new float[] {-1, 4, 9, 4, -5, 6}, cpu.download(x));
    }

    @Test
    void unaryBackwardSliceReadsOnlyWhatTheOpNeeds() {
        // sigmoid' from y alone: x may be null. y = 0.5 gives 0.25, y = 0.2 gives 0.16.
        Tensor y = tensor(cpu, new float[] {9, 0.5f, 0.2f}, 3), dy = tensor(cpu, new float[] {4, 2, 9, 9}, 4), dx = filled(NAN, 3);
        cpu.unaryBackward(UnaryOp.SIGMOID, null, Slice.of(y, 1, 2), Slice.of(dy, 0, 2), Slice.of(dx, 1, 2));
        assertArrayEquals(new float[] {NAN, 1f, 0.16f * 2}, cpu.download(dx), 1e-7f);
        // relu' from x, in place on dy's range
        Tensor x = tensor(cpu, new float[] {-1, 3, 0, 2}, 4);
        cpu.unaryBackward(UnaryOp.RELU, Slice.of(x), null, Slice.of(dy), Slice.of(dy));
        assertArrayEquals(new float[] {0, 2, 0, 9}, cpu.download(dy));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> checked.unaryBackward(UnaryOp.RELU, null, Slice.of(y), Slice.of(dy, 0, 3), Slice.of(dx)));
        assertEquals("RELU backward needs the forward input x", missing.getMessage());
    }

    @Test
    void binarySliceAccumulatesIntoOneTimeStep() {
        // out[T=3, B*H=2]: add a step's contribution into step 1 only, in place.
        Tensor out = tensor(cpu, new float[] {1, 1, 2, 2, 3, 3}, 3, 2), step = tensor(cpu, new float[] {10, 20}, 2);
        Slice step1 = Slice.of(out, 2, 2);
        cpu.binary(BinaryOp.ADD, step1, Slice.of(step), step1);
        assertArrayEquals(new float[] {1, 1, 12, 22, 3, 3}, cpu.download(out));
    }

    @Test
    void elementwiseSlicesRefuseShiftedOverlapsAndBadRanges() {
        Tensor t = cpu.allocate(Shape.of(10)), u = cpu.allocate(Shape.of(10));
        IllegalArgumentException shifted = assertThrows(IllegalArgumentException.class,
                () -> checked.unary(UnaryOp.TANH, Slice.of(t, 0, 5), Slice.of(t, 1, 5)));
        assertEquals("unary TANH: y [1, 6) overlaps x [0, 5) of the same tensor; use the same range or disjoint ones", shifted.getMessage());
        checked.unary(UnaryOp.TANH, Slice.of(t, 0, 5), Slice.of(t, 5, 5)); // disjoint halves of one tensor are fine
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> checked.binary(BinaryOp.MUL, Slice.of(t, 6, 5), Slice.of(u, 0, 5), Slice.of(u, 0, 5)));
        assertEquals("a range [6, 11) is outside [0, 10)", range.getMessage());
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> checked.affine(Slice.of(t, 0, 4), 2f, 1f, Slice.of(u, 0, 5)));
        assertEquals("affine: x has 4 elements, y has 5", lengths.getMessage());
        Tensor small = cpu.allocate(Shape.of(9));
        IllegalArgumentException sizes = assertThrows(IllegalArgumentException.class, () -> checked.unaryBackward(UnaryOp.EXP, null, t, small, u));
        assertEquals("unaryBackward EXP: sizes x -, y [10], dy [9], dx [10]", sizes.getMessage());
    }
}
