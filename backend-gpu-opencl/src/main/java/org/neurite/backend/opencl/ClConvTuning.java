package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clReleaseMemObject;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.io.AtomicFiles;

/**
 * Picks, per device, whether each direction of a convolution (forward, data gradient, filter
 * gradient) runs as im2col + the tuned SGEMM or as implicit GEMM ({@link ClConv2d.Path}), by the same timed search
 * as {@link ClGemmTuning} (after it: the im2col path's speed is the tuned SGEMM's) on
 * {@link #REPRESENTATIVE}, fashion_cnn's second convolution at batch 8. The result is cached next to
 * the SGEMM choice ({@code <hash of the device>.conv}) with the kernel sources' hash and the SGEMM
 * choice it was measured with, so a changed kernel or SGEMM choice is searched again.
 * {@code -D}{@value #PROPERTY}{@code =im2col|implicit} overrides the search (tests and device
 * checks run each path this way); both paths compute the same result (the parity tests run each).
 */
final class ClConvTuning {
    /** System property forcing one path for every direction: {@code im2col}, {@code implicit}, or {@code tuned} (the default). */
    static final String PROPERTY = "neurite.opencl.conv";
    /** batch 8, 32 -> 64 channels, 14 x 14, 5 x 5 kernel, stride 1, padding 2. */
    static final Conv2dGeometry REPRESENTATIVE = new Conv2dGeometry(8, 32, 14, 14, 64, 5, 5, 1, 1, 2, 2, 1, 1, 1);

    private ClConvTuning() {}

    /** {@code forced} (from {@link #forced}) when not null, else the cached choice, else a fresh search (then cached). */
    static ClConv2d.Choice choose(ClConv2d.Choice forced, ClContext device, ClCopies copies, Path file) {
        if (forced != null) return forced;
        String tag = candidates(device.gemm.choice());
        ClConv2d.Choice cached = file == null ? null : read(file, tag);
        if (cached != null) return cached;
        ClConv2d.Choice measured = measure(device, copies);
        if (file != null) write(file, tag, measured);
        return measured;
    }

    /** The choice a value of {@value #PROPERTY} forces; null for none or {@code tuned}. */
    static ClConv2d.Choice forced(String value) {
        if (value == null || value.isBlank()) return null;
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "tuned" -> null;
            case "im2col" -> ClConv2d.Choice.IM2COL;
            case "implicit" -> ClConv2d.Choice.IMPLICIT;
            default -> throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": expected im2col, implicit or tuned");
        };
    }

    /**
     * Times both paths of each direction on {@link #REPRESENTATIVE}, with buffers and a column
     * workspace of its own (released afterwards), so the search leaves nothing allocated.
     */
    static ClConv2d.Choice measure(ClContext device, ClCopies copies) {
        Conv2dGeometry g = REPRESENTATIVE;
        long xFloats = (long) g.batch() * g.inChannels() * g.height() * g.width();
        long yFloats = (long) g.batch() * g.outChannels() * g.outHeight() * g.outWidth();
        long wFloats = (long) g.outChannels() * g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
        long[] sizes = {xFloats, wFloats, g.outChannels(), yFloats, wFloats, g.outChannels()};
        cl_mem[] buffers = new cl_mem[sizes.length];
        ClWorkspace columns = new ClWorkspace(device, "convolution tuning columns");
        try {
            for (int i = 0; i < sizes.length; i++) {
                buffers[i] = clCreateBuffer(device.context, CL_MEM_READ_WRITE, sizes[i] * Float.BYTES, null, null);
                clEnqueueFillBuffer(device.queue.handle(), buffers[i], Pointer.to(new float[] {0.5f}), Float.BYTES, 0,
                        sizes[i] * Float.BYTES, 0, null, null);
            }
            ClConv2d conv = new ClConv2d(device.kernels, device.gemm, columns, copies, ClConv2d.COLUMN_BUDGET);
            cl_mem x = buffers[0], w = buffers[1], b = buffers[2], y = buffers[3], dw = buffers[4], db = buffers[5];
            ClConv2d.Path forward = faster(device,
                    () -> conv.forward(ClConv2d.Path.IM2COL, g, x, w, b, null, y),
                    () -> conv.forward(ClConv2d.Path.IMPLICIT, g, x, w, b, null, y));
            ClConv2d.Path data = faster(device,
                    () -> conv.backwardData(ClConv2d.Path.IM2COL, g, y, w, x), () -> conv.backwardData(ClConv2d.Path.IMPLICIT, g, y, w, x));
            ClConv2d.Path filter = faster(device, () -> conv.backwardFilter(ClConv2d.Path.IM2COL, g, x, y, dw, db),
                    () -> conv.backwardFilter(ClConv2d.Path.IMPLICIT, g, x, y, dw, db));
            return new ClConv2d.Choice(forward, data, filter);
        } finally {
            columns.close();
            device.finish(); // the workspace and the buffers are released only after the timed work
            for (cl_mem m : buffers) if (m != null) clReleaseMemObject(m);
        }
    }

    private static ClConv2d.Path faster(ClContext device, Runnable im2col, Runnable implicit) {
        long a = ClGemmTuning.nanosPerCall(im2col, device.queue.handle());
        long b = ClGemmTuning.nanosPerCall(implicit, device.queue.handle());
        return b < a ? ClConv2d.Path.IMPLICIT : ClConv2d.Path.IM2COL;
    }

    /** What a cached choice was measured with: the kernel sources and the SGEMM choice the im2col path used. */
    static String candidates(ClGemm.Choice gemm) {
        return "source " + Integer.toHexString(ClKernels.source().hashCode()) + "; sgemm " + gemm.large().name() + "," + gemm.thin().name();
    }

    static ClConv2d.Choice read(Path file, String candidates) {
        if (!Files.isRegularFile(file)) return null;
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            if (!candidates.equals(p.getProperty("candidates"))) return null; // other kernels or another SGEMM choice
            return new ClConv2d.Choice(ClConv2d.Path.valueOf(p.getProperty("forward")), ClConv2d.Path.valueOf(p.getProperty("backwardData")),
                    ClConv2d.Path.valueOf(p.getProperty("backwardFilter")));
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            return null; // unreadable or from another version: search again
        }
    }

    static void write(Path file, String candidates, ClConv2d.Choice choice) {
        try {
            AtomicFiles.writeString(file, "# convolution paths chosen for this device by a timed search\ncandidates=" + candidates
                    + "\nforward=" + choice.forward().name() + "\nbackwardData=" + choice.backwardData().name()
                    + "\nbackwardFilter=" + choice.backwardFilter().name() + "\n");
        } catch (IOException e) {
            // Not fatal: the next run searches again.
        }
    }
}
