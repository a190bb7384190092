package org.neurite.backend.cpu;

import java.util.Arrays;
import org.neurite.backend.OpChecks;
import org.neurite.backend.Pool2dGeometry;

/**
 * Max and average pooling over x[N, C, H, W] with PyTorch semantics, one (n, c) plane per task.
 * A window of output (oh, ow) starts at {@code (oh*strideH - padH, ow*strideW - padW)} and is
 * clipped to the input; max pooling records the winner as {@code ih * W + iw} (ties keep the
 * first, NaN wins, as in PyTorch), average pooling divides by the window clipped to the padded
 * input ({@code countIncludePad}) or to the input. Backward passes own whole planes, so the
 * scatter-adds of overlapping windows run in a fixed order on one thread: deterministic. The
 * passes run through one reusable {@link CpuThreads.RangeTask} that holds their arguments, so a
 * call allocates nothing.
 *
 * <p>The common layer, 2x2 windows at stride 2 inside the input, runs {@link CpuKernels#maxPool2x2}
 * over a table of each window's top-left input in the plane ({@code 2*oh*w + 2*ow}, grow-only,
 * filled per call), so the vector path gathers whole groups of windows whatever the row width
 * (fashion_cnn's 14- and 7-wide output rows are narrower than a 512-bit vector's 16 lanes).
 *
 * <p>Average pooling with one unpadded window over each whole plane (the {@code globalavgpool}
 * layer, {@link #isWholePlane}) sums each plane as one flat run and fills each plane of dx with
 * its share: the window loops' operations in the same order, without their per-window bounds.
 */
final class CpuPool2d {
    private static final long PARALLEL_MIN_WORK = 1L << 15;

    private final CpuThreads threads;
    private final CpuKernels[] kernels; // maxPool2x2, per worker
    private final PlaneLoop planeLoop = new PlaneLoop();
    private int[] window = new int[0]; // the 2x2 windows' top-left inputs in a plane, grow-only
    private float[] windowAt = new float[0]; // the same as floats (argmax values)

    /** The four passes, each a loop over (n, c) planes. */
    private enum Pass { MAX_FORWARD, MAX_BACKWARD, AVG_FORWARD, AVG_BACKWARD, CHECK_ARGMAX }

    CpuPool2d(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
    }

    /** y = max over each window; argmax = flat in-plane index of the winner (stored as a float). */
    synchronized void maxForward(Pool2dGeometry g, float[] x, float[] y, float[] argmax) {
        if (isWhole2x2(g)) fillWindows(g);
        planeLoop.execute(Pass.MAX_FORWARD, g, x, y, argmax);
    }

    /** window[o] (and windowAt[o]) = the top-left input {@code 2*oh*w + 2*ow} of output o = oh*wo + ow. */
    private void fillWindows(Pool2dGeometry g) {
        int ho = g.outHeight(), wo = g.outWidth(), w = g.width();
        if (window.length < ho * wo) {
            window = new int[ho * wo];
            windowAt = new float[ho * wo];
        }
        for (int oh = 0, o = 0; oh < ho; oh++) {
            for (int ow = 0; ow < wo; ow++, o++) {
                window[o] = 2 * oh * w + 2 * ow;
                windowAt[o] = window[o];
            }
        }
    }

    /** dx = 0, then dx[argmax] += dy for every output; a corrupt argmax is refused before anything is written. */
    void maxBackward(Pool2dGeometry g, float[] dy, float[] argmax, float[] dx) {
        // The check runs over planes in parallel first (it took longer than the pass itself when
        // done serially with four divisions per entry); only if it finds a bad entry does the
        // shared serial check run, to refuse the lowest one with the shared message.
        if (!planeLoop.argmaxValid(g, argmax)) OpChecks.checkArgmax(g, argmax, argmax.length);
        planeLoop.execute(Pass.MAX_BACKWARD, g, dy, dx, argmax);
    }

    /** y = mean over each window, divisor per {@link Pool2dGeometry#countIncludePad()}. */
    void avgForward(Pool2dGeometry g, float[] x, float[] y) {
        planeLoop.execute(Pass.AVG_FORWARD, g, x, y, null);
    }

    /** dx = 0, then every input of a window gets dy / divisor. */
    void avgBackward(Pool2dGeometry g, float[] dy, float[] dx) {
        planeLoop.execute(Pass.AVG_BACKWARD, g, dy, dx, null);
    }

    /** One pass over planes; {@code in} is x (forward) or dy (backward), {@code out} is y or dx. */
    private final class PlaneLoop implements CpuThreads.RangeTask {
        private Pass pass;
        private Pool2dGeometry g;
        private float[] in, out, argmax;

        synchronized void execute(Pass pass, Pool2dGeometry g, float[] in, float[] out, float[] argmax) {
            this.pass = pass;
            this.g = g;
            this.in = in;
            this.out = out;
            this.argmax = argmax;
            try {
                threads.run(g.batch() * g.channels(), parallelism(g), this);
            } finally {
                this.g = null;
                this.in = this.out = this.argmax = null;
            }
        }

        /** Whether every argmax entry is a position of its output's window (as {@link OpChecks#isArgmaxOfWindow}); writes nothing. */
        synchronized boolean argmaxValid(Pool2dGeometry g, float[] argmax) {
            if (bad.length < threads.size()) bad = new boolean[threads.size()];
            Arrays.fill(bad, false);
            execute(Pass.CHECK_ARGMAX, g, null, null, argmax);
            for (boolean b : bad) if (b) return false;
            return true;
        }

        private boolean[] bad = new boolean[0]; // per worker: found an entry outside its window

        @Override
        public void run(int worker, int begin, int end) {
            switch (pass) {
                case CHECK_ARGMAX -> bad[worker] |= !(isWhole2x2(g) ? argmaxPlanesValid2x2(g, argmax, begin, end)
                        : argmaxPlanesValid(g, argmax, begin, end));
                case MAX_FORWARD -> maxForwardPlanes(kernels[worker], g, in, out, argmax, begin, end);
                case MAX_BACKWARD -> maxBackwardPlanes(g, in, argmax, out, begin, end);
                case AVG_FORWARD -> avgForwardPlanes(g, in, out, begin, end);
                case AVG_BACKWARD -> avgBackwardPlanes(g, in, out, begin, end);
            }
        }
    }

    /** Max pooling forward of planes [begin, end). */
    private void maxForwardPlanes(CpuKernels kernels, Pool2dGeometry g, float[] x, float[] y, float[] argmax, int begin, int end) {
        int h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        if (isWhole2x2(g)) {
            for (int plane = begin; plane < end; plane++) {
                kernels.maxPool2x2(x, plane * h * w, w, window, windowAt, ho * wo, y, argmax, plane * ho * wo);
            }
            return;
        }
        for (int plane = begin; plane < end; plane++) {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oh = 0; oh < ho; oh++) {
                int hs = oh * g.strideH() - g.padH(), he = Math.min(hs + g.kernelH(), h);
                hs = Math.max(hs, 0);
                for (int ow = 0; ow < wo; ow++) {
                    int ws = ow * g.strideW() - g.padW(), we = Math.min(ws + g.kernelW(), w);
                    ws = Math.max(ws, 0);
                    float best = Float.NEGATIVE_INFINITY;
                    int bestIndex = hs * w + ws;
                    for (int ih = hs; ih < he; ih++) {
                        for (int iw = ws; iw < we; iw++) {
                            float v = x[xo + ih * w + iw];
                            if (v > best || Float.isNaN(v)) {
                                best = v;
                                bestIndex = ih * w + iw;
                            }
                        }
                    }
                    y[yo + oh * wo + ow] = best;
                    argmax[yo + oh * wo + ow] = bestIndex;
                }
            }
        }
    }

    /**
     * The definition of {@link CpuKernels#maxPool2x2} for windows [from, to): each window's four
     * inputs scanned in order (top-left, top-right, bottom-left, bottom-right), a later value
     * winning if it is greater or NaN, as the general loop above; written as selects rather than
     * branches, which random data mispredicts about half the time.
     */
    static void maxWindows2x2(float[] x, int xo, int w, int[] window, float[] windowAt, int from, int to, float[] y, float[] argmax, int yo) {
        for (int o = from; o < to; o++) {
            int i = xo + window[o];
            float best = x[i], v = x[i + 1];
            boolean take = v > best | v != v;
            best = take ? v : best;
            int at = take ? 1 : 0;
            v = x[i + w];
            take = v > best | v != v;
            best = take ? v : best;
            at = take ? w : at;
            v = x[i + w + 1];
            take = v > best | v != v;
            best = take ? v : best;
            at = take ? w + 1 : at;
            y[yo + o] = best;
            argmax[yo + o] = windowAt[o] + at;
        }
    }

    /** 2x2 windows at stride 2 without padding, all inside the input (so ceil mode changes nothing). */
    private static boolean isWhole2x2(Pool2dGeometry g) {
        return g.kernelH() == 2 && g.kernelW() == 2 && g.strideH() == 2 && g.strideW() == 2 && g.padH() == 0 && g.padW() == 0
                && 2 * g.outHeight() <= g.height() && 2 * g.outWidth() <= g.width();
    }

    /** The window test of {@link OpChecks#isArgmaxOfWindow} for planes [begin, end), with the window bounds kept per output row. */
    private static boolean argmaxPlanesValid(Pool2dGeometry g, float[] argmax, int begin, int end) {
        int h = g.height(), w = g.width(), hw = h * w, ho = g.outHeight(), wo = g.outWidth();
        for (int plane = begin; plane < end; plane++) {
            int yo = plane * ho * wo;
            for (int oh = 0; oh < ho; oh++) {
                int hs = oh * g.strideH() - g.padH(), rowLo = Math.max(hs, 0), rowHi = Math.min(hs + g.kernelH(), h);
                for (int ow = 0; ow < wo; ow++) {
                    float v = argmax[yo + oh * wo + ow];
                    int index = (int) v;
                    if (index != v || index < 0 || index >= hw) return false;
                    int ih = index / w, iw = index - ih * w;
                    int ws = ow * g.strideW() - g.padW();
                    if (ih < rowLo || ih >= rowHi || iw < Math.max(ws, 0) || iw >= Math.min(ws + g.kernelW(), w)) return false;
                }
            }
        }
        return true;
    }

    /**
     * {@link #argmaxPlanesValid} for 2x2 windows at stride 2 inside the input: the entry of
     * output (oh, ow) must be a whole number whose offset d from its window's top-left input
     * {@code 2*oh*w + 2*ow} is 0, 1, w or w + 1, which (w >= 2 here) is the general test's
     * row and column bounds and implies the plane bounds. No division, and no branch on which
     * of the four it is: the general test's division per entry, and a mispredicted branch per
     * entry on random data, took more time than the backward pass it guards.
     */
    private static boolean argmaxPlanesValid2x2(Pool2dGeometry g, float[] argmax, int begin, int end) {
        int w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        for (int plane = begin; plane < end; plane++) {
            int yo = plane * ho * wo;
            for (int oh = 0; oh < ho; oh++) {
                int row = yo + oh * wo, corner = 2 * oh * w, outside = 0;
                for (int ow = 0; ow < wo; ow++) {
                    float v = argmax[row + ow];
                    int index = (int) v;
                    if (index != v) return false;
                    // d in {0, 1} or d - w in {0, 1}: one of the two halved offsets is 0 (unsigned).
                    int d = index - corner - 2 * ow;
                    outside |= Math.min(d >>> 1, (d - w) >>> 1);
                }
                if (outside != 0) return false;
            }
        }
        return true;
    }

    /** Max pooling backward of planes [begin, end). */
    private static void maxBackwardPlanes(Pool2dGeometry g, float[] dy, float[] argmax, float[] dx, int begin, int end) {
        int hw = g.height() * g.width(), out = g.outHeight() * g.outWidth();
        for (int plane = begin; plane < end; plane++) {
            int xo = plane * hw, yo = plane * out;
            Arrays.fill(dx, xo, xo + hw, 0f);
            for (int o = 0; o < out; o++) {
                dx[xo + (int) argmax[yo + o]] += dy[yo + o]; // checked by maxBackward
            }
        }
    }

    /**
     * Whether one window covers each whole plane with no padding (global average pooling): the
     * passes then run over the plane as one flat run, in the same order as the window loops
     * (row-major), so the bits are the same. On the small ResNet's pool (16,384 planes of 4x4, one
     * thread, thread CPU time) the flat forward took 0.07 ms, the window loops 0.30 and a GEMM with
     * a ones vector 0.36; the flat backward 0.08 ms, the window loops 0.43.
     */
    static boolean isWholePlane(Pool2dGeometry g) {
        return g.kernelH() == g.height() && g.kernelW() == g.width() && g.padH() == 0 && g.padW() == 0;
    }

    /** Average pooling forward of planes [begin, end). */
    private static void avgForwardPlanes(Pool2dGeometry g, float[] x, float[] y, int begin, int end) {
        int h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        if (isWholePlane(g)) {
            int size = h * w;
            float divisor = size;
            for (int plane = begin; plane < end; plane++) {
                float sum = 0f;
                for (int i = plane * size, last = i + size; i < last; i++) sum += x[i];
                y[plane] = sum / divisor;
            }
            return;
        }
        for (int plane = begin; plane < end; plane++) {
            int xo = plane * h * w, yo = plane * ho * wo;
            for (int oh = 0; oh < ho; oh++) {
                for (int ow = 0; ow < wo; ow++) {
                    int hs = oh * g.strideH() - g.padH(), ws = ow * g.strideW() - g.padW();
                    float divisor = divisor(g, hs, ws);
                    int he = Math.min(hs + g.kernelH(), h), we = Math.min(ws + g.kernelW(), w);
                    float sum = 0f;
                    for (int ih = Math.max(hs, 0); ih < he; ih++) {
                        for (int iw = Math.max(ws, 0); iw < we; iw++) sum += x[xo + ih * w + iw];
                    }
                    y[yo + oh * wo + ow] = sum / divisor;
                }
            }
        }
    }

    /** Average pooling backward of planes [begin, end). */
    private static void avgBackwardPlanes(Pool2dGeometry g, float[] dy, float[] dx, int begin, int end) {
        int h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        if (isWholePlane(g)) {
            int size = h * w;
            float divisor = size;
            for (int plane = begin; plane < end; plane++) {
                // 0 + share, as the window loop adds it to a zeroed plane (-0 becomes +0)
                Arrays.fill(dx, plane * size, (plane + 1) * size, 0f + dy[plane] / divisor);
            }
            return;
        }
        for (int plane = begin; plane < end; plane++) {
            int xo = plane * h * w, yo = plane * ho * wo;
            Arrays.fill(dx, xo, xo + h * w, 0f);
            for (int oh = 0; oh < ho; oh++) {
                for (int ow = 0; ow < wo; ow++) {
                    int hs = oh * g.strideH() - g.padH(), ws = ow * g.strideW() - g.padW();
                    float share = dy[yo + oh * wo + ow] / divisor(g, hs, ws);
                    int he = Math.min(hs + g.kernelH(), h), we = Math.min(ws + g.kernelW(), w);
                    for (int ih = Math.max(hs, 0); ih < he; ih++) {
                        for (int iw = Math.max(ws, 0); iw < we; iw++) dx[xo + ih * w + iw] += share;
                    }
                }
            }
        }
    }

    /**
     * PyTorch's divisor for the window starting at (hs, ws): the window clipped to the padded
     * input when padding counts, else clipped to the input itself.
     */
    private static float divisor(Pool2dGeometry g, int hs, int ws) {
        int h = g.height(), w = g.width();
        int he = Math.min(hs + g.kernelH(), h + g.padH()), we = Math.min(ws + g.kernelW(), w + g.padW());
        if (g.countIncludePad()) return (he - hs) * (we - ws);
        return (Math.min(he, h) - Math.max(hs, 0)) * (Math.min(we, w) - Math.max(ws, 0));
    }

    private int parallelism(Pool2dGeometry g) {
        long work = (long) g.batch() * g.channels() * g.outHeight() * g.outWidth() * g.kernelH() * g.kernelW();
        // The flat pass over whole planes costs about a quarter of the window loops per input (4.4x
        // faster measured): below four times the threshold it ends before a second worker would start.
        long threshold = isWholePlane(g) ? 4 * PARALLEL_MIN_WORK : PARALLEL_MIN_WORK;
        return work < threshold ? 1 : threads.size();
    }
}
