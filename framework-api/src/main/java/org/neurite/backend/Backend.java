package org.neurite.backend;

import java.util.List;
import java.util.Optional;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The op set layers are written against, so that a layer runs on every backend. It has two parts:
 * <ul>
 *   <li><b>primitives</b> (abstract): memory, GEMM, convolution and pooling, element-wise maps,
 *       per-channel broadcasts and reductions, row gathers and the dropout mask. A new backend
 *       implements these and nothing else;</li>
 *   <li><b>derived ops</b> (default methods): the dense layer's product and the convolution with an
 *       activation in their epilogue, the dense input gradient and the max-pooling backward through the
 *       activation before them, softmax and cross-entropy, padding, axpby, batch and
 *       local response normalisation, the LSTM and GRU cells (also with their recurrent
 *       products), the optimiser updates, and what a
 *       training step keeps on the device (the squared norm of many tensors, the loss and correct
 *       count into device floats, the {@link StepControl} and the updates it controls), each a
 *       composition of primitives ({@link DerivedOps}). A backend overrides one only to make it
 *       faster (a fused kernel); the CPU backend, the numerical reference, overrides them all.</li>
 * </ul>
 * A backend checks nothing: the runtime hands out every backend wrapped in a
 * {@link CheckedBackend}, which refuses bad arguments (foreign tensors, sizes, ranges, overlaps,
 * scalar parameters) with one set of messages before the backend sees them. {@code docs/backends.md}
 * says how to write one.
 *
 * <p>Conventions: tensors are float32 row-major in the public layout. Unless an op says it
 * accumulates, it overwrites its output. Offsets, strides and leading dimensions count elements.
 * Ops may run asynchronously on a device ({@link #asynchronous}); {@link #download} and any op that
 * returns a value to Java synchronise. {@link #counters} says how many ops ran and how often the
 * host waited.
 */
public interface Backend extends AutoCloseable {

    /** The name deployments use to select this backend ({@code cpu}, {@code opencl}). */
    String name();

    /** A human-readable description: device, threads. */
    String description();

    // ==== primitives ======================================================================

    // ---- memory -------------------------------------------------------------------------

    /** A new zero-filled tensor. */
    Tensor allocate(Shape shape);

    /** Copies {@code dst.length()} floats from {@code src[srcOffset..]} into {@code dst}. */
    void upload(float[] src, int srcOffset, Slice dst);

    /** Copies the floats of {@code src} into {@code dst[dstOffset..]}. */
    void download(Slice src, float[] dst, int dstOffset);

    /** Sets every element of {@code t} to {@code value}. */
    void fill(Slice t, float value);

    /**
     * Strided block copy: for i in [0, count), copies {@code length} floats from
     * {@code src.offset + i*src.stride} of the source to {@code dst.offset + i*dst.stride} of the
     * destination. Offsets and strides are >= 0 and the destination blocks must not overlap
     * (dst.stride >= length).
     */
    void copyBlocks(Strided src, Strided dst, int length, int count);

    // ---- dense linear algebra -----------------------------------------------------------

    /**
     * Batched, strided SGEMM on row-major matrices:
     * {@code C_b = alpha * op(A_b) * op(B_b) + beta * C_b} for b in [0, g.batch()) (see
     * {@link Gemm}). With {@code beta == 0} C is not read.
     */
    void gemm(Gemm g, float alpha, Matrix a, Matrix b, float beta, Matrix c);

    // ---- convolution and pooling --------------------------------------------------------

    /** y[N,Cout,Ho,Wo] = conv(x[N,Cin,H,W], w[Cout,Cin/groups,kh,kw]) + bias[Cout] (bias may be null). */
    void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y);

    /** dx[N,Cin,H,W] = gradient of the convolution with respect to its input. */
    void conv2dBackwardData(Conv2dGeometry g, Tensor dy, Tensor w, Tensor dx);

    /** dw[Cout,Cin/groups,kh,kw] and dbias[Cout] (may be null) from x and dy. Overwrites both. */
    void conv2dBackwardFilter(Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias);

    /**
     * Max pooling. {@code argmax} (same shape as y) receives, for every output element, the flat
     * index {@code ih * W + iw} of the winning input inside its (n, c) plane; padding never wins.
     */
    void maxPool2dForward(Pool2dGeometry g, Tensor x, Tensor y, Tensor argmax);

    /**
     * dx = scatter of dy through argmax (overwrites dx; overlapping windows accumulate). An argmax
     * entry that is not a position of its window ({@link OpChecks#isArgmaxOfWindow}) is refused
     * with {@link OpChecks#badArgmax} before anything is written: only the backend reads the indices.
     * An {@link #asynchronous} backend may throw at its next synchronising call instead of this one
     * (dx is not written either way).
     */
    void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor dx);

    /** Average pooling; the divisor counts padded positions iff {@code g.countIncludePad()}. */
    void avgPool2dForward(Pool2dGeometry g, Tensor x, Tensor y);

    void avgPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor dx);

    // ---- element-wise -------------------------------------------------------------------

    /**
     * y = op(x), element-wise over slices of equal length. In the element-wise ops an output may
     * be an input's range (in place) or lie apart from it, but must not overlap it at another offset.
     */
    void unary(UnaryOp op, Slice x, Slice y);

    /**
     * dx = dy * op'(x), where the derivative is computed from whichever of x (the forward input)
     * or y (the forward output) the op reads ({@link UnaryOp#derivativeReadsInput()}); the other
     * may be null.
     */
    void unaryBackward(UnaryOp op, Slice x, Slice y, Slice dy, Slice dx);

    /** out = a op b, element-wise over slices of equal length; out may be a or b. */
    void binary(BinaryOp op, Slice a, Slice b, Slice out);

    /** y = scale * x + shift, element-wise; y may be x. */
    void affine(Slice x, float scale, float shift, Slice y);

    /**
     * Per-channel broadcast: viewing x and out as [outer, channels, inner],
     * {@code out[o,c,i] = x[o,c,i] op v[c]}. Used for biases and per-channel scales; out may be x.
     */
    void channelBroadcast(BinaryOp op, Tensor x, Tensor v, Tensor out, int outer, int channels, int inner);

    /**
     * Viewing x as [outer, channels, inner], {@code out[c] = beta*out[c] + sum_{o,i} x[o,c,i]}.
     * With {@code beta == 0}, out is not read (a NaN there does not survive).
     */
    void channelSum(Tensor x, Tensor out, int outer, int channels, int inner, float beta);

    /** Viewing x as [outer, channels, inner], {@code out[c] = max_{o,i} x[o,c,i]} (a row maximum with outer = 1). */
    void channelMax(Tensor x, Tensor out, int outer, int channels, int inner);

    /** Sum of squares of all elements (for gradient norms); synchronises. */
    double sumOfSquares(Tensor x);

    // ---- rows ---------------------------------------------------------------------------

    /**
     * out[r, :] = table[(int) indices[r], :] for r in [0, rows); width = table row length.
     * Every index must be an integer in [0, table rows) ({@link OpChecks#isRowIndex}); a bad one
     * fails with {@link OpChecks#badRowIndex} before anything is written (an {@link #asynchronous}
     * backend may throw at its next synchronising call instead of this one; out is not written either way).
     */
    void gatherRows(Tensor table, Tensor indices, Tensor out, int rows, int width);

    /** dTable[(int) indices[r], :] += dOut[r, :] (dTable is not cleared first); indices as in {@link #gatherRows}. */
    void scatterAddRows(Tensor dOut, Tensor indices, Tensor dTable, int rows, int width);

    // ---- regularisation -----------------------------------------------------------------

    /**
     * Inverted dropout: {@code mask[i] = keep(i) ? 1/(1-p) : 0}, {@code y = x * mask}, where
     * keep(i) is {@code CounterRandom.uniform(seed, i) >= p}, so every backend draws the same mask.
     */
    void dropoutForward(Tensor x, Tensor mask, Tensor y, float p, long seed);

    // ==== conveniences over the primitives ================================================

    /** Uploads all of {@code src} into {@code dst}, which must have as many elements. */
    default void upload(float[] src, Tensor dst) { upload(src, 0, Slice.of(dst)); }

    /** The whole tensor, downloaded. */
    default float[] download(Tensor src) {
        float[] out = new float[src.size()];
        download(Slice.of(src), out, 0);
        return out;
    }

    default void fill(Tensor t, float value) { fill(Slice.of(t), value); }

    /** y = op(x) over whole tensors of equal size. */
    default void unary(UnaryOp op, Tensor x, Tensor y) { unary(op, Slice.of(x), Slice.of(y)); }

    /** The whole-tensor form of {@link #unaryBackward(UnaryOp, Slice, Slice, Slice, Slice)}; x or y may be null. */
    default void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        unaryBackward(op, x == null ? null : Slice.of(x), y == null ? null : Slice.of(y), Slice.of(dy), Slice.of(dx));
    }

    /** out = a op b over whole tensors of equal size. */
    default void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) { binary(op, Slice.of(a), Slice.of(b), Slice.of(out)); }

    // ==== derived ops: compositions of the primitives, overridden only for speed ============

    /** dst = src, slices of equal length (one block of {@link #copyBlocks}). */
    default void copy(Slice src, Slice dst) { DerivedOps.copy(this, src, dst); }

    // ---- fused epilogues: what a layer's output goes through before it is stored ----------
    // The engine fuses a dense or convolution layer with the activation that alone reads its
    // output ({@code docs/architecture.md}); the pre-activation value is then never stored. The
    // defaults run the unfused ops in sequence (same results as the layer and the activation
    // run apart); a device backend does it in the store of its GEMM or convolution kernel, one
    // launch instead of two or three. An activation is any {@link UnaryOp} (null: none).

    /**
     * The dense layer's forward pass, {@code y[rows, out] = activation(x[rows, in] · w[out, in]^T + bias[out])},
     * each step rounded on its own as the unfused ops round it (the product, then the bias add,
     * then the activation). {@code bias} and {@code activation} may be null; y must be apart from x and w.
     */
    default void denseForward(Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y, int rows, int in, int out) {
        DerivedOps.denseForward(this, x, w, bias, activation, y, rows, in, out);
    }

    /**
     * {@link #conv2dForward(Conv2dGeometry, Tensor, Tensor, Tensor, Tensor)}, then
     * {@code y = activation(y)} element-wise (null: none), the activation rounded after the bias add.
     */
    default void conv2dForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, UnaryOp activation, Tensor y) {
        DerivedOps.conv2dForward(this, g, x, w, bias, activation, y);
    }

    /**
     * The sum of two tensors of one size with an element-wise activation after it, {@code out =
     * activation(a + b)} ({@code activation} null: the sum alone): the forward of an {@code add}
     * node with the activation fused into its epilogue, a residual block's {@code relu(y + x)}. By
     * default the sum then the activation in place, so each element rounds as with the two ops;
     * out may be a or b.
     */
    default void addForward(Tensor a, Tensor b, UnaryOp activation, Tensor out) {
        DerivedOps.addForward(this, a, b, activation, out);
    }

    /**
     * A convolution whose output is summed with a residual of its shape before the activation,
     * {@code y = activation(conv(x, w) + bias + residual)} ({@code bias} and {@code activation} may
     * be null): the end of a residual block, {@code relu(bn(conv(x)) + shortcut)}, compiled for
     * inference with the batch norm folded into the convolution. Each step rounds on its own, as
     * {@link #conv2dForward(Conv2dGeometry, Tensor, Tensor, Tensor, Tensor)} then
     * {@link #addForward} round them, which is the default. y must be apart from x, w and residual.
     */
    default void conv2dResidualForward(Conv2dGeometry g, Tensor x, Tensor w, Tensor bias, Tensor residual, UnaryOp activation, Tensor y) {
        DerivedOps.conv2dResidualForward(this, g, x, w, bias, residual, activation, y);
    }

    /**
     * The dense layer's input gradient with the backward of the element-wise activation before the
     * layer folded in: {@code dx[rows, in] = dy[rows, out] · w[out, in]}, then, when
     * {@code activation} is not null, {@code dx = unaryBackward(activation, x, x, dx)}, x [rows, in]
     * being the layer's input and the activation's output (the derivative from the output alone:
     * {@link UnaryOp#derivativeFromOutputAlone()}). dx is then the gradient with respect to the
     * activation's input; with a null activation x is unread. dx must be apart from dy, w and x.
     */
    default void denseBackwardData(Tensor dy, Tensor w, Tensor x, UnaryOp activation, Tensor dx, int rows, int in, int out) {
        DerivedOps.denseBackwardData(this, dy, w, x, activation, dx, rows, in, out);
    }

    /**
     * The backward of an element-wise activation folded into the max-pooling backward after it:
     * {@code x} is the pooling's input and the activation's output, and
     * {@code dx = unaryBackward(activation, x, x, maxPool2dBackward(dy))}, the derivative taken from
     * the output alone, which the activation must allow ({@link UnaryOp#derivativeFromOutputAlone()}).
     * dx is then the gradient with respect to the activation's input. {@code activation} null: the
     * plain {@link #maxPool2dBackward(Pool2dGeometry, Tensor, Tensor, Tensor)}, x unread.
     */
    default void maxPool2dBackward(Pool2dGeometry g, Tensor dy, Tensor argmax, Tensor x, UnaryOp activation, Tensor dx) {
        DerivedOps.maxPool2dBackward(this, g, dy, argmax, x, activation, dx);
    }

    /**
     * Zero padding of {@code planes} planes of h x w into planes of outH x outW, the input placed
     * at (top, left): y is overwritten (zeros outside). Requires {@code top + h <= outH} and {@code left + w <= outW}.
     */
    default void pad2d(Tensor x, Tensor y, int planes, int h, int w, int top, int left, int outH, int outW) {
        DerivedOps.pad2d(this, x, y, planes, h, w, top, left, outH, outW);
    }

    /** The adjoint of {@link #pad2d}: dx[p, i, j] = dy[p, top + i, left + j]. */
    default void crop2d(Tensor dy, Tensor dx, int planes, int h, int w, int top, int left, int outH, int outW) {
        DerivedOps.crop2d(this, dy, dx, planes, h, w, top, left, outH, outW);
    }

    /** y = alpha * x + beta * y (BLAS axpby) over tensors of equal size. With beta == 0, y is not read. */
    default void axpby(float alpha, Tensor x, float beta, Tensor y) { DerivedOps.axpby(this, alpha, x, beta, y); }

    /** Row-wise softmax of x viewed as [rows, cols]; y may be x. */
    default void softmax(Tensor x, Tensor y, int rows, int cols) { DerivedOps.softmax(this, x, y, rows, cols); }

    /** dx = y * (dy - sum(dy * y)) row-wise, the softmax Jacobian-vector product. */
    default void softmaxBackward(Tensor y, Tensor dy, Tensor dx, int rows, int cols) {
        DerivedOps.softmaxBackward(this, y, dy, dx, rows, cols);
    }

    /**
     * Fused softmax + cross-entropy over logits [rows, classes] with integer class labels stored
     * as floats in {@code labels[rows]}. Writes {@code dLogits = (softmax - onehot) * gradScale}
     * and returns the <em>summed</em> loss over the rows (synchronises). A label that is not a
     * class index is refused with {@link OpChecks#badLabel}.
     */
    default double softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale) {
        return DerivedOps.softmaxCrossEntropy(this, logits, labels, dLogits, rows, classes, gradScale);
    }

    /**
     * Batch normalisation over x viewed as [outer, channels, inner] (N, C, H*W), PyTorch semantics.
     * Training: per channel, mean and biased variance over (outer, inner) are written to
     * {@code saveMean} / {@code saveInvStd} (1/sqrt(var + eps)) for backward, and the running
     * statistics become {@code (1-momentum)*running + momentum*batch} (unbiased variance for
     * running_var); training needs at least two values per channel (outer * inner >= 2), as in
     * PyTorch. Evaluation: the running statistics normalise and nothing is saved
     * ({@code saveMean}, {@code saveInvStd} and {@code momentum} are ignored; the tensors may be null).
     * {@code y = (x - mean) * invStd * gamma + beta}; y may be x.
     */
    default void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                  Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                  float eps, float momentum, boolean training) {
        DerivedOps.batchNormForward(this, x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd,
                outer, channels, inner, eps, momentum, training);
    }

    /**
     * Backward of training-mode batch normalisation from the statistics forward saved:
     * dx (overwritten; may be dy), and dgamma, dbeta (overwritten; either may be null).
     */
    default void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                   Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        DerivedOps.batchNormBackward(this, x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
    }

    /**
     * Batch normalisation with an element-wise activation in its epilogue:
     * {@code y = activation(batchnorm(x))}, as
     * {@link #batchNormForward(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int, int, int, float, float, boolean)}
     * (same statistics, same saved tensors) then {@code unary(activation, y, y)}, which is the
     * default; activation null is the plain op. The engine calls it when a batch-norm node is
     * read by one relu, sigmoid or tanh alone (no pre-activation buffer). An override rounds the
     * normalised value as the plain op does, then applies the activation, so it gives the same bits.
     */
    default void batchNormForward(Tensor x, Tensor y, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                  Tensor saveMean, Tensor saveInvStd, int outer, int channels, int inner,
                                  float eps, float momentum, boolean training, UnaryOp activation) {
        DerivedOps.batchNormForward(this, x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd,
                outer, channels, inner, eps, momentum, training, activation);
    }

    /**
     * Training batch-norm backward through the activation of its epilogue: {@code dy} is the
     * gradient with respect to {@code y = activation(batchnorm(x))}, and the op first takes it to
     * the gradient of the normalised value with the activation's derivative from y alone
     * ({@link UnaryOp#derivativeFromOutputAlone()}: relu masks dy where {@code y > 0}), then runs
     * the plain backward. Default: {@code unaryBackward(activation, y, y, dy, dx)}, then
     * {@code batchNormBackward(x, dx, ..., dx, ...)}; activation null is the plain op (y unread).
     * dx (overwritten) may be dy, not x or y; dy is left as it was unless dx is dy.
     */
    default void batchNormBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, UnaryOp activation, Tensor y,
                                   Tensor dx, Tensor dgamma, Tensor dbeta, int outer, int channels, int inner) {
        DerivedOps.batchNormBackward(this, x, dy, gamma, saveMean, saveInvStd, activation, y, dx, dgamma, dbeta, outer, channels, inner);
    }

    /**
     * Local response normalisation across channels (AlexNet's, PyTorch's {@code LocalResponseNorm}):
     * over x viewed as [batch, channels, inner],
     * {@code scale[n,c,i] = k + alpha/size * sum_{c'} x[n,c',i]^2} for c' in
     * [c - size/2, c + (size-1)/2] (clipped to the channels), {@code y = x * scale^-beta}.
     * {@code scale} is saved for backward. Requires k > 0; y and scale are tensors of their own
     * (each output reads its neighbouring channels), as is dx in backward.
     */
    default void lrnForward(Tensor x, Tensor y, Tensor scale, int batch, int channels, int inner,
                            int size, float alpha, float beta, float k) {
        DerivedOps.lrnForward(this, x, y, scale, batch, channels, inner, size, alpha, beta, k);
    }

    /** dx (overwritten) for {@link #lrnForward}, from x, y, the saved scale and dy. */
    default void lrnBackward(Tensor x, Tensor y, Tensor scale, Tensor dy, Tensor dx, int batch, int channels, int inner,
                             int size, float alpha, float beta, float k) {
        DerivedOps.lrnBackward(this, x, y, scale, dy, dx, batch, channels, inner, size, alpha, beta, k);
    }

    /**
     * One LSTM step for {@code batch} rows, gate order i, f, g, o (PyTorch's). {@code gates} holds
     * [batch, 4H] pre-activations {@code x W_ih^T + b_ih + h W_hh^T + b_hh} and is overwritten with
     * the activations σ(i), σ(f), tanh(g), σ(o), which backward reads. Then
     * {@code c = f*cPrev + i*g} and {@code h = o*tanh(c)}, each [batch, H]. c may be cPrev.
     */
    default void lstmCellForward(Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        DerivedOps.lstmCellForward(this, gates, cPrev, c, h, batch, hidden);
    }

    /**
     * One LSTM step with its recurrent product: {@code gates[B, 4H] += hPrev[B, H] · wHhᵀ}
     * ({@code wHh} [4H, H], rows in gate order i, f, g, o; {@code gates} already holding the input
     * projection and the biases), then {@link #lstmCellForward} on the sums, with the same
     * semantics (gates overwritten with the activations, c may be cPrev). The default is those two
     * ops, a {@link #gemm} and the cell; a device backend fuses them into one launch, the cell
     * applied in the product's epilogue (a tile gathers the four gate columns j, H+j, 2H+j, 3H+j
     * of the same hidden units). One product: the matrices' batch strides are not read. hPrev and
     * wHh are only read, and no output may overlap them.
     */
    default void lstmStepForward(Matrix hPrev, Matrix wHh, Slice gates, Slice cPrev, Slice c, Slice h, int batch, int hidden) {
        DerivedOps.lstmStepForward(this, hPrev, wHh, gates, cPrev, c, h, batch, hidden);
    }

    /**
     * Backward of one LSTM step. Reads the gate activations, cPrev and c; {@code dh} is dL/dh_t
     * (from the output and from step t+1). {@code dc} holds dL/dc_t from step t+1 on entry and
     * dL/dc_{t-1} on exit. Writes dL/d(pre-activations) into {@code dGates} [batch, 4H].
     */
    default void lstmCellBackward(Slice gates, Slice cPrev, Slice c, Slice dh, Slice dc, Slice dGates, int batch, int hidden) {
        DerivedOps.lstmCellBackward(this, gates, cPrev, c, dh, dc, dGates, batch, hidden);
    }

    /**
     * One GRU step, PyTorch's gate order r, z, n: {@code gi} = x W_ih^T + b_ih and
     * {@code gh} = h W_hh^T + b_hh, each [batch, 3H]. {@code r = σ(gi_r + gh_r)},
     * {@code z = σ(gi_z + gh_z)}, {@code n = tanh(gi_n + r * gh_n)},
     * {@code h = (1 - z) * n + z * hPrev}. {@code saved} [batch, 3H] receives r, z, n for backward.
     */
    default void gruCellForward(Slice gi, Slice gh, Slice hPrev, Slice h, Slice saved, int batch, int hidden) {
        DerivedOps.gruCellForward(this, gi, gh, hPrev, h, saved, batch, hidden);
    }

    /**
     * One GRU step with its recurrent product: {@code gh[B, 3H] += hPrev[B, H] · wHhᵀ} ({@code wHh}
     * [3H, H], rows in gate order r, z, n; {@code gh} already holding b_hh, and keeping the sum,
     * which backward reads), then {@link #gruCellForward} with the same semantics. hPrev is a
     * contiguous [B, H] slice, the product's A operand and the cell's previous state. The default
     * is a {@link #gemm} and the cell; a device backend fuses them into one launch as for
     * {@link #lstmStepForward}. hPrev and wHh are only read, and no output may overlap them (so h
     * may not be hPrev here).
     */
    default void gruStepForward(Slice hPrev, Matrix wHh, Slice gi, Slice gh, Slice h, Slice saved, int batch, int hidden) {
        DerivedOps.gruStepForward(this, hPrev, wHh, gi, gh, h, saved, batch, hidden);
    }

    /**
     * Backward of one GRU step from dL/dh_t ({@code dh}): writes dL/d(gi) and dL/d(gh) [batch, 3H]
     * and the direct part of dL/dh_{t-1} ({@code dhPrev}, overwritten: z * dh; the recurrent GEMM
     * adds the part through gh).
     */
    default void gruCellBackward(Slice saved, Slice gh, Slice hPrev, Slice dh, Slice dGi, Slice dGh, Slice dhPrev,
                                 int batch, int hidden) {
        DerivedOps.gruCellBackward(this, saved, gh, hPrev, dh, dGi, dGh, dhPrev, batch, hidden);
    }

    /**
     * SGD with momentum and L2 weight decay, PyTorch semantics, in place:
     * {@code g = grad + wd*param; v = momentum*v + g; param -= lr * (nesterov ? g + momentum*v : v)}.
     * {@code velocity} may be null when momentum is 0.
     */
    default void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov) {
        DerivedOps.sgdUpdate(this, param, grad, velocity, lr, momentum, weightDecay, nesterov);
    }

    /**
     * Adam (PyTorch semantics, L2 weight decay added to the gradient), in place, {@code step}
     * counted from 1: {@code m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)}.
     */
    default void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                            float eps, float weightDecay, int step) {
        DerivedOps.adamUpdate(this, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    /**
     * AdamW (Loshchilov and Hutter 2019, PyTorch semantics), in place, {@code step} counted from 1:
     * the weights decay apart from the gradient, {@code param *= 1 - lr*wd}, then the Adam step
     * on the gradient alone: {@code m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * param -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)}.
     */
    default void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                             float eps, float weightDecay, int step) {
        DerivedOps.adamwUpdate(this, param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    /**
     * RMSprop (PyTorch semantics), in place: {@code g = grad + wd*param;
     * sq = alpha*sq + (1-alpha)*g^2}; the denominator is {@code sqrt(sq) + eps}, or when
     * {@code centered} {@code sqrt(sq - ga^2) + eps} with {@code ga = alpha*ga + (1-alpha)*g};
     * then {@code param -= lr * g/denominator}, or with momentum
     * {@code buf = momentum*buf + g/denominator; param -= lr*buf}. {@code momentumBuffer} may be
     * null when momentum is 0, {@code gradAverage} when not centered.
     */
    default void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                               float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered) {
        DerivedOps.rmspropUpdate(this, param, grad, squareAverage, momentumBuffer, gradAverage, lr, alpha, eps, weightDecay,
                momentum, centered);
    }

    // ==== the training step on the device ===================================================
    // What a training step needs back from the device, kept there: the summed loss, the correct
    // count and the squared gradient norm land in device floats (slices of one status tensor the
    // engine reads every few steps), and the decision to clip or to skip an update is taken on the
    // device ({@link StepControl}). The default compositions read a value back where the primitives
    // cannot express the op (one synchronisation each); the CPU and OpenCL backends override them all.
    // A controlled update given a null control is the plain update.

    /**
     * {@code out[0] = sum over xs of the sum of squares of their elements}: the squared global L2
     * norm of many tensors (all gradients of a model) in one reduction, accumulated in double
     * where the backend can and rounded to float once. {@code out} is a slice of one float.
     */
    default void sumOfSquares(List<Tensor> xs, Slice out) { DerivedOps.sumOfSquares(this, xs, out); }

    /**
     * {@link #softmaxCrossEntropy(Tensor, Tensor, Tensor, int, int, float)} that leaves the summed
     * loss on the device, in {@code loss[0]} (a slice of one float), instead of returning it. A
     * label that is not a class index is refused with {@link OpChecks#badLabel} and dLogits is not
     * written; an {@link #asynchronous} backend may throw at its next synchronising call instead of this one.
     */
    default void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor dLogits, int rows, int classes, float gradScale, Slice loss) {
        DerivedOps.softmaxCrossEntropy(this, logits, labels, dLogits, rows, classes, gradScale, loss);
    }

    /**
     * {@code out[0]} = the rows of logits [rows, classes] whose arg-max is their label in
     * {@code labels[rows]} (class indices as floats), as a float (exact up to 2^24 rows). The
     * arg-max is the first index holding the row's largest value, found by scanning from index 0
     * and taking a value only when it is greater than the best so far (so a NaN never wins unless
     * it comes first). A label that is not a class index counts as wrong.
     */
    default void countCorrect(Tensor logits, Tensor labels, int rows, int classes, Slice out) {
        DerivedOps.countCorrect(this, logits, labels, rows, classes, out);
    }

    /**
     * Decides a step on the device from its squared gradient norm ({@code squaredNorm[0]}) and its
     * summed loss ({@code loss[0]}; null when only the norm counts): writes {@code control}
     * ({@link StepControl}) with the factor {@link StepControl#clipFactor} of {@code sqrt(squaredNorm)}
     * and {@code maxNorm} ({@code maxNorm <= 0}: no clipping), and sets its skip flag when the
     * norm or the loss is NaN or infinite. A flag already set stays set. The slices may lie in one
     * tensor but must not overlap.
     */
    default void stepControl(Slice squaredNorm, Slice loss, float maxNorm, Slice control) {
        DerivedOps.stepControl(this, squaredNorm, loss, maxNorm, control);
    }

    /**
     * {@link #sgdUpdate(Tensor, Tensor, Tensor, float, float, float, boolean)} on the gradient
     * times {@code control}'s factor, and nothing at all (weights and velocity untouched) when its
     * skip flag is set ({@link StepControl}).
     */
    default void sgdUpdate(Tensor param, Tensor grad, Tensor velocity, float lr, float momentum, float weightDecay, boolean nesterov,
                           Slice control) {
        DerivedOps.controlled(this, control, grad, g -> sgdUpdate(param, g, velocity, lr, momentum, weightDecay, nesterov));
    }

    /**
     * {@link #adamUpdate(Tensor, Tensor, Tensor, Tensor, float, float, float, float, float, int)} on
     * the gradient times {@code control}'s factor, and nothing at all (weights and moments
     * untouched) when its skip flag is set ({@link StepControl}).
     */
    default void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                            float eps, float weightDecay, int step, Slice control) {
        DerivedOps.controlled(this, control, grad, g -> adamUpdate(param, g, m, v, lr, beta1, beta2, eps, weightDecay, step));
    }

    /**
     * {@link #adamwUpdate(Tensor, Tensor, Tensor, Tensor, float, float, float, float, float, int)} on
     * the gradient times {@code control}'s factor, and nothing at all (weights and moments
     * untouched, no decay) when its skip flag is set ({@link StepControl}).
     */
    default void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                             float eps, float weightDecay, int step, Slice control) {
        DerivedOps.controlled(this, control, grad, g -> adamwUpdate(param, g, m, v, lr, beta1, beta2, eps, weightDecay, step));
    }

    /**
     * {@link #rmspropUpdate(Tensor, Tensor, Tensor, Tensor, Tensor, float, float, float, float, float, boolean)}
     * on the gradient times {@code control}'s factor, and nothing at all (weights and averages
     * untouched) when its skip flag is set ({@link StepControl}).
     */
    default void rmspropUpdate(Tensor param, Tensor grad, Tensor squareAverage, Tensor momentumBuffer, Tensor gradAverage,
                               float lr, float alpha, float eps, float weightDecay, float momentum, boolean centered, Slice control) {
        DerivedOps.controlled(this, control, grad, g -> rmspropUpdate(param, g, squareAverage, momentumBuffer, gradAverage, lr, alpha,
                eps, weightDecay, momentum, centered));
    }

    // ==== extensions =======================================================================

    /**
     * An optional capability of this backend beyond the op set, such as {@link DevicePrograms}
     * (device code from plugins); empty when the backend does not offer it. The default offers
     * what this object itself implements.
     */
    default <T> Optional<T> extension(Class<T> type) {
        return type.isInstance(this) ? Optional.of(type.cast(this)) : Optional.empty();
    }

    // ==== memory accounting and lifecycle =================================================

    /**
     * Bytes this backend can still allocate for tensors, for the planner's check before it
     * compiles a model. The default is what the Java heap can still grow to (heap backends);
     * device backends report their device memory.
     */
    default long memoryAvailable() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    /**
     * What this backend's tensors hold and of what total, for out-of-memory messages ("holds 7.2 MiB
     * in 40 tensors of the device's 7,898 MiB"); empty where {@link #memoryAvailable} says it all
     * (heap backends).
     */
    default String memoryReport() { return ""; }

    /** Waits for queued work to finish (no-op on synchronous backends). */
    default void synchronize() {}

    /**
     * Whether ops return before their work is done (a device queue), so that every read-back makes
     * the host wait for all work queued before it: callers then read results every few steps
     * rather than after each. False for the CPU backend, whose ops finish before they return.
     */
    default boolean asynchronous() { return false; }

    /**
     * The backend's own count of launches and host synchronisations since it was created, when it
     * keeps one (a device backend counts every kernel it enqueues and every blocking read it makes,
     * its internal ones included). Empty by default: {@link CheckedBackend}, which every runtime
     * backend is wrapped in, then counts the contract's calls instead (each op one launch; each
     * download, value-returning op and {@link #synchronize} one synchronisation).
     */
    default Optional<BackendCounters> counters() { return Optional.empty(); }

    @Override default void close() {}
}
