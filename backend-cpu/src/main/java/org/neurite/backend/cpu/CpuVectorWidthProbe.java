package org.neurite.backend.cpu;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import jdk.incubator.vector.FloatVector;

/**
 * What this CPU offers the Vector API kernels: its widest native float vector
 * ({@link #nativeBits}), and, run as a process of its own ({@link #main}), the backend's
 * single-thread SGEMM rate at the width that process was pinned to. {@link CpuVectorWidth} runs one
 * such process per width on a CPU whose widest vector is 512-bit, because wider is not always
 * faster: AMD's Zen 4 splits a 512-bit fma into two 256-bit halves, and some Intel parts lower
 * their clock for 512-bit code. Like {@link CpuVectorKernels} this class names
 * {@code jdk.incubator.vector} and is loaded only when the module is present.
 *
 * <p>The race times the real product (packing, micro-kernel, write-back: a 512^3 SGEMM on one
 * worker) rather than the micro-kernel alone: on the AVX-512 development machine the micro-tile on
 * L1-resident panels ran at the same rate at both widths (102 vs 105 GFLOP/s), while the whole
 * product was 10-20% faster at 512 bits (fewer loads and stores in packing and write-back).
 */
final class CpuVectorWidthProbe {
    /** Size of the timed product: 2 * 512^3 flops, about 3 ms once compiled. */
    static final int N = 512;

    private CpuVectorWidthProbe() {}

    /** The widest float vector this CPU runs natively, in bits ({@code FloatVector.SPECIES_PREFERRED}). */
    static int nativeBits() { return FloatVector.SPECIES_PREFERRED.vectorBitSize(); }

    /**
     * The probe process ({@code -Dneurite.cpu.vector=256} or {@code 512}): runs the product until
     * it is compiled (over 5 GFLOP/s, which interpreted Vector API code never reaches) and then
     * until for {@code args[0]} nanoseconds neither its best call improved by 1% nor the JIT
     * finished a compilation (on a loaded machine C2 compiles the loops around the micro-kernel
     * seconds after the micro-kernel, and the rate sits on a plateau meanwhile), at most {@code args[1]}
     * nanoseconds in all, and prints the best call's GFLOP/s (the call least disturbed by other
     * processes); prints nothing when the rate never settled within the limit.
     */
    public static void main(String[] args) {
        long settle = Long.parseLong(args[0]);
        long limit = System.nanoTime() + Long.parseLong(args[1]);
        float[] a = new float[N * N], b = new float[N * N], c = new float[N * N];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 13 - 6) / 8f;
            b[i] = (i % 7 - 3) / 4f;
        }
        try (CpuThreads threads = new CpuThreads(1)) {
            CpuGemm gemm = new CpuGemm(threads, CpuKernels.Path.VECTOR_API);
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            double best = 0;
            long improved = System.nanoTime(), jitMillis = -1;
            for (long now = improved; now < limit; ) {
                gemm.gemm(false, false, N, N, N, 1f, a, 0, N, b, 0, N, 0f, c, 0, N, 1, 0, 0, 0);
                long t = System.nanoTime();
                double rate = 2.0 * N * N * N / (t - now);
                now = t;
                // Settled: no better call, and no compilation finished, for the whole window.
                long compiled = jit.getTotalCompilationTime();
                if (rate > best * 1.01 || compiled != jitMillis) improved = now;
                jitMillis = compiled;
                best = Math.max(best, rate);
                if (best > 5 && now - improved > settle) {
                    System.out.println(best);
                    return;
                }
            }
        }
    }
}
