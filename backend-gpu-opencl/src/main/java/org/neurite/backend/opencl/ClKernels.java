package org.neurite.backend.opencl;

import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clGetKernelWorkGroupInfo;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseProgram;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/**
 * Every kernel of the backend, built once per backend as one program (one compile, one cache
 * file): the {@code .cl} resources in {@link #FILES} concatenated in order (shared definitions
 * first, then the op families and the direct SGEMM), then {@code gemm.cl} or
 * {@code gemm_register.cl} once per {@link GemmTile} and {@code conv_implicit.cl} once per
 * {@link ConvTile}, each copy under its own kernel name.
 * Build options: {@code -cl-std=CL1.2} (what every current driver accepts),
 * {@code -cl-fp32-correctly-rounded-divide-sqrt} where the device offers it
 * ({@code CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT} in {@code CL_DEVICE_SINGLE_FP_CONFIG}: NVIDIA and
 * PoCL do), so every float {@code /} and {@code sqrt} rounds as Java's do (OpenCL otherwise allows
 * 2.5 and 3 ulp, and NVIDIA's fast division is one ulp off), and {@code -DNEURITE_FP64} where the
 * device has double precision (reductions then accumulate in double like the CPU reference, and
 * the square roots and divisions that must round as Java's do go through double even without the
 * option: see {@code sqrt_rn} in {@code common.cl}). After the build, each kernel's work-group limit is checked
 * against the sizes the ops launch, so an unsuitable device fails here with a clear message
 * rather than at the first op.
 */
final class ClKernels implements AutoCloseable {
    /** Work-group size of the reduction kernels; must match REDUCE_WG in common.cl. */
    static final int REDUCE_WG = 128;

    /** Kernel sources in build order; each file starts with a comment saying what it computes. */
    static final List<String> FILES = List.of("common.cl", "random.cl", "elementwise.cl", "copy.cl", "reduce.cl", "softmax.cl",
            "pool.cl", "conv.cl", "norm.cl", "recurrent.cl", "embedding.cl", "optimizers.cl", "step.cl", "gemm_store.cl",
            "gemm_direct.cl", "gemm_blocked.cl");

    /**
     * One compiled configuration of a tiled SGEMM kernel ({@code file}: {@code gemm.cl} or the
     * double-buffered, vector-loading {@code gemm_register.cl}): a {@code tileM x tileN} block of C
     * per work-group, {@code tileK} deep slices of A and B staged in local memory, and a
     * {@code perItemM x perItemN} register block per work-item.
     */
    record GemmTile(String file, String kernel, int tileM, int tileN, int tileK, int perItemM, int perItemN) {
        int localX() { return tileN / perItemN; }

        int localY() { return tileM / perItemM; }

        String defines() {
            return "#define GEMM_NAME " + kernel + "\n#define TS_M " + tileM + "\n#define TS_N " + tileN + "\n#define TS_K " + tileK
                    + "\n#define WPT_M " + perItemM + "\n#define WPT_N " + perItemN + "\n";
        }
    }

    /** For matrices of at least ~48 x 48: 64 x 64 tiles, 4 x 4 outputs per work-item (16 x 16 items). */
    static final GemmTile LARGE = new GemmTile("gemm.cl", "sgemm_64x64", 64, 64, 16, 4, 4);
    /** For thin or small matrices (recurrent steps, dense layers on small batches): 16 x 16 tiles, one output per item. */
    static final GemmTile SMALL = new GemmTile("gemm.cl", "sgemm_16x16", 16, 16, 16, 1, 1);
    /** Register-tiled, for large products on GPUs: 128 x 128 tiles, 8 x 8 outputs per work-item (16 x 16 items, 32 KiB of local memory). */
    static final GemmTile REGISTER_128 = new GemmTile("gemm_register.cl", "sgemm_reg_128x128", 128, 128, 16, 8, 8);
    /** Register-tiled, half the rows: 64 x 128 tiles, 4 x 8 outputs per work-item, for products with fewer rows (convolutions' channels). */
    static final GemmTile REGISTER_64 = new GemmTile("gemm_register.cl", "sgemm_reg_64x128", 64, 128, 16, 4, 8);
    /** Every tiled configuration the program holds, each a copy of its file under its own kernel name. */
    static final List<GemmTile> TILES = List.of(LARGE, SMALL, REGISTER_128, REGISTER_64);

    /**
     * One compiled configuration of the implicit-GEMM convolution ({@code conv_implicit.cl}):
     * {@code tileM} rows of C (channels) x 64 columns (pixels) per work-group of 16 x 16 items,
     * {@code perItemM} x 4 outputs per item.
     */
    record ConvTile(String kernel, int tileM, int perItemM) {
        String defines() {
            return "#define CONV_NAME " + kernel + "\n#define CONV_TS_M " + tileM + "\n#define CONV_WPT_M " + perItemM + "\n";
        }
    }

    /** For products of at most 32 rows (convolutions with few channels: LeNet's 6 and 16): half the idle rows of a 64-row tile. */
    static final ConvTile CONV_32 = new ConvTile("conv_implicit_32x64", 32, 2);
    /** For products of more rows. */
    static final ConvTile CONV_64 = new ConvTile("conv_implicit_64x64", 64, 4);
    static final List<ConvTile> CONV_TILES = List.of(CONV_32, CONV_64);

    private final cl_program program;
    private final boolean fromCache;
    private final long buildNanos;
    private final Map<String, ClKernel> kernels = new LinkedHashMap<>();
    /** Set by {@link #close}: the kernels and the program are released. */
    private volatile boolean closed;

    ClKernels(cl_context context, cl_device_id device, ClQueue queue, String deviceKey, boolean fp64,
              boolean roundedDivideSqrt, ClProgramCache cache) {
        long start = System.nanoTime();
        ClProgramCache.Built built = cache.build(context, device, deviceKey, source(), options(fp64, roundedDivideSqrt));
        this.buildNanos = System.nanoTime() - start;
        this.program = built.program();
        this.fromCache = built.fromCache();
        try {
            for (String name : kernelNames()) {
                ClKernel k = new ClKernel(name, clCreateKernel(program, name, null), queue);
                kernels.put(name, k);
                long[] limit = new long[1];
                clGetKernelWorkGroupInfo(k.handle(), device, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(limit), null);
                long needed = launchedGroupSize(name);
                if (limit[0] < needed)
                    throw new IllegalStateException("OpenCL kernel " + name + " needs work-groups of " + needed
                            + " items but this device allows " + limit[0]);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The whole program text: the shared files, then one SGEMM per tile configuration. */
    static String source() {
        StringBuilder s = new StringBuilder();
        for (String file : FILES) s.append("#line 1 \"").append(file).append("\"\n").append(resource(file)).append('\n');
        for (GemmTile tile : TILES) {
            s.append(tile.defines()).append("#line 1 \"").append(tile.file()).append("\"\n").append(resource(tile.file())).append('\n');
            s.append("#undef GEMM_NAME\n#undef TS_M\n#undef TS_N\n#undef TS_K\n#undef WPT_M\n#undef WPT_N\n");
        }
        for (ConvTile tile : CONV_TILES) {
            s.append(tile.defines()).append("#line 1 \"conv_implicit.cl\"\n").append(resource("conv_implicit.cl")).append('\n');
            s.append("#undef CONV_NAME\n#undef CONV_TS_M\n#undef CONV_WPT_M\n");
        }
        return s.toString();
    }

    /** The build options of every program on a device with (or without) fp64 and correctly rounded float division and sqrt. */
    static String options(boolean fp64, boolean roundedDivideSqrt) {
        return "-cl-std=CL1.2" + (roundedDivideSqrt ? " " + ROUNDED_DIVIDE_SQRT : "") + (fp64 ? " -DNEURITE_FP64" : "");
    }

    /** The build option asking for correctly rounded float division and square root. */
    static final String ROUNDED_DIVIDE_SQRT = "-cl-fp32-correctly-rounded-divide-sqrt";

    static String resource(String file) {
        try (InputStream in = ClKernels.class.getResourceAsStream("kernels/" + file)) {
            if (in == null) throw new IllegalStateException("missing kernel resource " + file);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every kernel the ops launch. */
    static List<String> kernelNames() {
        return List.of("unary_forward", "unary_backward", "binary_map", "add_activation", "affine", "channel_broadcast", "axpby", "dropout_forward",
                "counter_uniform_values", "copy_blocks", "copy_range", "pad2d", "crop2d",
                "channel_sum", "channel_max", "sum_squares_partial", "sum_partials", "softmax_rows", "softmax_backward_rows",
                "cross_entropy_rows", "sum_partials_into", "count_correct", "step_control",
                "record_refused_value", "max_pool_forward", "max_pool_backward", "avg_pool_forward",
                "avg_pool_backward", "check_argmax", "im2col", "filter_gradient_operands", "col2im", CONV_32.kernel(), CONV_64.kernel(), "conv_bias_slices", "conv_sum_slices", "batch_norm_train", "batch_norm_infer", "batch_norm_backward",
                "lrn_forward", "lrn_backward", "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward",
                "lstm_step_forward", "lstm_step_forward_blocked", "gru_step_forward", "gru_step_forward_blocked",
                "gru_cell_backward", "check_indices", "gather_rows", "scatter_add_rows", "sgd_update", "adam_update",
                "adamw_update", "rmsprop_update",
                LARGE.kernel(), SMALL.kernel(), REGISTER_128.kernel(), REGISTER_64.kernel(), "sgemm_direct", "sgemm_blocked");
    }

    private static long launchedGroupSize(String name) {
        for (GemmTile tile : TILES) if (name.equals(tile.kernel())) return (long) tile.localX() * tile.localY();
        if (name.equals("sgemm_direct") || name.equals("sgemm_blocked") || name.contains("_step_forward")) return ClGemm.DIRECT_GROUP;
        for (ConvTile tile : CONV_TILES) if (name.equals(tile.kernel())) return (long) ClConv2d.IMPLICIT_LOCAL * ClConv2d.IMPLICIT_LOCAL;
        return switch (name) {
            case "channel_sum", "channel_max", "sum_squares_partial", "sum_partials", "softmax_rows", "softmax_backward_rows",
                 "cross_entropy_rows", "sum_partials_into", "count_correct", "batch_norm_train", "batch_norm_backward",
                 "conv_bias_slices" -> REDUCE_WG;
            default -> ClKernel.MAP_GROUP;
        };
    }

    /** Throws once the backend is closed: ops check this before touching their tensors' buffers. */
    void ensureOpen() {
        if (closed) throw new IllegalStateException("the OpenCL backend is closed");
    }

    ClKernel get(String name) {
        ensureOpen();
        ClKernel k = kernels.get(name);
        if (k == null) throw new IllegalArgumentException("no OpenCL kernel " + name);
        return k;
    }

    /** Whether the program came from the on-disk cache rather than a compile. */
    boolean fromCache() { return fromCache; }

    /** Time spent obtaining the program (compile or cache load), in nanoseconds. */
    long buildNanos() { return buildNanos; }

    @Override public void close() {
        closed = true;
        for (ClKernel k : kernels.values()) clReleaseKernel(k.handle());
        kernels.clear();
        clReleaseProgram(program);
    }
}
