package org.neurite.backend.cpu;

import java.util.Arrays;

/**
 * Batch normalisation and local response normalisation (PyTorch semantics) over x viewed as
 * [outer, channels, inner].
 *
 * <p>Batch norm gives each channel to one task: the task reads the channel's {@code outer}
 * rows of {@code inner} values once for the statistics (the sums of {@code x - s} and its
 * square about the channel's first value s, in double, so the variance {@code (Q - S^2/m)/m}
 * loses nothing to cancellation unless the mean lies some 10^4 standard deviations from s), and
 * once more to write the outputs. Backward reads them once for dbeta = sum(dy) and
 * dgamma = sum(dy * xhat), once to write dx. Each sum runs in {@link CpuKernels#NORM_PARTIALS}
 * (16) interleaved double partial sums (element j of a row into partial j mod 16: first the whole
 * groups of 16 of every row, then each row's last {@code inner % 16} values as one more group),
 * added in order at the end, through one kernel call per channel
 * ({@link CpuKernels#normChannelStatistics}, {@link CpuKernels#normChannelBackwardSums}; the
 * outputs through {@link CpuKernels#normChannelNormalize} and {@link CpuKernels#normChannelDx}):
 * on the vector path the partials stay in registers (two 8-lane or four 4-lane double vectors
 * per sum) from the channel's first row to its last, the floats widened as they are loaded, the
 * same adds in the same order as the plain loops. A call per row, as before, stored and reloaded
 * them every row and added each row's tail serially into one partial; on the small ResNet's
 * 16-value rows (4x4 maps) that cost more than the sums. There are no partial sums across
 * tasks, so statistics, outputs and gradients are bit-identical for any thread count. Each worker
 * takes one contiguous range of channels: claimed one channel at a time, neighbouring channels on
 * two cores shared the cache lines of their rows' ends and of the per-channel statistics, and
 * two threads ran no faster than one.
 *
 * <p>Backward over rows shorter than {@link #CHUNKED_MAX_INNER} floats ({@link #sampleChunks})
 * runs over chunks of samples instead. A channel's rows lie {@code channels * inner} floats
 * apart: walking one channel reads a few cache lines, then jumps a page or more, which the
 * hardware prefetchers do not follow, and in a training step backward's x and y were written
 * by the forward pass long before, so they come from memory (on 4x4 maps a row is one cache
 * line: every read a miss). A chunk of {@link #chunkSamples} consecutive samples is one
 * contiguous block; each worker takes a contiguous range of chunks and, per chunk and channel,
 * makes the same kernel call over the chunk's rows (each chunk's partials from zero, added in
 * order into one sum per chunk); the channel's sums add the chunks' in chunk order on the
 * calling thread, and a second pass over the same chunks writes dx. The chunks depend on the
 * batch alone, so the bits still do not depend on the thread count (they differ from the
 * per-channel pass's by rounding). With the caches pushed out before each call
 * ({@code PairedKernels --cold}) it ran 1.6-1.8x on one thread and 1.04-1.37x on two; with the
 * data in cache 0.8-0.97x (more calls). The training forward keeps the per-channel pass: its
 * input is the output the convolution before it has just written, still in cache, and chunked
 * it ran 0.76-1.25x.
 *
 * <p>LRN gives each (n, c) plane to one task. Forward sums the squares of the plane's channel
 * window straight into its row of {@code scale} (saved for backward), then turns it into
 * {@code k + alpha/size * sum} and writes {@code y = x * scale^-beta}. Backward uses
 * {@code dx_j = dy_j * s_j^-beta - (2 alpha beta / size) x_j * sum_c dy_c y_c / s_c}, the sum running
 * over the channels c whose window contains j, accumulated in dx's own row. Neither pass needs
 * scratch; both require outputs that do not alias the inputs (neighbouring planes are read).
 *
 * <p>Each pass is a reusable {@link CpuThreads.RangeTask} holding its arguments, so a call
 * allocates nothing.
 */
final class CpuNormalization {
    private static final long PARALLEL_MIN_WORK = 1L << 15;

    private final CpuThreads threads;
    /** The exchange with the other shard of a step ({@link CpuShards}); null on the backend's own kernels. */
    private final CpuShards shards;
    /** Which shard these kernels run (0 or 1); 0 when {@link #shards} is null. */
    private final int shard;
    private final CpuKernels[] kernels; // per worker: the batch-norm sums
    private final double[][] partials; // per worker: the 2 x NORM_PARTIALS partial sums of one channel
    // Grow-only scratch of the sample-chunk passes (one call at a time: the loops are synchronized).
    private double[] chunkSums = new double[0]; // [chunk][channel][2]: a chunk's two sums of each channel
    // Batch norm backward's per-channel dx coefficients (see BatchNormBackwardLoop.finishChannel), grow-only.
    private float[] dxK = new float[0], dxA = new float[0], dxB = new float[0];
    // A shard's statistics or sums to exchange (3 or 2 per channel, then its sample count), grow-only.
    private double[] shardSums = new double[0];
    private final BatchNormLoop batchNormLoop = new BatchNormLoop();
    private final BatchNormBackwardLoop batchNormBackwardLoop = new BatchNormBackwardLoop();
    private final LrnLoop lrnLoop = new LrnLoop();

    CpuNormalization(CpuThreads threads, CpuKernels.Path path) {
        this(threads, path, null, 0);
    }

    /**
     * Kernels of one shard of a training step when {@code shards} is not null: batch norm's
     * training forward and backward then combine their per-channel sums with the other shard's
     * (see {@link #batchNormTraining} and {@link #batchNormBackward}).
     */
    CpuNormalization(CpuThreads threads, CpuKernels.Path path, CpuShards shards, int shard) {
        this.threads = threads;
        this.shards = shards;
        this.shard = shard;
        this.kernels = path.perWorker(threads.size());
        this.partials = new double[threads.size()][2 * CpuKernels.NORM_PARTIALS];
    }

    /** The sum of {@code acc[from + l]} for l in [0, NORM_PARTIALS), added to 0 in order. */
    private static double addPartials(double[] acc, int from) {
        double sum = 0;
        for (int l = 0; l < CpuKernels.NORM_PARTIALS; l++) sum += acc[from + l];
        return sum;
    }

    private int parts(long work) {
        return work < PARALLEL_MIN_WORK ? 1 : threads.size();
    }

    /**
     * Whether batch norm's backward runs over chunks of samples rather than over channels:
     * when a row (one sample's plane of one channel) is shorter than {@link #CHUNKED_MAX_INNER}
     * floats. A function of the shape alone, so the bits do not depend on the thread count.
     */
    static boolean sampleChunks(int outer, int inner) {
        return inner < CHUNKED_MAX_INNER && outer > 1;
    }

    /** Rows shorter than this (4 KiB) take the sample-chunk passes (see the class comment). */
    static final int CHUNKED_MAX_INNER = 1024;

    /** Most chunks of samples per pass: their sums are added per channel in chunk order. */
    static final int MAX_CHUNKS = 16;

    /**
     * Fewest floats of a channel's rows in one chunk: each chunk and channel is one kernel call,
     * whose fixed part (zeroing and adding its 2 x 16 partials in order, a serial chain of double
     * adds) outweighed two rows of 16 or 49 floats (the small ResNet's 4x4 and 7x7 maps at a
     * shard's 32 samples, chunks of 2). With 256 (chunks of 16 and 6 samples there), paired at
     * batch 32 on one thread: backward 1.36-1.51x on 7x7 and 4x4 with and without the relu, 14x14
     * (still chunks of 2) unchanged; in the training step (OpProfile, one thread) 1.39-1.59 ->
     * 1.10-1.23 ms of batch-norm backward. 1024 ran faster alone and slower in the step (1.32 ms).
     */
    static final int MIN_CHUNK_FLOATS = 256;

    /**
     * Samples per chunk: {@code ceil(outer / MAX_CHUNKS)}, and at least enough rows of {@code inner}
     * floats for {@link #MIN_CHUNK_FLOATS}; a function of the shape alone.
     */
    static int chunkSamples(int outer, int inner) {
        return Math.max(CpuGemm.ceilDiv(outer, MAX_CHUNKS), Math.min(outer, CpuGemm.ceilDiv(MIN_CHUNK_FLOATS, inner)));
    }

    /** Chunks of {@link #chunkSamples} samples in the batch. */
    static int chunks(int outer, int inner) {
        return CpuGemm.ceilDiv(outer, chunkSamples(outer, inner));
    }

    /** Makes room for {@code chunks x channels} pairs of sums (none on the per-channel pass) and the per-channel coefficients of dx. */
    private void growBackwardScratch(int chunks, int channels) {
        if (chunkSums.length < 2 * chunks * channels) chunkSums = new double[2 * chunks * channels];
        if (dxK.length < channels) {
            dxK = new float[channels];
            dxA = new float[channels];
            dxB = new float[channels];
        }
    }

    // ---- batch normalisation ------------------------------------------------------------

    /**
     * Training forward: per channel, batch mean and biased variance, saved as mean and
     * 1/sqrt(var + eps); running statistics updated with the unbiased variance. y may be x.
     *
     * <p>In a shard ({@link CpuShards}) the statistics are the whole batch's: each shard sums its
     * own rows about its own first value s_i (S_i, Q_i over m_i values), the two exchange them,
     * and each adds shard 1's to shard 0's about s_0, the whole batch's first value:
     * {@code S = S_0 + (S_1 + m_1 d)}, {@code Q = Q_0 + (Q_1 + 2 d S_1 + m_1 d^2)} with
     * {@code d = s_1 - s_0}, in double. Both shards get the same mean and variance; shard 0 alone
     * updates the running statistics.
     */
    void batchNormTraining(float[] x, float[] y, float[] gamma, float[] beta, float[] runningMean, float[] runningVar,
                           float[] saveMean, float[] saveInvStd, int outer, int channels, int inner, float eps, float momentum) {
        batchNormLoop.execute(true, false, x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps,
                momentum);
    }

    /**
     * Forward with a relu in its epilogue ({@code relu} true: y = max(batchnorm(x), 0), the relu
     * applied as each value is written, the same bits as the two ops), training or evaluation
     * statistics as {@link #batchNormTraining} / {@link #batchNormInference}.
     */
    void batchNormForward(boolean training, boolean relu, float[] x, float[] y, float[] gamma, float[] beta, float[] runningMean,
                          float[] runningVar, float[] saveMean, float[] saveInvStd, int outer, int channels, int inner, float eps,
                          float momentum) {
        batchNormLoop.execute(training, relu, x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner,
                eps, momentum);
    }

    /** Evaluation forward: y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta. y may be x. */
    void batchNormInference(float[] x, float[] y, float[] gamma, float[] beta, float[] runningMean, float[] runningVar,
                            int outer, int channels, int inner, float eps) {
        batchNormLoop.execute(false, false, x, y, gamma, beta, runningMean, runningVar, null, null, outer, channels, inner, eps, 0f);
    }

    /**
     * Training backward from the saved statistics, with xhat = (x - mean) * invStd and m = outer*inner:
     * dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma * invStd * (dy - dbeta/m - xhat * dgamma/m).
     * dgamma and dbeta may be null; dx may be dy.
     *
     * <p>In a shard ({@link CpuShards}) the sums are the whole batch's: each shard sums its own
     * rows (over chunks of samples, whatever the row length), the two exchange them and add shard
     * 1's to shard 0's; shard 0 writes dgamma and dbeta, shard 1 zeros (the engine adds the
     * shards' parameter gradients).
     */
    void batchNormBackward(float[] x, float[] dy, float[] gamma, float[] saveMean, float[] saveInvStd,
                           float[] dx, float[] dgamma, float[] dbeta, int outer, int channels, int inner) {
        batchNormBackwardLoop.execute(x, dy, null, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
    }

    /**
     * {@link #batchNormBackward} through the relu after the batch norm, from its output y: dy is
     * read as {@code y > 0 ? dy : 0} (what the relu's backward writes) both in the sums and in the
     * dx pass, so the same bits as the relu's backward followed by the plain backward, with no
     * buffer and no pass of its own. dx may be dy, not x or y.
     */
    void batchNormBackwardRelu(float[] x, float[] dy, float[] y, float[] gamma, float[] saveMean, float[] saveInvStd,
                               float[] dx, float[] dgamma, float[] dbeta, int outer, int channels, int inner) {
        batchNormBackwardLoop.execute(x, dy, y, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
    }

    /** Forward (training or evaluation statistics), one channel per task. */
    private final class BatchNormLoop implements CpuThreads.RangeTask, CpuShards.Deferred {
        private boolean training, relu;
        private float[] x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd;
        private int outer, channels, inner;
        private float eps, momentum;

        synchronized void execute(boolean training, boolean relu, float[] x, float[] y, float[] gamma, float[] beta, float[] runningMean,
                                  float[] runningVar, float[] saveMean, float[] saveInvStd, int outer, int channels, int inner,
                                  float eps, float momentum) {
            this.training = training;
            this.relu = relu;
            this.x = x;
            this.y = y;
            this.gamma = gamma;
            this.beta = beta;
            this.runningMean = runningMean;
            this.runningVar = runningVar;
            this.saveMean = saveMean;
            this.saveInvStd = saveInvStd;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            this.eps = eps;
            this.momentum = momentum;
            boolean deferred = false;
            try {
                if (training && shards != null) deferred = executeSharded();
                else threads.run(channels, parts((long) outer * inner * channels), this);
            } finally {
                if (!deferred) release();
            }
        }

        private void release() {
            this.x = this.y = this.gamma = this.beta = this.runningMean = this.runningVar = this.saveMean = this.saveInvStd = null;
        }

        /** 0: statistics and outputs per channel; 1: a shard's sums per channel; 2: a shard's outputs. */
        private int phase;

        /**
         * A shard's pass: its sums, the exchange, the whole batch's statistics, its outputs. Returns
         * true when the exchange deferred the rest ({@link CpuShards}, one thread: {@link #finish}
         * runs it in the other shard's call).
         */
        private boolean executeSharded() {
            if (shardSums.length < 3 * channels + 1) shardSums = new double[3 * channels + 1];
            if (dxK.length < channels) growBackwardScratch(0, channels);
            phase = 1;
            try {
                threads.run(channels, parts((long) outer * inner * channels), this);
            } finally {
                phase = 0;
            }
            shardSums[3 * channels] = outer;
            double[] theirs = shards.exchange(shard, shardSums, 3 * channels + 1, this);
            if (theirs == null) return true;
            normalizeSharded(theirs);
            return false;
        }

        @Override
        public synchronized void finish(double[] theirs) {
            try {
                normalizeSharded(theirs);
            } finally {
                release();
            }
        }

        /** The whole batch's statistics from this shard's sums and the other's ({@code theirs}), then this shard's outputs. */
        private void normalizeSharded(double[] theirs) {
            double[] a = shard == 0 ? shardSums : theirs, b = shard == 0 ? theirs : shardSums;
            double m0 = a[3 * channels] * inner, m1 = b[3 * channels] * inner, count = m0 + m1;
            for (int c = 0; c < channels; c++) {
                double s0 = a[3 * c], d = b[3 * c] - s0, sum1 = b[3 * c + 1];
                double sum = a[3 * c + 1] + (sum1 + m1 * d);
                double squares = a[3 * c + 2] + (b[3 * c + 2] + 2 * d * sum1 + m1 * d * d);
                dxK[c] = statistics(c, s0, sum, squares, count, shard == 0);   // phase 2's scale
            }
            phase = 2;
            try {
                threads.run(channels, parts((long) outer * inner * channels), this);
            } finally {
                phase = 0;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            CpuKernels kernels = CpuNormalization.this.kernels[worker];
            int stride = channels * inner;
            if (phase == 1) {
                double[] acc = partials[worker];
                for (int c = begin; c < end; c++) {
                    shardSums[3 * c] = channelSums(kernels, acc, c); // about this shard's first value of the channel
                    shardSums[3 * c + 1] = addPartials(acc, 0);
                    shardSums[3 * c + 2] = addPartials(acc, CpuKernels.NORM_PARTIALS);
                }
                return;
            }
            if (phase == 2) {
                for (int c = begin; c < end; c++) kernels.normChannelNormalize(x, y, c * inner, outer, stride, inner, saveMean[c], dxK[c], beta[c], relu);
                return;
            }
            for (int c = begin; c < end; c++) {
                if (!training) {
                    double invStd = 1.0 / Math.sqrt((double) runningVar[c] + eps);
                    kernels.normChannelNormalize(x, y, c * inner, outer, stride, inner, runningMean[c], (float) (invStd * gamma[c]), beta[c],
                            relu);
                    continue;
                }
                double[] acc = partials[worker];
                float shift = channelSums(kernels, acc, c);
                float scale = statistics(c, shift, addPartials(acc, 0), addPartials(acc, CpuKernels.NORM_PARTIALS), (double) outer * inner, true);
                kernels.normChannelNormalize(x, y, c * inner, outer, stride, inner, saveMean[c], scale, beta[c], relu);
            }
        }

        /**
         * Channel c's sums of {@code x - s} and its square over this call's rows, about its first
         * value s, left as partials in {@code acc}; returns s.
         */
        private float channelSums(CpuKernels kernels, double[] acc, int c) {
            float shift = x[c * inner];
            Arrays.fill(acc, 0.0);
            kernels.normChannelStatistics(x, c * inner, outer, channels * inner, inner, shift, acc);
            return shift;
        }

        /**
         * Channel c's mean and biased variance from its sums about {@code shift} over {@code count}
         * values, saved as mean and 1/sqrt(var + eps), the running statistics updated (with the
         * unbiased variance) when {@code updateRunning}; returns the outputs' scale, gamma / std.
         */
        private float statistics(int c, double shift, double sum, double squares, double count, boolean updateRunning) {
            double mean = shift + sum / count;
            double var = Math.max(0.0, (squares - sum * (sum / count)) / count);
            double invStd = 1.0 / Math.sqrt(var + eps);
            saveMean[c] = (float) mean;
            saveInvStd[c] = (float) invStd;
            if (updateRunning) {
                runningMean[c] = (float) ((1.0 - momentum) * runningMean[c] + momentum * mean);
                runningVar[c] = (float) ((1.0 - momentum) * runningVar[c] + momentum * var * count / (count - 1));
            }
            return (float) (invStd * gamma[c]);
        }
    }

    private final class BatchNormBackwardLoop implements CpuThreads.RangeTask, CpuShards.Deferred {
        private boolean chunked; // the two passes over chunks of samples; sums first, then dx
        private boolean sumsPass;
        private float[] x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta;
        private float[] reluOutput; // null: no relu; else dy is masked where it is not > 0
        private int outer, channels, inner;

        synchronized void execute(float[] x, float[] dy, float[] reluOutput, float[] gamma, float[] saveMean, float[] saveInvStd,
                                  float[] dx, float[] dgamma, float[] dbeta, int outer, int channels, int inner) {
            this.x = x;
            this.dy = dy;
            this.reluOutput = reluOutput;
            this.gamma = gamma;
            this.saveMean = saveMean;
            this.saveInvStd = saveInvStd;
            this.dx = dx;
            this.dgamma = dgamma;
            this.dbeta = dbeta;
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            boolean deferred = false;
            try {
                chunked = shards != null || sampleChunks(outer, inner);
                if (chunked) deferred = executeChunked();
                else {
                    growBackwardScratch(0, channels);
                    threads.run(channels, parts((long) outer * inner * channels), this);
                }
            } finally {
                if (!deferred) release();
            }
        }

        private void release() {
            this.x = this.dy = this.reluOutput = this.gamma = this.saveMean = this.saveInvStd = this.dx = this.dgamma = this.dbeta = null;
        }

        /**
         * The sums pass over chunks of samples, each channel's dbeta, dgamma and dx coefficients from
         * its chunks' sums (on this thread, in chunk order), then the dx pass: each worker gets the
         * same contiguous chunks both times, so the second pass finds much of its rows in its cache.
         * Returns true when a shard's exchange deferred the rest ({@link CpuShards}, one thread:
         * {@link #finish} runs it in the other shard's call).
         */
        private boolean executeChunked() {
            int chunks = chunks(outer, inner);
            growBackwardScratch(chunks, channels);
            sumsPass = true;
            threads.run(chunks, parts((long) outer * inner * channels), this);
            double[] sums = chunkSums;
            if (shards != null && shardSums.length < 2 * channels + 1) shardSums = new double[2 * channels + 1];
            for (int c = 0; c < channels; c++) {
                double sumDy = 0, sumDyCentred = 0;
                for (int k = 0; k < chunks; k++) {
                    sumDy += sums[2 * (k * channels + c)];
                    sumDyCentred += sums[2 * (k * channels + c) + 1];
                }
                if (shards != null) {
                    shardSums[2 * c] = sumDy;
                    shardSums[2 * c + 1] = sumDyCentred;
                } else {
                    finishChannel(c, sumDy, sumDyCentred, (long) outer * inner, true);
                }
            }
            if (shards != null) {
                // The whole batch's two sums per channel: shard 0's plus shard 1's (see batchNormBackward).
                shardSums[2 * channels] = outer;
                double[] theirs = shards.exchange(shard, shardSums, 2 * channels + 1, this);
                if (theirs == null) return true;       // finish runs the rest (CpuShards, one thread)
                finishSharded(theirs);
            }
            dxPass();
            return false;
        }

        @Override
        public synchronized void finish(double[] theirs) {
            try {
                finishSharded(theirs);
                dxPass();
            } finally {
                release();
            }
        }

        /** Each channel's coefficients from the whole batch's two sums: this shard's plus the other's ({@code theirs}). */
        private void finishSharded(double[] theirs) {
            double[] a = shard == 0 ? shardSums : theirs, b = shard == 0 ? theirs : shardSums;
            long count = (long) (a[2 * channels] + b[2 * channels]) * inner;
            for (int c = 0; c < channels; c++) finishChannel(c, a[2 * c] + b[2 * c], a[2 * c + 1] + b[2 * c + 1], count, shard == 0);
        }

        /** The dx pass over the same chunks of samples as the sums pass. */
        private void dxPass() {
            int chunks = chunks(outer, inner);
            sumsPass = false;
            threads.run(chunks, parts((long) outer * inner * channels), this);
        }

        /**
         * Channel c's dbeta = sum(dy) and dgamma = sum(dy * xhat) (where wanted; zero unless
         * {@code ownsGradients}: shard 1 of a step leaves them to shard 0) from its two sums over
         * {@code count} values, and its dx coefficients: dx = k * (dy - a - (x - mean) * b) with
         * k, a, b in dxK, dxA, dxB, the xhat term folded into b.
         */
        private void finishChannel(int c, double sumDy, double sumDyCentred, long count, boolean ownsGradients) {
            float invStd = saveInvStd[c];
            double sumDyXhat = sumDyCentred * invStd;
            if (dbeta != null) dbeta[c] = ownsGradients ? (float) sumDy : 0f;
            if (dgamma != null) dgamma[c] = ownsGradients ? (float) sumDyXhat : 0f;
            dxK[c] = gamma[c] * invStd;
            dxA[c] = (float) (sumDy / count);
            dxB[c] = (float) (sumDyXhat / count * invStd);
        }

        @Override
        public void run(int worker, int begin, int end) {
            if (chunked) runChunks(worker, begin, end);
            else runChannels(worker, begin, end);
        }

        /** Chunks [begin, end) of {@link #chunkSamples} samples: every channel's two sums, or its dx. */
        private void runChunks(int worker, int begin, int end) {
            float[] x = this.x, dy = this.dy, dx = this.dx, r = this.reluOutput;
            CpuKernels kernels = CpuNormalization.this.kernels[worker];
            int stride = channels * inner, per = chunkSamples(outer, inner);
            double[] acc = partials[worker];
            for (int k = begin; k < end; k++) {
                int n0 = k * per, rows = Math.min(per, outer - n0);
                for (int c = 0; c < channels; c++) {
                    int base = n0 * stride + c * inner;
                    if (!sumsPass) {
                        kernels.normChannelDx(x, dy, r, dx, base, rows, stride, inner, saveMean[c], dxK[c], dxA[c], dxB[c]);
                        continue;
                    }
                    Arrays.fill(acc, 0.0);
                    kernels.normChannelBackwardSums(x, dy, r, base, rows, stride, inner, saveMean[c], acc);
                    chunkSums[2 * (k * channels + c)] = addPartials(acc, 0);
                    chunkSums[2 * (k * channels + c) + 1] = addPartials(acc, CpuKernels.NORM_PARTIALS);
                }
            }
        }

        /** Channels [begin, end), each whole: its sums, then its dx. */
        private void runChannels(int worker, int begin, int end) {
            float[] x = this.x, dy = this.dy, dx = this.dx, r = this.reluOutput;
            CpuKernels kernels = CpuNormalization.this.kernels[worker];
            int stride = channels * inner;
            for (int c = begin; c < end; c++) {
                float mean = saveMean[c];
                double[] acc = partials[worker]; // sums of dy, then of dy * (x - mean)
                Arrays.fill(acc, 0.0);
                kernels.normChannelBackwardSums(x, dy, r, c * inner, outer, stride, inner, mean, acc);
                finishChannel(c, addPartials(acc, 0), addPartials(acc, CpuKernels.NORM_PARTIALS), (long) outer * inner, true);
                kernels.normChannelDx(x, dy, r, dx, c * inner, outer, stride, inner, mean, dxK[c], dxA[c], dxB[c]);
            }
        }
    }

    // ---- local response normalisation ---------------------------------------------------

    /** scale = k + alpha/size * (sum of squares over the channel window); y = x * scale^-beta. */
    void lrnForward(float[] x, float[] y, float[] scale, int batch, int channels, int inner,
                    int size, float alpha, float beta, float k) {
        lrnLoop.execute(false, x, y, scale, null, null, batch, channels, inner, size, alpha, beta, k);
    }

    /** dx_j = dy_j * s_j^-beta - (2 alpha beta / size) * x_j * sum over c with j in window(c) of dy_c * y_c / s_c. */
    void lrnBackward(float[] x, float[] y, float[] scale, float[] dy, float[] dx, int batch, int channels, int inner,
                     int size, float alpha, float beta) {
        lrnLoop.execute(true, x, y, scale, dy, dx, batch, channels, inner, size, alpha, beta, 0f);
    }

    /** LRN forward or backward, one (n, c) plane per task. */
    private final class LrnLoop implements CpuThreads.RangeTask {
        private boolean backward;
        private float[] x, y, scale, dy, dx;
        private int channels, inner, size;
        private float alpha, beta, k;

        synchronized void execute(boolean backward, float[] x, float[] y, float[] scale, float[] dy, float[] dx,
                                  int batch, int channels, int inner, int size, float alpha, float beta, float k) {
            this.backward = backward;
            this.x = x;
            this.y = y;
            this.scale = scale;
            this.dy = dy;
            this.dx = dx;
            this.channels = channels;
            this.inner = inner;
            this.size = size;
            this.alpha = alpha;
            this.beta = beta;
            this.k = k;
            try {
                threads.run(batch * channels, parts((long) batch * channels * inner * size), this);
            } finally {
                this.x = this.y = this.scale = this.dy = this.dx = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            if (backward) backwardPlanes(begin, end);
            else forwardPlanes(begin, end);
        }

        private void forwardPlanes(int begin, int end) {
            float[] x = this.x, y = this.y, scale = this.scale;
            float alphaOverSize = alpha / size;
            for (int plane = begin; plane < end; plane++) {
                int n = plane / channels, c = plane % channels;
                int row = plane * inner;
                // The window of channel c is [c - size/2, c + (size-1)/2], clipped to the channels.
                int lo = Math.max(0, c - size / 2), hi = Math.min(channels - 1, c + (size - 1) / 2);
                for (int i = 0; i < inner; i++) scale[row + i] = 0f;
                for (int cc = lo; cc <= hi; cc++) {
                    int from = (n * channels + cc) * inner;
                    for (int i = 0; i < inner; i++) {
                        float v = x[from + i];
                        scale[row + i] += v * v;
                    }
                }
                for (int i = row; i < row + inner; i++) {
                    float s = k + alphaOverSize * scale[i];
                    scale[i] = s;
                    y[i] = x[i] * powNeg(s, beta);
                }
            }
        }

        private void backwardPlanes(int begin, int end) {
            float[] x = this.x, y = this.y, scale = this.scale, dy = this.dy, dx = this.dx;
            float coefficient = 2f * alpha * beta / size;
            for (int plane = begin; plane < end; plane++) {
                int n = plane / channels, j = plane % channels;
                int row = plane * inner;
                // Channel j lies in window(c) iff c - size/2 <= j <= c + (size-1)/2: the mirror image
                // of the forward window, which differs from it when size is even.
                int lo = Math.max(0, j - (size - 1) / 2), hi = Math.min(channels - 1, j + size / 2);
                for (int i = 0; i < inner; i++) dx[row + i] = 0f;
                for (int c = lo; c <= hi; c++) {
                    int from = (n * channels + c) * inner;
                    for (int i = 0; i < inner; i++) dx[row + i] += dy[from + i] * y[from + i] / scale[from + i];
                }
                for (int i = row; i < row + inner; i++) dx[i] = dy[i] * powNeg(scale[i], beta) - coefficient * x[i] * dx[i];
            }
        }
    }

    /**
     * s^-beta, rounded once from double. AlexNet's beta 0.75 (and 0.5, 1) take square roots,
     * which are exact-rounded and several times faster than {@link Math#pow}.
     */
    static float powNeg(float s, float beta) {
        double v = s;
        if (beta == 0.75f) return (float) (1.0 / (Math.sqrt(v) * Math.sqrt(Math.sqrt(v))));
        if (beta == 0.5f) return (float) (1.0 / Math.sqrt(v));
        if (beta == 1f) return (float) (1.0 / v);
        return (float) Math.pow(v, -beta);
    }
}
