package org.neurite.backend.opencl;

import static org.jocl.CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.jocl.CL.CL_DEVICE_VENDOR;
import static org.jocl.CL.CL_DRIVER_VERSION;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_PLATFORM_VERSION;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clEnqueueCopyBuffer;
import static org.jocl.CL.clEnqueueFillBuffer;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clEnqueueWriteBuffer;
import static org.jocl.CL.clFinish;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseMemObject;

import static org.neurite.backend.OpChecks.*;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_mem;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The OpenCL backend: every op of {@link Backend} runs on one OpenCL device through JOCL. The
 * backend owns one context and one in-order command queue; tensors are device buffers
 * ({@link ClTensor}) in the public layout; the kernels ({@code .cl} resources, see
 * {@link ClKernels}) are built once per backend as one program, through the on-disk
 * {@link ClProgramCache}. Ops only enqueue work: nothing waits except {@link #download}, the ops
 * that return a value ({@link #sumOfSquares}, {@link #softmaxCrossEntropy}, which reduce on the
 * device and read back one small result), the embedding ops (which read back whether every index
 * is valid before writing anything) and {@link #synchronize}. Uploads block until the array has
 * been copied, so callers may reuse it at once.
 *
 * <p>This class checks arguments (owner, sizes, offsets, overlaps: the same rules and messages as
 * the CPU reference) and launches kernels; GEMM and convolution have their own host classes
 * ({@link ClGemm}, {@link ClConv2d}). Reductions sum in double where the device supports it, in a
 * fixed order, so results are reproducible run to run on one device; they match the CPU backend
 * within float rounding (see the parity tests for the tolerances).
 *
 * <p>Allocation and release may come from any thread; ops are issued by one thread at a time, as
 * the engine does (they share the workspaces and the kernels' argument slots).
 */
public final class ClBackend implements Backend {
    private final ClDeviceInfo info;
    private final cl_context context;
    private final cl_command_queue queue;
    private final ClKernels kernels;
    private final ClGemm gemm;
    private final ClConv2d conv;
    private final ClWorkspace columns;
    private final ClWorkspace partials;
    private final ClWorkspace rowStatus;
    private final cl_mem result;
    private final int accBytes;
    private final long maxAllocation;
    /** Bytes of tensors this backend may hold: the device's global memory, or less by {@link #MEMORY_LIMIT_PROPERTY}. */
    private final long memoryLimit;
    private final Set<ClTensor> open = Collections.newSetFromMap(new IdentityHashMap<>());
    private long allocatedBytes;
    private boolean closed;

    /**
     * System property capping the bytes of tensors a backend holds below the device's memory
     * ({@code 512m}, {@code 2g} or bytes): to share a GPU with other work, or to exercise the
     * out-of-memory path in tests on a device as large as the host's RAM.
     */
    public static final String MEMORY_LIMIT_PROPERTY = "neurite.opencl.memoryLimit";

    ClBackend(ClDevices.Found device, ClProgramCache cache) {
        this(device, cache, ClConv2d.COLUMN_BUDGET, memoryLimitProperty());
    }

    /**
     * A backend whose convolutions work in chunks of at most {@code columnBudget} column floats
     * (tests use small ones) and whose tensors may take at most {@code memoryLimit} bytes
     * (Long.MAX_VALUE: the device's global memory).
     */
    ClBackend(ClDevices.Found device, ClProgramCache cache, long columnBudget, long memoryLimit) {
        this.info = device.info();
        this.memoryLimit = Math.min(memoryLimit, info.globalMemoryBytes());
        cl_device_id id = device.device();
        this.context = clCreateContext(null, 1, new cl_device_id[] {id}, null, null, null);
        cl_command_queue q = null;
        ClKernels k = null;
        ClGemm g;
        try {
            q = clCreateCommandQueue(context, id, 0, null);
            String deviceKey = info.platform() + " " + ClDevices.platformString(device.platform(), CL_PLATFORM_VERSION) + " / "
                    + info.name() + " / " + ClDevices.deviceString(id, CL_DEVICE_VENDOR) + " / " + info.openclVersion()
                    + " / driver " + ClDevices.deviceString(id, CL_DRIVER_VERSION);
            k = new ClKernels(context, id, q, deviceKey, info.fp64(), cache);
            g = new ClGemm(k, new ClGemm.Choice(ClGemm.Variant.TILED_64, ClGemm.Variant.TILED_16));
            g.use(ClGemmTuning.choose(g, context, q, cache.tuningFile(deviceKey)));
        } catch (RuntimeException e) {
            if (k != null) k.close();
            if (q != null) clReleaseCommandQueue(q);
            clReleaseContext(context);
            throw e;
        }
        this.queue = q;
        this.kernels = k;
        this.gemm = g;
        this.columns = new ClWorkspace(context, "im2col columns / staging");
        this.conv = new ClConv2d(kernels, gemm, columns, columnBudget);
        this.partials = new ClWorkspace(context, "reduction partials");
        this.rowStatus = new ClWorkspace(context, "per-row status");
        this.accBytes = info.fp64() ? Double.BYTES : Float.BYTES;
        this.result = clCreateBuffer(context, CL_MEM_READ_WRITE, 2L * Double.BYTES, null, null);
        this.maxAllocation = ClDevices.deviceLong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    }

    @Override public String name() { return "opencl"; }

    @Override public String description() {
        return String.format(Locale.ROOT, "OpenCL %s (%s), %d compute units, %.1f GiB, %s; kernels %s in %d ms; sgemm: %s",
                info.name(), info.platform(), info.computeUnits(), info.globalMemoryBytes() / (double) (1L << 30),
                info.fp64() ? "double-precision sums" : "single-precision sums",
                kernels.fromCache() ? "loaded from the cache" : "compiled", kernels.buildNanos() / 1_000_000, gemm.choice());
    }

    /** The device this backend runs on. */
    public ClDeviceInfo device() { return info; }

    /** The SGEMM kernels in use; tests replace it to run every variant. */
    ClGemm gemmKernels() { return gemm; }

    /** Whether this backend's kernels were loaded from the program cache instead of compiled. */
    public boolean kernelsFromCache() { return kernels.fromCache(); }

    @Override public void synchronize() { clFinish(queue); }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        clFinish(queue);
        for (ClTensor t : new ArrayList<>(open)) release(t);
        columns.close();
        partials.close();
        rowStatus.close();
        clReleaseMemObject(result);
        kernels.close();
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    // ---- memory -------------------------------------------------------------------------

    @Override public synchronized Tensor allocate(Shape shape) {
        if (closed) throw new IllegalStateException("the OpenCL backend is closed");
        long bytes = Math.max(1L, shape.elementCount()) * Float.BYTES;
        shape.size(); // refuses shapes beyond 2^31-1 elements
        if (bytes > maxAllocation) throw outOfMemory(shape, bytes, "larger than the device's largest buffer ("
                + mib(maxAllocation) + ")", null);
        if (bytes > memoryLimit - allocatedBytes) throw outOfMemory(shape, bytes, "more than the " + mib(memoryLimit - allocatedBytes)
                + " (" + (memoryLimit - allocatedBytes) + " bytes) left", null);
        cl_mem mem;
        try {
            mem = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
            // Zero-filled, as the contract says; also makes lazily-allocating drivers commit the memory now.
            clEnqueueFillBuffer(queue, mem, Pointer.to(new float[] {0f}), Float.BYTES, 0, bytes, 0, null, null);
        } catch (CLException e) {
            throw outOfMemory(shape, bytes, e.getMessage(), e);
        }
        ClTensor t = new ClTensor(this, shape, mem);
        open.add(t);
        allocatedBytes += bytes;
        return t;
    }

    /** Bytes of tensors this backend can still allocate under its limit (the planner's check before it compiles a model). */
    @Override public synchronized long memoryAvailable() {
        return Math.max(0, memoryLimit - allocatedBytes);
    }

    /** "holds M MiB in K tensors of the device's T MiB [(limited to L MiB by -D...)]", for out-of-memory messages. */
    @Override public synchronized String memoryReport() {
        String limit = memoryLimit < info.globalMemoryBytes()
                ? " (limited to " + mib(memoryLimit) + " by -D" + MEMORY_LIMIT_PROPERTY + ")" : "";
        return "holds " + mib(allocatedBytes) + " in " + open.size() + " tensors of the device's " + mib(info.globalMemoryBytes()) + limit;
    }

    private OutOfMemoryException outOfMemory(Shape shape, long bytes, String why, Throwable cause) {
        return new OutOfMemoryException("OpenCL device out of memory: a tensor " + shape + " of " + mib(bytes) + " (" + bytes
                + " bytes) on " + info.name() + " (" + why + "); this backend already " + memoryReport() + "; use a smaller batch or model",
                cause);
    }

    /** {@link #MEMORY_LIMIT_PROPERTY} in bytes, or Long.MAX_VALUE when unset. */
    static long memoryLimitProperty() {
        String v = System.getProperty(MEMORY_LIMIT_PROPERTY);
        if (v == null || v.isBlank()) return Long.MAX_VALUE;
        return parseBytes(v.trim(), MEMORY_LIMIT_PROPERTY);
    }

    /** {@code 1234}, {@code 64k}, {@code 512m}, {@code 2g} (case-insensitive) as bytes. */
    static long parseBytes(String v, String what) {
        String digits = v;
        long unit = 1;
        char last = Character.toLowerCase(v.charAt(v.length() - 1));
        if (last == 'k' || last == 'm' || last == 'g') {
            unit = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            digits = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(digits);
            if (n < 0 || n > Long.MAX_VALUE / unit) throw new NumberFormatException();
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a byte count such as 1073741824, 512m or 2g, got '" + v + "'");
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** Releases a tensor's buffer (idempotent). */
    synchronized void release(ClTensor t) {
        cl_mem mem = t.detach();
        if (mem == null) return;
        open.remove(t);
        allocatedBytes -= Math.max(1L, t.size()) * Float.BYTES;
        clReleaseMemObject(mem);
    }

    @Override public void upload(float[] src, int srcOffset, Tensor dst, int dstOffset, int length) {
        ClTensor d = tensor(dst, "dst");
        checkRange("src", src.length, srcOffset, length);
        checkRange("dst", d.size(), dstOffset, length);
        if (length == 0) return;
        clEnqueueWriteBuffer(queue, d.mem(), true, (long) dstOffset * Float.BYTES, (long) length * Float.BYTES,
                Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), 0, null, null);
    }

    @Override public void download(Tensor src, int srcOffset, float[] dst, int dstOffset, int length) {
        ClTensor s = tensor(src, "src");
        checkRange("src", s.size(), srcOffset, length);
        checkRange("dst", dst.length, dstOffset, length);
        if (length == 0) return;
        clEnqueueReadBuffer(queue, s.mem(), true, (long) srcOffset * Float.BYTES, (long) length * Float.BYTES,
                Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), 0, null, null);
    }

    @Override public void fill(Tensor t, float value) {
        ClTensor c = tensor(t, "t");
        fill(c.mem(), c.size(), value);
    }

    private void fill(cl_mem mem, int length, float value) {
        if (length == 0) return;
        clEnqueueFillBuffer(queue, mem, Pointer.to(new float[] {value}), Float.BYTES, 0, (long) length * Float.BYTES, 0, null, null);
    }

    @Override public void copy(Tensor src, int srcOffset, Tensor dst, int dstOffset, int length) {
        ClTensor s = tensor(src, "src"), d = tensor(dst, "dst");
        checkRange("src", s.size(), srcOffset, length);
        checkRange("dst", d.size(), dstOffset, length);
        if (length == 0 || (s == d && srcOffset == dstOffset)) return;
        if (s == d && Math.abs((long) srcOffset - dstOffset) < length) {
            // Overlapping ranges of one buffer: clEnqueueCopyBuffer refuses them, so go through the workspace.
            cl_mem stage = columns.atLeast((long) length * Float.BYTES);
            clEnqueueCopyBuffer(queue, s.mem(), stage, (long) srcOffset * Float.BYTES, 0, (long) length * Float.BYTES, 0, null, null);
            clEnqueueCopyBuffer(queue, stage, d.mem(), 0, (long) dstOffset * Float.BYTES, (long) length * Float.BYTES, 0, null, null);
            return;
        }
        clEnqueueCopyBuffer(queue, s.mem(), d.mem(), (long) srcOffset * Float.BYTES, (long) dstOffset * Float.BYTES,
                (long) length * Float.BYTES, 0, null, null);
    }

    // ---- dense linear algebra -----------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, int offA, int lda, Tensor b, int offB, int ldb,
                     float beta, Tensor c, int offC, int ldc,
                     int batch, int strideA, int strideB, int strideC) {
        ClTensor av = tensor(a, "a"), bv = tensor(b, "b"), cv = tensor(c, "c");
        checkGemmSizes(m, n, k, batch);
        if (m == 0 || n == 0 || batch == 0) return;
        // Stored shapes: A is [m, k] ([k, m] when transposed), B is [k, n] ([n, k]), C is [m, n].
        if (k > 0) {
            checkMatrix("A", av.size(), offA, lda, transA ? k : m, transA ? m : k, batch, strideA);
            checkMatrix("B", bv.size(), offB, ldb, transB ? n : k, transB ? k : n, batch, strideB);
        }
        checkMatrix("C", cv.size(), offC, ldc, m, n, batch, strideC);
        gemm.multiply(transA, transB, m, n, k, alpha, av.mem(), offA, lda, bv.mem(), offB, ldb, beta, cv.mem(), offC, ldc,
                batch, strideA, strideB, strideC);
    }

    // ---- convolution and pooling --------------------------------------------------------

    @Override public void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        checkConv(g);
        ClTensor xv = sized(x, "x", convInputSize(g)), wv = sized(w, "w", convWeightSize(g)), yv = sized(y, "y", convOutputSize(g));
        ClTensor bv = bias == null ? null : sized(bias, "bias", g.outChannels());
        checkDistinct("conv2dForward", "y", yv, "x", xv);
        conv.forward(g, xv, wv, bv, yv);
    }

    @Override public void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx) {
        checkConv(g);
        ClTensor dyv = sized(dy, "dy", convOutputSize(g)), wv = sized(w, "w", convWeightSize(g)), dxv = sized(dx, "dx", convInputSize(g));
        checkDistinct("conv2dBackwardData", "dx", dxv, "dy", dyv);
        conv.backwardData(g, dyv, wv, dxv);
    }

    @Override public void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        checkConv(g);
        ClTensor xv = sized(x, "x", convInputSize(g)), dyv = sized(dy, "dy", convOutputSize(g)), dwv = sized(dw, "dw", convWeightSize(g));
        ClTensor dbv = dbias == null ? null : sized(dbias, "dbias", g.outChannels());
        if (g.batch() == 0) {
            fill(dwv.mem(), dwv.size(), 0f);
            if (dbv != null) fill(dbv.mem(), dbv.size(), 0f);
            return;
        }
        conv.backwardFilter(g, xv, dyv, dwv, dbv);
    }

    @Override public void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax) {
        checkPool(g);
        int out = poolOutputSize(g);
        ClTensor xv = sized(x, "x", poolInputSize(g)), yv = sized(y, "y", out), av = sized(argmax, "argmax", out);
        kernels.get("max_pool_forward").map(out, xv, yv, av, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), out);
    }

    @Override public void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx) {
        checkPool(g);
        int in = poolInputSize(g), out = poolOutputSize(g);
        ClTensor dyv = sized(dy, "dy", out), av = sized(argmax, "argmax", out), dxv = sized(dx, "dx", in);
        checkDistinct("maxPool2dBackward", "dx", dxv, "dy", dyv);
        // A corrupt argmax would be skipped by the gather; refuse it first, as the CPU does (same message).
        int bad = firstFailing("check_argmax", out, av, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), out);
        if (bad >= 0) throw badArgmax(g, bad, valueAt(av, bad));
        kernels.get("max_pool_backward").map(in, dyv, av, dxv, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), in);
    }

    @Override public void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y) {
        checkPool(g);
        int out = poolOutputSize(g);
        ClTensor xv = sized(x, "x", poolInputSize(g)), yv = sized(y, "y", out);
        kernels.get("avg_pool_forward").map(out, xv, yv, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.countIncludePad(), out);
    }

    @Override public void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx) {
        checkPool(g);
        int in = poolInputSize(g);
        ClTensor dyv = sized(dy, "dy", poolOutputSize(g)), dxv = sized(dx, "dx", in);
        checkDistinct("avgPool2dBackward", "dx", dxv, "dy", dyv);
        kernels.get("avg_pool_backward").map(in, dyv, dxv, g.height(), g.width(), g.outHeight(), g.outWidth(),
                g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(), g.countIncludePad(), in);
    }

    // ---- element-wise -------------------------------------------------------------------

    @Override public void unary(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, int length) {
        ClTensor xv = slice(x, "x", xOff, length), yv = slice(y, "y", yOff, length);
        checkInPlaceOrDisjoint("unary", op, "y", yv, yOff, "x", xv, xOff, length);
        kernels.get("unary_forward").map(length, code(op), xv, xOff, yv, yOff, length);
    }

    @Override public void unaryBackward(UnaryOp op, Tensor x, int xOff, Tensor y, int yOff, Tensor dy, int dyOff,
                                        Tensor dx, int dxOff, int length) {
        boolean needsX = op == UnaryOp.RELU || op == UnaryOp.SQUARE || op == UnaryOp.SOFTPLUS;
        boolean needsY = op == UnaryOp.SIGMOID || op == UnaryOp.TANH || op == UnaryOp.EXP;
        checkUnaryBackwardInputs(op, needsX, x != null, needsY, y != null);
        ClTensor dyv = slice(dy, "dy", dyOff, length), dxv = slice(dx, "dx", dxOff, length);
        ClTensor xv = needsX ? slice(x, "x", xOff, length) : null, yv = needsY ? slice(y, "y", yOff, length) : null;
        checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "dy", dyv, dyOff, length);
        if (needsX) checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "x", xv, xOff, length);
        if (needsY) checkInPlaceOrDisjoint("unaryBackward", op, "dx", dxv, dxOff, "y", yv, yOff, length);
        // A buffer the kernel does not read stands in for the input the op does not need.
        kernels.get("unary_backward").map(length, code(op), needsX ? xv : dyv, needsX ? xOff : 0, needsY ? yv : dyv,
                needsY ? yOff : 0, dyv, dyOff, dxv, dxOff, length);
    }

    @Override public void binary(BinaryOp op, Tensor a, int aOff, Tensor b, int bOff, Tensor out, int outOff, int length) {
        ClTensor av = slice(a, "a", aOff, length), bv = slice(b, "b", bOff, length), ov = slice(out, "out", outOff, length);
        checkInPlaceOrDisjoint("binary", op, "out", ov, outOff, "a", av, aOff, length);
        checkInPlaceOrDisjoint("binary", op, "out", ov, outOff, "b", bv, bOff, length);
        kernels.get("binary_map").map(length, code(op), av, aOff, bv, bOff, ov, outOff, length);
    }

    @Override public void copyBlocks(Tensor src, int srcOff, int srcStride, Tensor dst, int dstOff, int dstStride, int length, int count) {
        ClTensor s = tensor(src, "src"), d = tensor(dst, "dst");
        checkCopyBlocks(s.size(), srcOff, srcStride, d.size(), dstOff, dstStride, length, count);
        if (length == 0 || count == 0) return;
        if (s == d && spansOverlap(srcOff, srcStride, dstOff, dstStride, length, count)) {
            // The CPU reference copies block by block, each block seeing the ones before it: keep that order.
            for (int i = 0; i < count; i++) copy(s, srcOff + i * srcStride, d, dstOff + i * dstStride, length);
            return;
        }
        kernels.get("copy_blocks").map(length * count, s, srcOff, srcStride, d, dstOff, dstStride, length, length * count);
    }

    /** Whether the region read and the region written by a block copy within one tensor intersect. */
    private static boolean spansOverlap(int srcOff, int srcStride, int dstOff, int dstStride, int length, int count) {
        long srcEnd = srcOff + (long) (count - 1) * srcStride + length, dstEnd = dstOff + (long) (count - 1) * dstStride + length;
        return srcOff < dstEnd && dstOff < srcEnd;
    }

    @Override public void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("pad2d", planes, h, w, top, left, outH, outW);
        int n = viewSize(planes, outH, outW);
        ClTensor xv = sized(x, "x", viewSize(planes, h, w)), yv = sized(y, "y", n);
        checkDistinct("pad2d", "y", yv, "x", xv);
        kernels.get("pad2d").map(n, xv, yv, h, w, top, left, outH, outW, n);
    }

    @Override public void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        checkPadding("crop2d", planes, h, w, top, left, outH, outW);
        int n = viewSize(planes, h, w);
        ClTensor dyv = sized(dy, "dy", viewSize(planes, outH, outW)), dxv = sized(dx, "dx", n);
        checkDistinct("crop2d", "dx", dxv, "dy", dyv);
        kernels.get("crop2d").map(n, dyv, dxv, h, w, top, left, outH, outW, n);
    }

    @Override public void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        ClTensor xv = sized(x, "x", n), vv = sized(v, "v", channels), ov = sized(out, "out", n);
        kernels.get("channel_broadcast").map(n, code(op), xv, vv, ov, channels, Math.max(1, inner), n);
    }

    @Override public void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta) {
        int n = viewSize(outer, channels, inner);
        ClTensor xv = sized(x, "x", n), ov = sized(out, "out", channels);
        kernels.get("channel_sum").groups(channels, xv, ov, outer, channels, inner, beta);
    }

    @Override public void axpby(float alpha, Tensor x, float beta, Tensor y) {
        ClTensor xv = tensor(x, "x"), yv = sized(y, "y", xv.size());
        kernels.get("axpby").map(xv.size(), alpha, xv, beta, yv, xv.size());
    }

    /** Work-groups of the first pass of {@link #sumOfSquares}: enough to fill a device, few enough to add in one group. */
    private static final int SUM_GROUPS = 256;

    @Override public double sumOfSquares(Tensor x) {
        ClTensor xv = tensor(x, "x");
        int n = xv.size();
        if (n == 0) return 0;
        int groups = (int) Math.min(SUM_GROUPS, (n + 4L * ClKernels.REDUCE_WG - 1) / (4L * ClKernels.REDUCE_WG));
        int chunk = (int) ((n + (long) groups - 1) / groups);
        cl_mem part = partials.atLeast((long) groups * accBytes);
        kernels.get("sum_squares_partial").groups(groups, xv, n, chunk, part);
        kernels.get("sum_partials").groups(1, part, groups, result);
        return readResult()[0];
    }

    /** Reads the two accumulator values of {@link #result} (blocking). */
    private double[] readResult() {
        double[] out = new double[2];
        if (accBytes == Double.BYTES) {
            clEnqueueReadBuffer(queue, result, true, 0, 2L * Double.BYTES, Pointer.to(out), 0, null, null);
        } else {
            float[] f = new float[2];
            clEnqueueReadBuffer(queue, result, true, 0, 2L * Float.BYTES, Pointer.to(f), 0, null, null);
            out[0] = f[0];
            out[1] = f[1];
        }
        return out;
    }

    // ---- normalisation ------------------------------------------------------------------

    @Override
    public void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                 Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                 float eps, float momentum, boolean training) {
        int n = viewSize(outer, channels, inner);
        checkBatchNormEps(eps);
        ClTensor xv = sized(x, "x", n), yv = sized(y, "y", n);
        ClTensor g = sized(gamma, "gamma", channels), b = sized(beta, "beta", channels);
        ClTensor rm = sized(runningMean, "runningMean", channels), rv = sized(runningVar, "runningVar", channels);
        if (!training) {
            kernels.get("batch_norm_infer").map(n, xv, yv, g, b, rm, rv, channels, Math.max(1, inner), eps, n);
            return;
        }
        checkBatchNormTraining(momentum, outer, inner);
        ClTensor sm = sized(saveMean, "saveMean", channels), si = sized(saveInvStd, "saveInvStd", channels);
        kernels.get("batch_norm_train").groups(channels, xv, yv, g, b, rm, rv, sm, si, outer, channels, inner, eps, momentum);
    }

    @Override
    public void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                  Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        int n = viewSize(outer, channels, inner);
        ClTensor xv = sized(x, "x", n), dyv = sized(dy, "dy", n), dxv = sized(dx, "dx", n);
        ClTensor g = sized(gamma, "gamma", channels), sm = sized(saveMean, "saveMean", channels), si = sized(saveInvStd, "saveInvStd", channels);
        ClTensor dg = dgamma == null ? null : sized(dgamma, "dgamma", channels), db = dbeta == null ? null : sized(dbeta, "dbeta", channels);
        // Absent outputs are not written; any buffer stands in for them.
        kernels.get("batch_norm_backward").groups(channels, xv, dyv, g, sm, si, dxv, dg == null ? g : dg, db == null ? g : db,
                dg != null, db != null, outer, channels, inner);
    }

    @Override
    public void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner, int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        ClTensor xv = sized(x, "x", n), yv = sized(y, "y", n), sv = sized(scale, "scale", n);
        checkDistinct("lrnForward", "y", yv, "x", xv);
        checkDistinct("lrnForward", "scale", sv, "x", xv);
        checkDistinct("lrnForward", "scale", sv, "y", yv);
        kernels.get("lrn_forward").map(n, xv, yv, sv, channels, inner, size, alpha / size, beta, k, n);
    }

    @Override
    public void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        checkLrn(size, k);
        int n = viewSize(batch, channels, inner);
        ClTensor xv = sized(x, "x", n), yv = sized(y, "y", n), sv = sized(scale, "scale", n), dyv = sized(dy, "dy", n), dxv = sized(dx, "dx", n);
        checkDistinct("lrnBackward", "dx", dxv, "x", xv);
        checkDistinct("lrnBackward", "dx", dxv, "y", yv);
        checkDistinct("lrnBackward", "dx", dxv, "scale", sv);
        checkDistinct("lrnBackward", "dx", dxv, "dy", dyv);
        kernels.get("lrn_backward").map(n, xv, yv, sv, dyv, dxv, channels, inner, size, beta, 2f * alpha * beta / size, n);
    }

    // ---- recurrent cells ----------------------------------------------------------------

    @Override
    public void lstmCellForward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                                Tensor h, int hOff, int batch, int hidden) {
        int state = cellSize("lstmCellForward", batch, hidden, 1), gateBlock = cellSize("lstmCellForward", batch, hidden, 4);
        ClTensor gv = slice(gates, "gates", gatesOff, gateBlock), cpv = slice(cPrev, "cPrev", cPrevOff, state);
        ClTensor cv = slice(c, "c", cOff, state), hv = slice(h, "h", hOff, state);
        String what = "lstmCellForward";
        checkInPlaceOrDisjoint(what, null, "c", cv, cOff, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "c", cv, cOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "c", cv, cOff, state);
        checkDisjoint(what, "h", hv, hOff, state, "cPrev", cpv, cPrevOff, state);
        kernels.get("lstm_cell_forward").map(state, gv, gatesOff, cpv, cPrevOff, cv, cOff, hv, hOff, hidden, state);
    }

    @Override
    public void lstmCellBackward(Tensor gates, int gatesOff, Tensor cPrev, int cPrevOff, Tensor c, int cOff,
                                 Tensor dh, int dhOff, Tensor dc, int dcOff, Tensor dGates, int dGatesOff, int batch, int hidden) {
        int state = cellSize("lstmCellBackward", batch, hidden, 1), gateBlock = cellSize("lstmCellBackward", batch, hidden, 4);
        ClTensor gv = slice(gates, "gates", gatesOff, gateBlock), cpv = slice(cPrev, "cPrev", cPrevOff, state);
        ClTensor cv = slice(c, "c", cOff, state), dhv = slice(dh, "dh", dhOff, state), dcv = slice(dc, "dc", dcOff, state);
        ClTensor dgv = slice(dGates, "dGates", dGatesOff, gateBlock);
        String what = "lstmCellBackward";
        checkDisjoint(what, "dc", dcv, dcOff, state, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "dc", dcv, dcOff, state, "dGates", dgv, dGatesOff, gateBlock);
        checkDisjoint(what, "dc", dcv, dcOff, state, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "dc", dcv, dcOff, state, "c", cv, cOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "gates", gv, gatesOff, gateBlock);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "dh", dhv, dhOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "cPrev", cpv, cPrevOff, state);
        checkDisjoint(what, "dGates", dgv, dGatesOff, gateBlock, "c", cv, cOff, state);
        kernels.get("lstm_cell_backward").map(state, gv, gatesOff, cpv, cPrevOff, cv, cOff, dhv, dhOff, dcv, dcOff,
                dgv, dGatesOff, hidden, state);
    }

    @Override
    public void gruCellForward(Tensor gi, int giOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                               Tensor h, int hOff, Tensor saved, int savedOff, int batch, int hidden) {
        int state = cellSize("gruCellForward", batch, hidden, 1), gateBlock = cellSize("gruCellForward", batch, hidden, 3);
        ClTensor giv = slice(gi, "gi", giOff, gateBlock), ghv = slice(gh, "gh", ghOff, gateBlock);
        ClTensor hpv = slice(hPrev, "hPrev", hPrevOff, state), hv = slice(h, "h", hOff, state);
        ClTensor sv = slice(saved, "saved", savedOff, gateBlock);
        String what = "gruCellForward";
        checkInPlaceOrDisjoint(what, null, "h", hv, hOff, "hPrev", hpv, hPrevOff, state);
        checkDisjoint(what, "h", hv, hOff, state, "gi", giv, giOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "gh", ghv, ghOff, gateBlock);
        checkDisjoint(what, "h", hv, hOff, state, "saved", sv, savedOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "gi", giv, giOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "gh", ghv, ghOff, gateBlock);
        checkDisjoint(what, "saved", sv, savedOff, gateBlock, "hPrev", hpv, hPrevOff, state);
        kernels.get("gru_cell_forward").map(state, giv, giOff, ghv, ghOff, hpv, hPrevOff, hv, hOff, sv, savedOff, hidden, state);
    }

    @Override
    public void gruCellBackward(Tensor saved, int savedOff, Tensor gh, int ghOff, Tensor hPrev, int hPrevOff,
                                Tensor dh, int dhOff, Tensor dGi, int dGiOff, Tensor dGh, int dGhOff,
                                Tensor dhPrev, int dhPrevOff, int batch, int hidden) {
        int state = cellSize("gruCellBackward", batch, hidden, 1), gateBlock = cellSize("gruCellBackward", batch, hidden, 3);
        ClTensor sv = slice(saved, "saved", savedOff, gateBlock), ghv = slice(gh, "gh", ghOff, gateBlock);
        ClTensor hpv = slice(hPrev, "hPrev", hPrevOff, state), dhv = slice(dh, "dh", dhOff, state);
        ClTensor dgiv = slice(dGi, "dGi", dGiOff, gateBlock), dghv = slice(dGh, "dGh", dGhOff, gateBlock);
        ClTensor dhpv = slice(dhPrev, "dhPrev", dhPrevOff, state);
        String what = "gruCellBackward";
        checkInPlaceOrDisjoint(what, null, "dhPrev", dhpv, dhPrevOff, "dh", dhv, dhOff, state);
        checkDisjoint(what, "dGi", dgiv, dGiOff, gateBlock, "dGh", dghv, dGhOff, gateBlock);
        for (int out = 0; out < 3; out++) {
            String outName = out == 0 ? "dGi" : out == 1 ? "dGh" : "dhPrev";
            ClTensor ov = out == 0 ? dgiv : out == 1 ? dghv : dhpv;
            int oOff = out == 0 ? dGiOff : out == 1 ? dGhOff : dhPrevOff, oLen = out == 2 ? state : gateBlock;
            checkDisjoint(what, outName, ov, oOff, oLen, "saved", sv, savedOff, gateBlock);
            checkDisjoint(what, outName, ov, oOff, oLen, "gh", ghv, ghOff, gateBlock);
            checkDisjoint(what, outName, ov, oOff, oLen, "hPrev", hpv, hPrevOff, state);
            if (out < 2) {
                checkDisjoint(what, outName, ov, oOff, oLen, "dh", dhv, dhOff, state);
                checkDisjoint(what, outName, ov, oOff, oLen, "dhPrev", dhpv, dhPrevOff, state);
            }
        }
        kernels.get("gru_cell_backward").map(state, sv, savedOff, ghv, ghOff, hpv, hPrevOff, dhv, dhOff, dgiv, dGiOff,
                dghv, dGhOff, dhpv, dhPrevOff, hidden, state);
    }

    // ---- embeddings ---------------------------------------------------------------------

    @Override public void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width) {
        ClTensor tv = tensor(table, "table");
        int tableRows = tableRows("gatherRows", tv.size(), table, width);
        ClTensor iv = sized(indices, "indices", viewSize(1, 1, rows)), ov = sized(out, "out", viewSize(1, rows, width));
        checkDistinct("gatherRows", "out", ov, "table", tv);
        checkDistinct("gatherRows", "out", ov, "indices", iv);
        checkIndices(iv, rows, tableRows);
        kernels.get("gather_rows").map(rows * width, tv, iv, ov, width, rows * width);
    }

    @Override public void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width) {
        ClTensor tv = tensor(dTable, "dTable");
        int tableRows = tableRows("scatterAddRows", tv.size(), dTable, width);
        ClTensor iv = sized(indices, "indices", viewSize(1, 1, rows)), dv = sized(dOut, "dOut", viewSize(1, rows, width));
        checkDistinct("scatterAddRows", "dTable", tv, "dOut", dv);
        checkDistinct("scatterAddRows", "dTable", tv, "indices", iv);
        checkIndices(iv, rows, tableRows);
        kernels.get("scatter_add_rows").map(width, dv, iv, tv, rows, width);
    }

    /** Fails, before anything is written, when an index is not a row of the table (reads back one int). */
    private void checkIndices(ClTensor indices, int rows, int tableRows) {
        int bad = firstFailing("check_indices", rows, indices, rows, tableRows);
        if (bad >= 0) throw badRowIndex(valueAt(indices, bad), bad, tableRows);
    }

    /**
     * Runs a check kernel over [0, n) whose last argument is a status int it lowers (atomic_min)
     * to each failing item, and returns the lowest failing item, or -1 (blocks: reads back one int).
     */
    private int firstFailing(String kernel, int n, Object... args) {
        if (n == 0) return -1;
        cl_mem status = rowStatus.atLeast(Integer.BYTES);
        clEnqueueFillBuffer(queue, status, Pointer.to(new int[] {Integer.MAX_VALUE}), Integer.BYTES, 0, Integer.BYTES, 0, null, null);
        Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = status;
        kernels.get(kernel).map(n, all);
        int[] first = new int[1];
        clEnqueueReadBuffer(queue, status, true, 0, Integer.BYTES, Pointer.to(first), 0, null, null);
        return first[0] == Integer.MAX_VALUE ? -1 : first[0];
    }

    /** One element of a tensor, read back (blocking; for error messages). */
    private float valueAt(ClTensor t, int index) {
        float[] v = new float[1];
        download(t, index, v, 0, 1);
        return v[0];
    }

    // ---- classification -----------------------------------------------------------------

    @Override public void softmax(Tensor x, Tensor y, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        ClTensor xv = sized(x, "x", n), yv = sized(y, "y", n);
        kernels.get("softmax_rows").groups(cols == 0 ? 0 : rows, xv, yv, cols);
    }

    @Override public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        int n = viewSize(1, rows, cols);
        ClTensor yv = sized(y, "y", n), dyv = sized(dy, "dy", n), dxv = sized(dx, "dx", n);
        kernels.get("softmax_backward_rows").groups(cols == 0 ? 0 : rows, yv, dyv, dxv, cols);
    }

    @Override public double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        int n = viewSize(1, rows, classes);
        ClTensor lv = sized(logits, "logits", n), labv = sized(labels, "labels", rows), dv = sized(dLogits, "dLogits", n);
        if (rows == 0) return 0;
        // Per-row losses in the partials workspace, per-row label status in the status workspace.
        cl_mem rowLoss = partials.atLeast((long) rows * accBytes), status = rowStatus.atLeast((long) rows * Integer.BYTES);
        kernels.get("cross_entropy_rows").groups(rows, lv, labv, dv, classes, gradScale, rowLoss, status);
        kernels.get("loss_total").groups(1, rowLoss, status, rows, result);
        double[] r = readResult();
        if (r[1] >= 0) {
            int row = (int) r[1];
            float[] v = new float[1];
            download(labels, row, v, 0, 1);
            throw badLabel(v[0], row, classes);
        }
        return r[0];
    }

    // ---- regularisation -----------------------------------------------------------------

    @Override public void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed) {
        checkDropout(p);
        ClTensor xv = tensor(x, "x");
        int n = xv.size();
        ClTensor mv = sized(mask, "mask", n), yv = sized(y, "y", n);
        float scale = p < 1f ? 1f / (1f - p) : 0f;
        kernels.get("dropout_forward").map(n, xv, mv, yv, p, scale, seed, n);
    }

    /** {@code CounterRandom.uniform(seed, first + i)} for i in [0, out.size()), computed on the device (for tests). */
    void counterUniform(long seed, long first, Tensor out) {
        ClTensor o = tensor(out, "out");
        kernels.get("counter_uniform_values").map(o.size(), seed, first, o, o.size());
    }

    // ---- optimisers ---------------------------------------------------------------------

    @Override public void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        ClTensor p = tensor(param, "param");
        checkSgd(momentum, nesterov, velocity != null);
        ClTensor g = sized(grad, "grad", p.size());
        ClTensor v = momentum == 0f ? p : sized(velocity, "velocity", p.size()); // not read without momentum
        kernels.get("sgd_update").map(p.size(), p, g, v, lr, momentum, weightDecay, nesterov, p.size());
    }

    @Override public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                     float eps, float weightDecay, int step) {
        checkAdamStep(step);
        ClTensor p = tensor(param, "param");
        ClTensor g = sized(grad, "grad", p.size()), mv = sized(m, "m", p.size()), vv = sized(v, "v", p.size());
        // Bias corrections in double, as the CPU reference (and PyTorch) compute them.
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float correction2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, step));
        kernels.get("adam_update").map(p.size(), p, g, mv, vv, stepSize, beta1, beta2, eps, weightDecay, correction2Sqrt, p.size());
    }

    // ---- op codes -----------------------------------------------------------------------

    /** The OP_* code of common.cl; a switch without default, so a new UnaryOp fails to compile here until it has a kernel. */
    static int code(UnaryOp op) {
        return switch (op) {
            case RELU -> 0;
            case SIGMOID -> 1;
            case TANH -> 2;
            case NEGATE -> 3;
            case EXP -> 4;
            case SQUARE -> 5;
            case SOFTPLUS -> 6;
        };
    }

    /** The OP_* code of common.cl for a binary operator. */
    static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case MAX -> 4;
            case MIN -> 5;
        };
    }

    // ---- argument checks ----------------------------------------------------------------

    /** A tensor this backend allocated and has not released. */
    private ClTensor tensor(Tensor t, String name) {
        checkNotNull(name, t);
        if (!(t instanceof ClTensor ct) || ct.backend() != this) throw foreignTensor(name, t, "OpenCL backend");
        if (!ct.isOpen()) throw new IllegalArgumentException(name + " " + t.shape() + " has been closed");
        return ct;
    }

    /** A tensor that must hold exactly {@code size} elements. */
    private ClTensor sized(Tensor t, String name, int size) {
        ClTensor c = tensor(t, name);
        checkSize(name, t, c.size(), size);
        return c;
    }

    /** A tensor whose range [offset, offset + length) must lie inside it. */
    private ClTensor slice(Tensor t, String name, int offset, int length) {
        ClTensor c = tensor(t, name);
        checkRange(name, c.size(), offset, length);
        return c;
    }
}
