package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Average pooling with one window over each whole plane ({@link CpuPool2d#isWholePlane}: the
 * {@code globalavgpool} layer) gives the window loops' bits: forward the row-major float sum of
 * the plane from zero divided by H*W, backward {@code 0 + dy / (H*W)} into every input (so -0
 * becomes +0, as when added to a zeroed plane), on planes of 4x4 (the small ResNet's), 7x7, 1x5
 * and 3x1, any stride and ceil mode (one output either way), on 1 and 2 threads; the forward is
 * also within float rounding of the mean summed in double.
 */
class CpuGlobalAvgPoolTest {
    static Stream<Pool2dGeometry> wholePlanes() {
        return Stream.of(
                new Pool2dGeometry(64, 64, 4, 4, 4, 4, 1, 1, 0, 0, false, true), // the small ResNet's, 4,096 planes
                new Pool2dGeometry(3, 5, 7, 7, 7, 7, 1, 1, 0, 0, false, false),
                new Pool2dGeometry(2, 3, 1, 5, 1, 5, 2, 2, 0, 0, true, true),
                new Pool2dGeometry(1, 2, 3, 1, 3, 1, 3, 3, 0, 0, false, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wholePlanes")
    void forwardIsTheRowMajorSumDividedByThePlaneSize(Pool2dGeometry g) {
        assertTrue(CpuPool2d.isWholePlane(g));
        assertEquals(1, g.outHeight());
        assertEquals(1, g.outWidth());
        int planes = g.batch() * g.channels(), size = g.height() * g.width();
        float[] x = random(planes * size, 1);
        float[] expected = new float[planes];
        for (int p = 0; p < planes; p++) {
            float sum = 0f;
            double exact = 0, magnitude = 0;
            for (int i = 0; i < size; i++) {
                sum += x[p * size + i];
                exact += x[p * size + i];
                magnitude += Math.abs(x[p * size + i]);
            }
            expected[p] = sum / size;
            assertTrue(Math.abs(expected[p] - exact / size) <= 0x1p-20 * magnitude / size, "plane " + p);
        }
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                Tensor xt = cpu.allocate(Shape.of(planes * size)), y = cpu.allocate(Shape.of(planes));
                cpu.upload(x, xt);
                cpu.avgPool2dForward(g, xt, y);
                assertArrayEquals(expected, cpu.download(y), threads + " threads");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wholePlanes")
    void backwardSpreadsTheShareOverEachPlane(Pool2dGeometry g) {
        int planes = g.batch() * g.channels(), size = g.height() * g.width();
        float[] dy = random(planes, 2);
        dy[0] = -0f;
        float[] expected = new float[planes * size];
        for (int p = 0; p < planes; p++) for (int i = 0; i < size; i++) expected[p * size + i] = 0f + dy[p] / size;
        for (int threads : new int[] {1, 2}) {
            try (CpuBackend cpu = new CpuBackend(threads)) {
                Tensor dyt = cpu.allocate(Shape.of(planes)), dx = cpu.allocate(Shape.of(planes * size));
                cpu.upload(dy, dyt);
                cpu.fill(dx, Float.NaN); // every input must be written
                cpu.avgPool2dBackward(g, dyt, dx);
                float[] actual = cpu.download(dx);
                assertArrayEquals(expected, actual, threads + " threads");
                assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(actual[0]), "-0 spread as +0");
            }
        }
    }

    @Test
    void onlyWindowsOverWholeUnpaddedPlanesTakeTheFlatPass() {
        assertFalse(CpuPool2d.isWholePlane(new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false, true)), "2x2 windows");
        assertFalse(CpuPool2d.isWholePlane(new Pool2dGeometry(1, 1, 4, 4, 4, 4, 1, 1, 1, 1, false, true)), "padding");
        assertFalse(CpuPool2d.isWholePlane(new Pool2dGeometry(1, 1, 4, 5, 4, 4, 1, 1, 0, 0, false, true)), "narrower than the plane");
    }

    private static float[] random(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }
}
