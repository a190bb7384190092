package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link CpuFloatExp} against {@link Math#exp} and {@link Math#tanh} in double on a dense sweep
 * of floats, its exact points and saturation, and the kernels' in-place sigmoid and tanh on
 * whichever path this JVM has (vector lanes and scalar tails) giving the scalar function's bits.
 */
class CpuFloatExpTest {
    /** Every 3989th float bit pattern of [-90, 90]: about 560,000 values (both signs), all exponents. */
    private static float[] sweep() {
        int top = Float.floatToRawIntBits(90f), n = top / 3989 + 1;
        float[] x = new float[2 * n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = Float.intBitsToFloat(i * 3989);
            x[2 * i + 1] = -x[2 * i];
        }
        return x;
    }

    @Test
    void expIsWithinTwoUlpOnItsRange() {
        double worst = 0;
        for (float x : sweep()) {
            if (x < CpuFloatExp.MIN || x > CpuFloatExp.MAX) continue;
            double exact = Math.exp(x);
            worst = Math.max(worst, Math.abs(CpuFloatExp.exp(x) - exact) / Math.ulp((float) exact));
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
    }

    @Test
    void sigmoidAndTanhAreWithinTwoTenMillionthsEverywhere() {
        double worstSigmoid = 0, worstTanh = 0;
        for (float x : sweep()) {
            worstSigmoid = Math.max(worstSigmoid, Math.abs(CpuFloatExp.sigmoid(x) - 1 / (1 + Math.exp(-(double) x))));
            worstTanh = Math.max(worstTanh, Math.abs(CpuFloatExp.tanh(x) - Math.tanh(x)));
        }
        assertTrue(worstSigmoid < 2e-7, "sigmoid worst absolute error " + worstSigmoid);
        assertTrue(worstTanh < 2e-7, "tanh worst absolute error " + worstTanh);
    }

    @Test
    void exactPointsSaturationAndNaN() {
        assertEquals(1f, CpuFloatExp.exp(0f));
        assertEquals(0.5f, CpuFloatExp.sigmoid(0f));
        assertEquals(0f, CpuFloatExp.tanh(0f));
        assertEquals(1f, CpuFloatExp.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0f, CpuFloatExp.sigmoid(Float.NEGATIVE_INFINITY), 1e-37f);
        assertEquals(1f, CpuFloatExp.tanh(1e4f));
        assertEquals(-1f, CpuFloatExp.tanh(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isFinite(CpuFloatExp.exp(Float.POSITIVE_INFINITY)));
        assertTrue(Float.isNaN(CpuFloatExp.exp(Float.NaN)));
        assertTrue(Float.isNaN(CpuFloatExp.sigmoid(Float.NaN)));
        assertTrue(Float.isNaN(CpuFloatExp.tanh(Float.NaN)));
    }

    @Test
    void kernelsGiveTheScalarFunctionsBitsInPlaceAtAnOffset() {
        float[] x = sweep();
        x[5] = Float.NaN;
        x[6] = Float.POSITIVE_INFINITY;
        x[x.length - 2] = Float.NEGATIVE_INFINITY;   // in the scalar tail
        int from = 3, to = x.length - 1;             // neither end on a lane boundary
        CpuKernels kernels = CpuKernels.Path.select().create();
        float[] sigmoid = x.clone(), tanh = x.clone(), expectedSigmoid = x.clone(), expectedTanh = x.clone();
        kernels.sigmoidInPlace(sigmoid, from, to);
        kernels.tanhInPlace(tanh, from, to);
        for (int i = from; i < to; i++) {
            expectedSigmoid[i] = CpuFloatExp.sigmoid(x[i]);
            expectedTanh[i] = CpuFloatExp.tanh(x[i]);
        }
        assertArrayEquals(expectedSigmoid, sigmoid);
        assertArrayEquals(expectedTanh, tanh);
    }
}
