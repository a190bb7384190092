package org.neurite.layer;

import java.util.SplittableRandom;
import org.neurite.tensor.Shape;

/**
 * Fills a freshly created parameter. Seeded: the engine hands each parameter its own
 * generator derived from the run seed and the parameter's name, so initial weights do not
 * depend on declaration order.
 */
@FunctionalInterface
public interface Initializer {
    void initialize(float[] values, Shape shape, SplittableRandom rng);

    static Initializer zeros() { return (v, s, r) -> java.util.Arrays.fill(v, 0f); }

    static Initializer constant(float c) { return (v, s, r) -> java.util.Arrays.fill(v, c); }

    /** Values copied from the script (e.g. fixed filter kernels). */
    static Initializer values(float[] data) {
        return (v, s, r) -> {
            if (data.length != v.length)
                throw new IllegalArgumentException("expected " + v.length + " values for " + s + ", got " + data.length);
            System.arraycopy(data, 0, v, 0, v.length);
        };
    }

    /** U(-bound, bound). */
    static Initializer uniform(double bound) {
        return (v, s, r) -> {
            for (int i = 0; i < v.length; i++) v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        };
    }

    /** He (Kaiming) normal for ReLU networks: N(0, 2/fanIn). */
    static Initializer heNormal(int fanIn) {
        double std = Math.sqrt(2.0 / fanIn);
        return (v, s, r) -> {
            for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(r) * std);
        };
    }

    /** He (Kaiming) uniform: U(-sqrt(6/fanIn), sqrt(6/fanIn)). */
    static Initializer heUniform(int fanIn) { return uniform(Math.sqrt(6.0 / fanIn)); }

    /** Xavier (Glorot) uniform: U(-sqrt(6/(fanIn+fanOut)), ...). */
    static Initializer xavierUniform(int fanIn, int fanOut) { return uniform(Math.sqrt(6.0 / (fanIn + fanOut))); }

    /** PyTorch's default for Linear/Conv weights and biases: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
    static Initializer torchDefault(int fanIn) { return uniform(1.0 / Math.sqrt(fanIn)); }

    /** Picks an initializer by the name used in scripts ({@code init="he"}). */
    static Initializer byName(String name, int fanIn, int fanOut) {
        return switch (name) {
            case "he", "he_normal", "kaiming" -> heNormal(fanIn);
            case "he_uniform" -> heUniform(fanIn);
            case "xavier", "xavier_uniform", "glorot" -> xavierUniform(fanIn, fanOut);
            case "torch", "default" -> torchDefault(fanIn);
            case "zeros" -> zeros();
            default -> throw new ArgumentException("init", -1,
                    "unknown initializer '" + name + "' (known: he, he_uniform, xavier, torch, zeros)");
        };
    }

    /** Standard normal by Box-Muller from two uniforms (SplittableRandom has no nextGaussian on 17). */
    private static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
