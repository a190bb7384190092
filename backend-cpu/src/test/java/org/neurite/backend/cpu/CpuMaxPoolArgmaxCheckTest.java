package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.neurite.backend.OpChecks;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Max pooling backward's argmax check for 2x2 windows at stride 2 (its division-free form)
 * accepts exactly the entries the shared definition {@link OpChecks#isArgmaxOfWindow} accepts:
 * every output of planes whose width and height are odd (the last column and row belong to no
 * window), against every index of the plane and a margin around it, fractions, NaN and
 * infinities; the neighbours of a window (d = -1, 2, w - 1, w + 2, 2w) are in that sweep.
 */
class CpuMaxPoolArgmaxCheckTest {
    @Test
    void acceptsExactlyTheWindowsPositions() {
        int h = 5, w = 7;
        Pool2dGeometry g = new Pool2dGeometry(2, 1, h, w, 2, 2, 2, 2, 0, 0, false, false);
        int outputs = 2 * g.outHeight() * g.outWidth();
        float[] valid = new float[outputs];
        for (int o = 0; o < outputs; o++) {
            int q = o % (g.outHeight() * g.outWidth()), oh = q / g.outWidth(), ow = q % g.outWidth();
            valid[o] = (2 * oh + o % 2) * w + 2 * ow + (o / 2) % 2; // a different one of the four per output
        }
        try (CpuBackend cpu = new CpuBackend(2)) {
            Tensor dy = cpu.allocate(Shape.of(2, 1, g.outHeight(), g.outWidth())), dx = cpu.allocate(Shape.of(2, 1, h, w));
            Tensor argmax = cpu.allocate(Shape.of(2, 1, g.outHeight(), g.outWidth()));
            cpu.fill(dy, 1f);
            int checked = 0;
            for (int o = 0; o < outputs; o++) {
                for (int index = -3; index < h * w + 3; index++) {
                    for (float value : new float[] {index, index + 0.5f}) checked += check(cpu, g, valid, o, value, dy, argmax, dx);
                }
                for (float value : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 1e10f}) {
                    checked += check(cpu, g, valid, o, value, dy, argmax, dx);
                }
            }
            assertEquals(outputs * (2 * (h * w + 6) + 5), checked);
        }
    }

    /** Output o's entry set to value, the others valid: refused with the shared message iff the definition refuses it. */
    private static int check(CpuBackend cpu, Pool2dGeometry g, float[] valid, int o, float value, Tensor dy, Tensor argmax, Tensor dx) {
        float[] entries = valid.clone();
        entries[o] = value;
        cpu.upload(entries, argmax);
        String what = "output " + o + ", argmax " + value;
        if (OpChecks.isArgmaxOfWindow(g, o, value)) {
            cpu.maxPool2dBackward(g, dy, argmax, dx);
        } else {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cpu.maxPool2dBackward(g, dy, argmax, dx), what);
            assertEquals(true, e.getMessage().startsWith("maxPool2dBackward: argmax " + value + " at output " + o + " "), e.getMessage());
        }
        return 1;
    }
}
