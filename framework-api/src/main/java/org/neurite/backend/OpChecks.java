package org.neurite.backend;

import org.neurite.tensor.Tensor;

/**
 * The argument checks of the backend op set, with the messages users see: sizes, ranges, GEMM
 * matrices, geometries, overlaps of outputs with inputs, scalar parameters, and the index tensors
 * ops read (embedding rows, max-pooling argmax, class labels). {@link CheckedBackend} makes every
 * check that needs only the arguments, for every backend; a backend uses the index checks
 * ({@link #isArgmaxOfWindow}, {@link #isRowIndex}, {@link #badLabel}) where it reads the data. One
 * place, so every backend refuses the same calls with the same words.
 *
 * <p>Overlap checks compare storage by identity: the caller passes whatever object stands for a
 * tensor's memory (the checked backend passes the tensor itself; tensors never share storage),
 * and two arguments alias when they are the same object.
 */
public final class OpChecks {
    private OpChecks() {}

    // ---- sizes and ranges ---------------------------------------------------------------

    /** {@code outer * channels * inner} as an int; refuses negative sizes and views past 2^31 - 1 elements. */
    public static int viewSize(int outer, int channels, int inner) {
        if (outer < 0 || channels < 0 || inner < 0)
            throw new IllegalArgumentException("view sizes must be >= 0: " + outer + " x " + channels + " x " + inner);
        long n = (long) outer * channels * inner;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("view " + outer + " x " + channels + " x " + inner + " is too large");
        return (int) n;
    }

    /** [offset, offset + count) must lie inside a tensor (or array) of {@code length} elements. */
    public static void checkRange(String name, int length, int offset, int count) {
        if (offset < 0 || count < 0 || (long) offset + count > length)
            throw new IllegalArgumentException(name + " range [" + offset + ", " + ((long) offset + count) + ") is outside [0, " + length + ")");
    }

    /** A tensor of {@code size} elements where {@code expected} are needed. */
    public static void checkSize(String name, Tensor t, int size, int expected) {
        if (size != expected)
            throw new IllegalArgumentException(name + " " + t.shape() + " has " + size + " elements, expected " + expected);
    }

    // ---- GEMM ---------------------------------------------------------------------------

    public static void checkGemmSizes(int m, int n, int k, int batch) {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
    }

    /** A batch of {@code rows x cols} matrices, leading dimension {@code ld}, {@code stride} apart from {@code offset}, inside {@code length} elements. */
    public static void checkMatrix(String name, int length, int offset, int ld, int rows, int cols, int batch, int stride) {
        if (ld < Math.max(1, cols))
            throw new IllegalArgumentException("gemm: leading dimension of " + name + " is " + ld + ", must be >= " + cols);
        if (offset < 0 || stride < 0)
            throw new IllegalArgumentException("gemm: offset and stride of " + name + " must be >= 0, got " + offset + " and " + stride);
        long last = offset + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= length)
            throw new IllegalArgumentException("gemm: " + name + " [" + rows + " x " + cols + ", ld " + ld + "] x " + batch
                    + " from offset " + offset + " (stride " + stride + ") reaches element " + last + " of a tensor of " + length);
    }

    // ---- overlaps -----------------------------------------------------------------------

    /** Output and input ranges of one storage must coincide (in place) or be apart: element-wise ops would read what they wrote. */
    public static void checkInPlaceOrDisjoint(String op, Object variant, String outName, Object out, int outOff,
                                              String inName, Object in, int inOff, int length) {
        if (out == in && outOff != inOff && Math.abs((long) outOff - inOff) < length)
            throw new IllegalArgumentException(op + (variant == null ? "" : " " + variant) + ": " + outName + " [" + outOff + ", "
                    + ((long) outOff + length) + ") overlaps " + inName + " [" + inOff + ", " + ((long) inOff + length)
                    + ") of the same tensor; use the same range or disjoint ones");
    }

    /** Two ranges that must not share an element when they are in one storage. */
    public static void checkDisjoint(String op, String aName, Object a, int aOff, int aLen, String bName, Object b, int bOff, int bLen) {
        if (a == b && aLen > 0 && bLen > 0 && (long) aOff < (long) bOff + bLen && (long) bOff < (long) aOff + aLen)
            throw new IllegalArgumentException(op + ": " + aName + " [" + aOff + ", " + ((long) aOff + aLen) + ") overlaps "
                    + bName + " [" + bOff + ", " + ((long) bOff + bLen) + ") of the same tensor");
    }

    /** An output that must be another tensor than an input. */
    public static void checkDistinct(String op, String outName, Object out, String inName, Object in) {
        if (out == in) throw new IllegalArgumentException(op + ": " + outName + " must not be the same tensor as " + inName);
    }

    // ---- copies and padding -------------------------------------------------------------

    /** copyBlocks: sizes, destination blocks apart; then each side's blocks inside its tensor. */
    public static void checkCopyBlocks(int srcSize, int srcOff, int srcStride, int dstSize, int dstOff, int dstStride, int length, int count) {
        if (length < 0 || count < 0)
            throw new IllegalArgumentException("copyBlocks: length and count must be >= 0, got " + length + " and " + count);
        checkBlocks("src", srcSize, srcOff, srcStride, length, count);
        checkBlocks("dst", dstSize, dstOff, dstStride, length, count);
        if (count > 1 && length > dstStride)
            throw new IllegalArgumentException("copyBlocks: destination blocks of " + length + " floats " + dstStride
                    + " apart overlap; the stride must be >= the length");
    }

    /** {@code count} blocks of {@code length}, {@code stride} apart from {@code offset}, inside {@code size} elements. */
    public static void checkBlocks(String name, int size, int offset, int stride, int length, int count) {
        if (offset < 0 || stride < 0)
            throw new IllegalArgumentException("copyBlocks: offset and stride of " + name + " must be >= 0, got " + offset + " and " + stride);
        if (count == 0 || length == 0) return;
        long end = offset + (long) (count - 1) * stride + length;
        if (end > size)
            throw new IllegalArgumentException("copyBlocks: " + count + " blocks of " + length + " floats, " + stride + " apart from offset "
                    + offset + ", reach element " + (end - 1) + " of " + name + " (" + size + " elements)");
    }

    /** pad2d / crop2d: an h x w plane placed at (top, left) inside outH x outW. */
    public static void checkPadding(String op, int planes, int h, int w, int top, int left, int outH, int outW) {
        if (planes < 0 || h < 0 || w < 0 || outH < 0 || outW < 0)
            throw new IllegalArgumentException(op + ": sizes must be >= 0: " + planes + " planes of " + h + "x" + w + " in " + outH + "x" + outW);
        if (top < 0 || left < 0 || top + (long) h > outH || left + (long) w > outW)
            throw new IllegalArgumentException(op + ": a " + h + "x" + w + " plane at (top " + top + ", left " + left
                    + ") does not fit inside " + outH + "x" + outW);
    }

    // ---- convolution and pooling --------------------------------------------------------

    public static void checkConv(Conv2dGeometry g) {
        if (g.batch() < 0 || g.height() < 1 || g.width() < 1)
            throw new IllegalArgumentException("conv2d input must be non-empty: " + g);
        if (g.outHeight() < 1 || g.outWidth() < 1)
            throw new IllegalArgumentException("conv2d kernel " + g.kernelH() + "x" + g.kernelW() + " (dilation " + g.dilationH() + "x"
                    + g.dilationW() + ") does not fit the padded input " + g.height() + "x" + g.width() + ": " + g);
    }

    public static void checkPool(Pool2dGeometry g) {
        if (g.batch() < 0 || g.channels() < 0 || g.height() < 1 || g.width() < 1)
            throw new IllegalArgumentException("pooling input must be non-empty: " + g);
        if (g.padH() > g.kernelH() / 2 || g.padW() > g.kernelW() / 2)
            throw new IllegalArgumentException("pooling padding " + g.padH() + "x" + g.padW() + " must be at most half the kernel "
                    + g.kernelH() + "x" + g.kernelW());
        if (g.outHeight() < 1 || g.outWidth() < 1)
            throw new IllegalArgumentException("pooling window " + g.kernelH() + "x" + g.kernelW() + " does not fit the input: " + g);
    }

    /** x [N, C_in, H, W]. */
    public static int convInputSize(Conv2dGeometry g) { return viewSize(g.batch(), g.inChannels(), g.height() * g.width()); }

    /** y [N, C_out, H_out, W_out]. */
    public static int convOutputSize(Conv2dGeometry g) { return viewSize(g.batch(), g.outChannels(), g.outHeight() * g.outWidth()); }

    /** w [C_out, C_in / groups, kH, kW]. */
    public static int convWeightSize(Conv2dGeometry g) {
        return viewSize(g.outChannels(), g.inChannelsPerGroup(), g.kernelH() * g.kernelW());
    }

    /** x [N, C, H, W]. */
    public static int poolInputSize(Pool2dGeometry g) { return viewSize(g.batch(), g.channels(), g.height() * g.width()); }

    /** y [N, C, H_out, W_out]. */
    public static int poolOutputSize(Pool2dGeometry g) { return viewSize(g.batch(), g.channels(), g.outHeight() * g.outWidth()); }

    /**
     * Whether {@code value}, read from max pooling's argmax at flat output index {@code output},
     * is what the forward pass can have written there: an integer {@code ih * W + iw} naming an
     * input position inside that output's window clipped to the input. Anything else (NaN, a
     * fraction, a position outside the plane or outside the window) is a corrupt index tensor.
     */
    public static boolean isArgmaxOfWindow(Pool2dGeometry g, int output, float value) {
        int w = g.width(), hw = g.height() * w;
        int index = (int) value;
        if (index != value || index < 0 || index >= hw) return false;
        int q = output % (g.outHeight() * g.outWidth()), oh = q / g.outWidth(), ow = q % g.outWidth();
        int ih = index / w, iw = index % w;
        int hs = oh * g.strideH() - g.padH(), ws = ow * g.strideW() - g.padW();
        return ih >= Math.max(hs, 0) && ih < Math.min(hs + g.kernelH(), g.height())
                && iw >= Math.max(ws, 0) && iw < Math.min(ws + g.kernelW(), w);
    }

    /** The refusal of an argmax that {@link #isArgmaxOfWindow} rejects. */
    public static IllegalArgumentException badArgmax(Pool2dGeometry g, int output, float value) {
        int q = output % (g.outHeight() * g.outWidth()), oh = q / g.outWidth(), ow = q % g.outWidth();
        int hs = oh * g.strideH() - g.padH(), ws = ow * g.strideW() - g.padW();
        return new IllegalArgumentException("maxPool2dBackward: argmax " + value + " at output " + output
                + " is not an input position of that output's window (rows [" + Math.max(hs, 0) + ", " + Math.min(hs + g.kernelH(), g.height())
                + "), columns [" + Math.max(ws, 0) + ", " + Math.min(ws + g.kernelW(), g.width()) + ") of a " + g.height() + "x" + g.width()
                + " plane, as index row * " + g.width() + " + column); the index tensor is not the one maxPool2dForward wrote");
    }

    /** Refuses the first argmax entry (lowest output index) that is not a position of its window. */
    public static void checkArgmax(Pool2dGeometry g, float[] argmax, int length) {
        for (int o = 0; o < length; o++) if (!isArgmaxOfWindow(g, o, argmax[o])) throw badArgmax(g, o, argmax[o]);
    }

    // ---- embeddings ---------------------------------------------------------------------

    /** Rows of a table of {@code size} elements, {@code width} wide. */
    public static int tableRows(String op, int size, Tensor table, int width) {
        if (width < 1) throw new IllegalArgumentException(op + ": width must be >= 1, got " + width);
        if (size % width != 0)
            throw new IllegalArgumentException(op + ": table " + table.shape() + " (" + size + " elements) is not a whole number of rows of " + width);
        return size / width;
    }

    /** Whether an index stored as a float names a row of a table of {@code tableRows} rows. */
    public static boolean isRowIndex(float value, int tableRows) {
        int index = (int) value;
        return index == value && index >= 0 && index < tableRows;
    }

    /** The refusal of an index that {@link #isRowIndex} rejects. */
    public static IllegalArgumentException badRowIndex(float value, int row, int tableRows) {
        return new IllegalArgumentException("index " + value + " of row " + row + " is not a row of the table [0, " + tableRows + ")");
    }

    // ---- classification -----------------------------------------------------------------

    /** The refusal of a label that is not a class index (softmax cross-entropy). */
    public static IllegalArgumentException badLabel(float value, int row, int classes) {
        return new IllegalArgumentException("label " + value + " of row " + row + " is not a class index in [0, " + classes + ")");
    }

    /** An argument that must be a tensor, not null. */
    public static void checkNotNull(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(name + " is null");
    }

    /** The refusal of a tensor allocated by another backend than {@code expected}. */
    public static IllegalArgumentException foreignTensor(String name, Tensor t, Backend expected) {
        return new IllegalArgumentException(name + " " + t.shape() + " belongs to backend '" + t.backend().name()
                + "' (" + t.backend().description() + "), not to backend '" + expected.name() + "' (" + expected.description() + ")");
    }

    // ---- normalisation, recurrent cells, regularisation, optimisers ----------------------

    public static void checkBatchNormEps(float eps) {
        if (!(eps >= 0f) || Float.isInfinite(eps)) throw new IllegalArgumentException("batch norm eps must be finite and >= 0, got " + eps);
    }

    /** Training statistics: momentum in [0, 1] and at least two values per channel. */
    public static void checkBatchNormTraining(float momentum, int outer, int inner) {
        if (!(momentum >= 0f && momentum <= 1f)) throw new IllegalArgumentException("batch norm momentum must be in [0, 1], got " + momentum);
        if ((long) outer * inner < 2)
            throw new IllegalArgumentException("batch norm training needs more than one value per channel, got "
                    + outer + " x " + inner + " (outer x inner)");
    }

    public static void checkLrn(int size, float k) {
        if (size < 1) throw new IllegalArgumentException("LRN size must be >= 1, got " + size);
        if (!(k > 0f)) throw new IllegalArgumentException("LRN k must be > 0 (scale^-beta of a zero scale is infinite), got " + k);
    }

    /** Elements of {@code gates} blocks of a [batch, hidden] recurrent state. */
    public static int cellSize(String op, int batch, int hidden, int gates) {
        if (batch < 0 || hidden < 0) throw new IllegalArgumentException(op + ": batch and hidden must be >= 0, got " + batch + " and " + hidden);
        return viewSize(batch, gates, hidden);
    }

    public static void checkDropout(float p) {
        if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
    }

    public static void checkSgd(float momentum, boolean nesterov, boolean hasVelocity) {
        if (nesterov && momentum == 0f) throw new IllegalArgumentException("nesterov SGD needs momentum > 0");
        if (momentum != 0f && !hasVelocity) throw new IllegalArgumentException("SGD with momentum " + momentum + " needs a velocity tensor");
    }

    public static void checkRmsprop(float momentum, boolean hasMomentumBuffer, boolean centered, boolean hasGradAverage) {
        if (momentum != 0f && !hasMomentumBuffer) {
            throw new IllegalArgumentException("RMSprop with momentum " + momentum + " needs a momentum buffer");
        }
        if (centered && !hasGradAverage) throw new IllegalArgumentException("centered RMSprop needs a gradient-average tensor");
    }

    public static void checkAdamStep(int step) {
        if (step < 1) throw new IllegalArgumentException("Adam step is counted from 1, got " + step);
    }

    /** Unary backward: the forward tensors the op's derivative reads must be given. */
    public static void checkUnaryBackwardInputs(UnaryOp op, boolean needsX, boolean hasX, boolean needsY, boolean hasY) {
        if (needsX && !hasX) throw new IllegalArgumentException(op + " backward needs the forward input x");
        if (needsY && !hasY) throw new IllegalArgumentException(op + " backward needs the forward output y");
    }
}
