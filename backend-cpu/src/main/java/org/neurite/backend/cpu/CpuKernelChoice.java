package org.neurite.backend.cpu;

import java.util.Locale;

/**
 * Which inner loops the CPU backend runs in this JVM and why, for {@code nn backends}: the path
 * (the Vector API, or plain Java when the JVM lacks {@code jdk.incubator.vector}), the vector
 * width in bits (0 on the plain path, whose loops C2 vectorises as it sees fit), the GEMM
 * micro-tile (rows x columns of C kept in registers), where the choice came from
 * ({@code override}, {@code features}, {@code cache} or {@code no-vector-api}) and
 * the reason in words, e.g. "probe: 98 vs 81 GFLOP/s for 256-bit". See {@code CpuVectorWidth}
 * for how the width is chosen and the system property that pins it.
 */
public record CpuKernelChoice(String path, int vectorBits, String gemmTile, String source, String reason) {
    /** One line, e.g. {@code 512-bit FloatVector, GEMM micro-kernel 8x32 (probe: 98 vs 81 GFLOP/s for 256-bit, cached in ...)}. */
    public String describe() {
        String what = vectorBits > 0 ? vectorBits + "-bit FloatVector" : path;
        return String.format(Locale.ROOT, "%s, GEMM micro-kernel %s (%s)", what, gemmTile, reason);
    }

    /**
     * This JVM's choice. When the JVM started a background probe (no cached result yet), waits
     * for it and adds what it measured: the new width applies from the next start.
     */
    static CpuKernelChoice current() {
        String tile = CpuGemm.MR + "x" + CpuGemm.NR;
        if (!CpuKernels.VECTOR_API_PRESENT) {
            return new CpuKernelChoice("plain Java", 0, tile, "no-vector-api",
                    "start the JVM with --add-modules " + CpuKernels.VECTOR_MODULE + " for the Vector API path");
        }
        CpuVectorWidth.Decision d = CpuVectorWidth.chosen();
        String reason = d.reason();
        if (d.source().equals("features") && CpuVectorWidth.probeStarted()) {
            try {
                CpuVectorWidth.awaitProbe(2 * CpuVectorWidth.PROBE_LIMIT_NANOS / 1_000_000 + 6_000); // two probe JVMs
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // answer with what is known now
            }
            CpuVectorWidth.Rates rates = CpuVectorWidth.probeResult();
            reason = rates == null ? "the widest this CPU runs natively; the probe of 256 vs 512 bits gave no result (it runs again at the next start)"
                    : "the widest this CPU runs natively; " + rates.describe() + ", " + rates.winner() + "-bit from the next start";
        }
        return new CpuKernelChoice("Vector API", d.bits(), tile, d.source(), reason);
    }
}
