package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseMemObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_mem;
import org.neurite.io.AtomicFiles;

/**
 * Picks, per device, which SGEMM kernel serves large products and which serves thin ones, as
 * CLBlast and DeepCL tune their kernels: on first use each candidate runs a representative product
 * ({@link #LARGE}: 512 x 512 x 512; {@link #THIN}: 16 x 1024 x 256, a recurrent step's shape) once to
 * warm up, then is timed {@link #REPEATS} times, each timing repeating it for at least
 * {@link #MIN_TIMING_NANOS}, and the candidate with the fastest call wins. The result is kept
 * next to the program cache ({@code <hash of the device>.gemm}, two lines of text) so later runs
 * on the device skip the search; it takes a few seconds on PoCL and well under one on a GPU.
 * Every variant computes the same thing (the parity tests run each), so the choice only changes speed.
 */
final class ClGemmTuning {
    /** m, n, k of the two representative products. */
    static final int[] LARGE = {512, 512, 512};
    static final int[] THIN = {16, 1024, 256};
    static final int REPEATS = 3;
    /**
     * Each of the {@link #REPEATS} timings repeats the call for at least this long: a 512^3 product
     * takes tens of microseconds on a large GPU, where a single call's time is mostly launch
     * overhead and clock ramp-up, and a choice made from such noise is kept in the cache.
     */
    static final long MIN_TIMING_NANOS = 20_000_000L;
    /** The kernels timed for each shape; a cached choice made among other candidates is searched again. */
    static final List<ClGemm.Variant> LARGE_CANDIDATES = List.of(ClGemm.Variant.TILED_64, ClGemm.Variant.REGISTER_128,
            ClGemm.Variant.REGISTER_64, ClGemm.Variant.DIRECT, ClGemm.Variant.BLOCKED);
    static final List<ClGemm.Variant> THIN_CANDIDATES = List.of(ClGemm.Variant.TILED_16, ClGemm.Variant.DIRECT, ClGemm.Variant.BLOCKED);

    private ClGemmTuning() {}

    /** The cached choice for the device, or a fresh search (then cached) when there is none or it is unreadable. */
    static ClGemm.Choice choose(ClGemm gemm, cl_context context, cl_command_queue queue, Path file) {
        ClGemm.Choice cached = file == null ? null : read(file);
        if (cached != null) return cached;
        ClGemm.Choice measured = measure(gemm, context, queue);
        if (file != null) write(file, measured);
        return measured;
    }

    /** Times every candidate on both shapes. */
    static ClGemm.Choice measure(ClGemm gemm, cl_context context, cl_command_queue queue) {
        long floats = Math.max((long) LARGE[0] * LARGE[2], (long) THIN[1] * THIN[2]);
        cl_mem[] buffers = new cl_mem[3];
        try {
            for (int i = 0; i < 3; i++) {
                buffers[i] = clCreateBuffer(context, CL_MEM_READ_WRITE, floats * Float.BYTES, null, null);
                clEnqueueFillBuffer(queue, buffers[i], Pointer.to(new float[] {0.5f}), Float.BYTES, 0, floats * Float.BYTES, 0, null, null);
            }
            ClGemm.Variant large = fastest(gemm, queue, buffers, LARGE, LARGE_CANDIDATES);
            ClGemm.Variant thin = fastest(gemm, queue, buffers, THIN, THIN_CANDIDATES);
            return new ClGemm.Choice(large, thin);
        } finally {
            for (cl_mem b : buffers) if (b != null) clReleaseMemObject(b);
        }
    }

    private static ClGemm.Variant fastest(ClGemm gemm, cl_command_queue queue, cl_mem[] buffers, int[] shape, List<ClGemm.Variant> candidates) {
        ClGemm.Variant best = candidates.get(0);
        long bestNanos = Long.MAX_VALUE;
        int m = shape[0], n = shape[1], k = shape[2];
        for (ClGemm.Variant v : candidates) {
            long nanos = nanosPerCall(() -> gemm.multiply(v, false, false, m, n, k, 1f, buffers[0], 0, k, buffers[1], 0, n,
                    0f, buffers[2], 0, n, 1, 0, 0, 0), queue);
            if (nanos < bestNanos) {
                bestNanos = nanos;
                best = v;
            }
        }
        return best;
    }

    /**
     * The time of one {@code call} (which enqueues on {@code queue}): one call to warm up (drivers
     * generate code on first launch), one to size the timings, then the fastest of {@link #REPEATS}
     * timings, each repeating the call for at least {@link #MIN_TIMING_NANOS}.
     */
    static long nanosPerCall(Runnable call, cl_command_queue queue) {
        call.run();
        clFinish(queue);
        long start = System.nanoTime();
        call.run();
        clFinish(queue);
        long once = Math.max(1, System.nanoTime() - start);
        int calls = (int) Math.max(1, Math.min(1000, MIN_TIMING_NANOS / once));
        long nanos = Long.MAX_VALUE;
        for (int r = 0; r < REPEATS; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) call.run();
            clFinish(queue);
            nanos = Math.min(nanos, (System.nanoTime() - t0) / calls);
        }
        return nanos;
    }

    static ClGemm.Choice read(Path file) {
        if (!Files.isRegularFile(file)) return null;
        try {
            Properties p = new Properties();
            p.load(new java.io.StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            if (!candidates().equals(p.getProperty("candidates"))) return null; // searched among other kernels
            return new ClGemm.Choice(ClGemm.Variant.valueOf(p.getProperty("large")), ClGemm.Variant.valueOf(p.getProperty("thin")));
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            return null; // unreadable or from another version: search again
        }
    }

    /**
     * The candidate lists and a hash of the kernel sources, as one line recorded with a choice: a
     * choice made among other kernels, or other versions of them, is searched again.
     */
    static String candidates() {
        return String.join(",", LARGE_CANDIDATES.stream().map(Enum::name).toList()) + ";"
                + String.join(",", THIN_CANDIDATES.stream().map(Enum::name).toList())
                + ";source " + Integer.toHexString(ClKernels.source().hashCode());
    }

    static void write(Path file, ClGemm.Choice choice) {
        try {
            AtomicFiles.writeString(file, "# SGEMM kernels chosen for this device by a timed search\ncandidates=" + candidates()
                    + "\nlarge=" + choice.large().name() + "\nthin=" + choice.thin().name() + "\n");
        } catch (IOException e) {
            // Not fatal: the next run searches again.
        }
    }
}
