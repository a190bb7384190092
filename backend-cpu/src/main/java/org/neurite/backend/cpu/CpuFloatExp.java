package org.neurite.backend.cpu;

/**
 * e^x, the logistic function and tanh in float arithmetic, for the LSTM cell: the scalar
 * definition that {@link CpuPlainKernels} runs and that {@link CpuVectorKernels} runs lane by lane
 * with the same operations in the same order (a min, a max, {@code fma}s, a multiply, an add, a
 * divide and integer bit moves, each exactly rounded or exact), so both paths give the same bits.
 *
 * <p>Why not {@link Math#exp} and {@link Math#tanh} in double, as the {@code unary} ops compute
 * them: in JDK 17 {@code Math.tanh} is not an intrinsic, and the five transcendentals of every
 * cell element took about 60% of the row LSTM's inference at batch 256 (BENCHMARKS.md). This
 * form is a handful of fmas, vectorised.
 *
 * <p>e^x is Cephes' {@code expf}: x clamped to [-87, 88], n = round(x·log2 e) (added to and
 * subtracted from 1.5·2^23), r = x - n·ln 2 in two parts (Cody and Waite), e^r by its degree-7
 * polynomial with the leading terms 1 + r exact, times 2^n built in the exponent bits. Relative
 * error at most 2 ulp on [-87, 88] ({@code CpuFloatExpTest}); below -87 it returns e^-87 ≈
 * 1.6e-38 instead of a smaller number, which no caller here can tell from 0, and NaN stays NaN.
 * σ(x) = 1 / (1 + e^-x) and tanh(x) = 1 - 2 / (e^2x + 1): their absolute errors stay below
 * 2e-7 everywhere (tanh loses relative precision near 0, where it is tiny, as an LSTM never
 * notices); σ(0) = 1/2 and tanh(0) = 0 exactly, and both saturate to exactly 0, 1 or ±1.
 */
final class CpuFloatExp {
    private CpuFloatExp() {}

    /** The clamp: 2^n stays a normal float (n + 127 in [1, 254]) and e^x finite. */
    static final float MIN = -87f;
    static final float MAX = 88f;
    static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2^23: adding it rounds to an integer, kept in the low mantissa bits. */
    static final float ROUND = 12582912f;
    /** The bits of {@link #ROUND} less the exponent bias: bits(x·log2 e + ROUND) - this = n + 127. */
    static final int ROUND_BITS_LESS_BIAS = 0x4B400000 - 127;
    /** -ln 2 in two parts: the high one has few enough bits that n·LN2_HI is exact. */
    static final float MINUS_LN2_HI = -0.693359375f;
    static final float MINUS_LN2_LO = 2.12194440e-4f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    /** e^x (see the class comment). */
    static float exp(float x) {
        x = Math.min(Math.max(x, MIN), MAX);
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, MINUS_LN2_HI, x);
        r = Math.fma(n, MINUS_LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat((Float.floatToRawIntBits(t) - ROUND_BITS_LESS_BIAS) << 23);
    }

    /** σ(x) = 1 / (1 + e^-x). */
    static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }

    /** tanh(x) = 1 - 2 / (e^2x + 1). */
    static float tanh(float x) {
        return 1f - 2f / (exp(x + x) + 1f);
    }
}
