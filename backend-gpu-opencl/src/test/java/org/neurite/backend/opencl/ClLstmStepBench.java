package org.neurite.backend.opencl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Slice;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * One LSTM forward step on the OpenCL device, fused ({@code lstmStepForward}: one launch) against
 * the two launches it replaces ({@code gemm} with the tuned thin SGEMM kernel, then
 * {@code lstmCellForward}), their rounds alternating in one JVM so that on a shared machine both
 * see the same load; each round repeats the step {@code --steps} times and waits for the device.
 * Printed per size: the median microseconds per step of each, every round, and the median over
 * rounds of fused / unfused. Not a test: a main run from the test classpath, e.g.
 *
 * <pre>mvn -q -o test-compile -pl backend-gpu-opencl && mvn -q -o dependency:build-classpath -pl backend-gpu-opencl -Dmdep.outputFile=/tmp/cp
 * java --add-modules jdk.incubator.vector -cp backend-gpu-opencl/target/test-classes:backend-gpu-opencl/target/classes:$(cat /tmp/cp) \
 *   org.neurite.backend.opencl.ClLstmStepBench --rounds 15 --steps 200 64x128 64x256 16x128</pre>
 */
public final class ClLstmStepBench {
    private ClLstmStepBench() {}

    public static void main(String[] args) {
        int rounds = 15, steps = 200;
        List<int[]> sizes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                default -> sizes.add(Arrays.stream(args[i].split("x")).mapToInt(Integer::parseInt).toArray());
            }
        }
        if (sizes.isEmpty()) sizes.add(new int[] {64, 128});
        ClBackend cl = (ClBackend) new ClBackendProvider().create(new BackendOptions(0, System.getProperty("neurite.opencl.device")));
        try (cl) {
            System.out.println("device: " + cl.description());
            for (int[] size : sizes) {
                int batch = size[0], hidden = size[1];
                Tensor hPrev = random(cl, batch * hidden), w = random(cl, 4 * hidden * hidden), gates = random(cl, 4 * batch * hidden);
                Tensor cPrev = random(cl, batch * hidden), c = cl.allocate(Shape.of(batch * hidden)), h = cl.allocate(Shape.of(batch * hidden));
                Matrix hm = Matrix.of(hPrev, hidden), wm = Matrix.of(w, hidden), gm = Matrix.of(gates, 4 * hidden);
                Gemm product = new Gemm(false, true, batch, 4 * hidden, hidden, 1);
                Slice gs = Slice.of(gates), cps = Slice.of(cPrev), cs = Slice.of(c), hs = Slice.of(h);
                Runnable fused = () -> cl.lstmStepForward(hm, wm, gs, cps, cs, hs, batch, hidden);
                Runnable apart = () -> {
                    cl.gemm(product, 1f, hm, wm, 1f, gm);
                    cl.lstmCellForward(gs, cps, cs, hs, batch, hidden);
                };
                double[] f = new double[rounds], a = new double[rounds], ratio = new double[rounds];
                micros(cl, fused, steps);   // warm-up: first launches, code generation
                micros(cl, apart, steps);
                for (int r = 0; r < rounds; r++) {
                    f[r] = micros(cl, fused, steps);
                    a[r] = micros(cl, apart, steps);
                    ratio[r] = f[r] / a[r];
                }
                System.out.printf(Locale.ROOT, "batch %d hidden %d: fused %.1f us/step, gemm + cell %.1f us/step, fused / apart %.2f%n",
                        batch, hidden, median(f), median(a), median(ratio));
                System.out.println("  fused rounds " + Arrays.toString(round(f)) + "\n  apart rounds " + Arrays.toString(round(a)));
                for (Tensor t : new Tensor[] {hPrev, w, gates, cPrev, c, h}) t.close();
            }
        }
    }

    private static Tensor random(ClBackend cl, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 7919) % 1000) / 1000f - 0.5f;
        Tensor t = cl.allocate(Shape.of(n));
        cl.upload(v, t);
        return t;
    }

    /** Microseconds per call over {@code calls} calls, waiting for the device at the end. */
    private static double micros(ClBackend cl, Runnable call, int calls) {
        cl.synchronize();
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) call.run();
        cl.synchronize();
        return (System.nanoTime() - start) / 1e3 / calls;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static long[] round(double[] v) {
        return Arrays.stream(v).mapToLong(Math::round).toArray();
    }
}
