package org.neurite.backend.cpu;

import static org.neurite.backend.cpu.CpuElementwise.sigmoid;

/**
 * The point-wise part of one LSTM or GRU time step, PyTorch's gate orders (LSTM i, f, g, o;
 * GRU r, z, n). The GEMMs that produce the pre-activations run elsewhere; these kernels apply the
 * gate non-linearities, update the state and, backward, turn dL/dh (and dL/dc) into gradients
 * with respect to the pre-activations, which the caller feeds to the weight GEMMs.
 *
 * <p>Every tensor is a slice at an offset: gate blocks are [batch, 4H] or [batch, 3H] rows,
 * states [batch, H] rows. Work splits over batch rows (one row per task, each element written
 * once), so results are bit-identical for any thread count. The LSTM computes σ and tanh in
 * float ({@link CpuFloatExp}: its forward's five per element were most of the row LSTM's inference
 * time in double), vectorised by {@link CpuKernels} with the same bits on either path; its
 * backward reads tanh(c) the same way. The GRU computes them as the {@code unary} ops do (in
 * double, rounded once), so a GRU step and the same step spelled out with unary ops agree. Each
 * step is a reusable {@link CpuThreads.RangeTask} holding its arguments, so a call allocates nothing.
 */
final class CpuRecurrentCells {
    /** Gate non-linearities cost tens of cycles each, so a few thousand elements already pay for a second thread. */
    private static final long PARALLEL_MIN = 1L << 12;

    private final CpuThreads threads;
    /** One per worker: the LSTM's gate non-linearities. */
    private final CpuKernels[] kernels;
    private final LstmForwardLoop lstmForwardLoop = new LstmForwardLoop();
    private final LstmBackwardLoop lstmBackwardLoop = new LstmBackwardLoop();
    private final GruForwardLoop gruForwardLoop = new GruForwardLoop();
    private final GruBackwardLoop gruBackwardLoop = new GruBackwardLoop();

    CpuRecurrentCells(CpuThreads threads, CpuKernels.Path path) {
        this.threads = threads;
        this.kernels = path.perWorker(threads.size());
    }

    private int parts(int batch, int hidden) {
        return (long) batch * hidden < PARALLEL_MIN ? 1 : threads.size();
    }

    /**
     * gates (pre-activations, overwritten by σ(i), σ(f), tanh(g), σ(o)); c = f*cPrev + i*g;
     * h = o*tanh(c). c may be cPrev's slice (an in-place state update).
     */
    void lstmForward(float[] gates, int go, float[] cPrev, int cpo, float[] c, int co, float[] h, int ho, int batch, int hidden) {
        lstmForwardLoop.execute(gates, go, cPrev, cpo, c, co, h, ho, batch, hidden);
    }

    /**
     * From the saved activations, cPrev and c: with tc = tanh(c) and dct = dc + dh*o*(1 - tc²),
     * dGates = [dct*g*i(1-i), dct*cPrev*f(1-f), dct*i*(1-g²), dh*tc*o(1-o)] and dc becomes dct*f
     * (dL/dc_{t-1}).
     */
    void lstmBackward(float[] gates, int go, float[] cPrev, int cpo, float[] c, int co, float[] dh, int dho,
                      float[] dc, int dco, float[] dGates, int dgo, int batch, int hidden) {
        lstmBackwardLoop.execute(gates, go, cPrev, cpo, c, co, dh, dho, dc, dco, dGates, dgo, batch, hidden);
    }

    /**
     * r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r*gh_n), h = (1-z)*n + z*hPrev;
     * saved = [r, z, n]. h may be hPrev's slice.
     */
    void gruForward(float[] gi, int gio, float[] gh, int gho, float[] hPrev, int hpo, float[] h, int ho,
                    float[] saved, int so, int batch, int hidden) {
        gruForwardLoop.execute(gi, gio, gh, gho, hPrev, hpo, h, ho, saved, so, batch, hidden);
    }

    /**
     * With dn = dh*(1-z)*(1-n²): dGi = [dn*gh_n*r(1-r), dh*(hPrev-n)*z(1-z), dn], dGh = dGi except
     * its n block, dn*r; dhPrev = dh*z (the direct path; the recurrent GEMM adds the rest).
     * dhPrev may be dh's slice.
     */
    void gruBackward(float[] saved, int so, float[] gh, int gho, float[] hPrev, int hpo, float[] dh, int dho,
                     float[] dGi, int dgio, float[] dGh, int dgho, float[] dhPrev, int dhpo, int batch, int hidden) {
        gruBackwardLoop.execute(saved, so, gh, gho, hPrev, hpo, dh, dho, dGi, dgio, dGh, dgho, dhPrev, dhpo, batch, hidden);
    }

    private final class LstmForwardLoop implements CpuThreads.RangeTask {
        private float[] gates, cPrev, c, h;
        private int go, cpo, co, ho, hidden;

        synchronized void execute(float[] gates, int go, float[] cPrev, int cpo, float[] c, int co, float[] h, int ho, int batch, int hidden) {
            this.gates = gates;
            this.go = go;
            this.cPrev = cPrev;
            this.cpo = cpo;
            this.c = c;
            this.co = co;
            this.h = h;
            this.ho = ho;
            this.hidden = hidden;
            try {
                threads.run(batch, parts(batch, hidden), this);
            } finally {
                this.gates = this.cPrev = this.c = this.h = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] gates = this.gates, cPrev = this.cPrev, c = this.c, h = this.h;
            int go = this.go, cpo = this.cpo, co = this.co, ho = this.ho, hidden = this.hidden;
            CpuKernels k = kernels[worker];
            for (int b = begin; b < end; b++) {
                int g0 = go + b * 4 * hidden, cp0 = cpo + b * hidden, c0 = co + b * hidden, h0 = ho + b * hidden;
                // The non-linearities block by block (σ over i and f together), then the state.
                k.sigmoidInPlace(gates, g0, g0 + 2 * hidden);
                k.tanhInPlace(gates, g0 + 2 * hidden, g0 + 3 * hidden);
                k.sigmoidInPlace(gates, g0 + 3 * hidden, g0 + 4 * hidden);
                for (int j = 0; j < hidden; j++) {
                    float cell = gates[g0 + hidden + j] * cPrev[cp0 + j] + gates[g0 + j] * gates[g0 + 2 * hidden + j];
                    c[c0 + j] = cell;
                    h[h0 + j] = cell;
                }
                k.tanhInPlace(h, h0, h0 + hidden);
                for (int j = 0; j < hidden; j++) h[h0 + j] = gates[g0 + 3 * hidden + j] * h[h0 + j];
            }
        }
    }

    private final class LstmBackwardLoop implements CpuThreads.RangeTask {
        /** Per worker, grow-only (created on first use, after the constructor has set the kernels): tanh(c) of the batch row in hand. */
        private float[][] tanhC;
        private float[] gates, cPrev, c, dh, dc, dGates;
        private int go, cpo, co, dho, dco, dgo, hidden;

        synchronized void execute(float[] gates, int go, float[] cPrev, int cpo, float[] c, int co, float[] dh, int dho,
                                  float[] dc, int dco, float[] dGates, int dgo, int batch, int hidden) {
            this.gates = gates;
            this.go = go;
            this.cPrev = cPrev;
            this.cpo = cpo;
            this.c = c;
            this.co = co;
            this.dh = dh;
            this.dho = dho;
            this.dc = dc;
            this.dco = dco;
            this.dGates = dGates;
            this.dgo = dgo;
            this.hidden = hidden;
            if (tanhC == null) tanhC = new float[kernels.length][0];
            try {
                threads.run(batch, parts(batch, hidden), this);
            } finally {
                this.gates = this.cPrev = this.c = this.dh = this.dc = this.dGates = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] gates = this.gates, cPrev = this.cPrev, c = this.c, dh = this.dh, dc = this.dc, dGates = this.dGates;
            int go = this.go, cpo = this.cpo, co = this.co, dho = this.dho, dco = this.dco, dgo = this.dgo, hidden = this.hidden;
            if (tanhC[worker].length < hidden) tanhC[worker] = new float[hidden];
            float[] tanhRow = tanhC[worker];
            for (int b = begin; b < end; b++) {
                int g0 = b * 4 * hidden, s0 = b * hidden;
                // tanh(c) of the row as forward computed it, vectorised into this worker's scratch
                System.arraycopy(c, co + s0, tanhRow, 0, hidden);
                kernels[worker].tanhInPlace(tanhRow, 0, hidden);
                for (int j = 0; j < hidden; j++) {
                    int gi = g0 + j, gf = gi + hidden, gg = gf + hidden, gOut = gg + hidden;
                    float i = gates[go + gi], f = gates[go + gf], g = gates[go + gg], o = gates[go + gOut];
                    float tc = tanhRow[j];
                    float dhj = dh[dho + s0 + j];
                    float dct = dc[dco + s0 + j] + dhj * o * (1f - tc * tc);
                    dGates[dgo + gi] = dct * g * i * (1f - i);
                    dGates[dgo + gf] = dct * cPrev[cpo + s0 + j] * f * (1f - f);
                    dGates[dgo + gg] = dct * i * (1f - g * g);
                    dGates[dgo + gOut] = dhj * tc * o * (1f - o);
                    dc[dco + s0 + j] = dct * f;
                }
            }
        }
    }

    private final class GruForwardLoop implements CpuThreads.RangeTask {
        private float[] gi, gh, hPrev, h, saved;
        private int gio, gho, hpo, ho, so, hidden;

        synchronized void execute(float[] gi, int gio, float[] gh, int gho, float[] hPrev, int hpo, float[] h, int ho,
                                  float[] saved, int so, int batch, int hidden) {
            this.gi = gi;
            this.gio = gio;
            this.gh = gh;
            this.gho = gho;
            this.hPrev = hPrev;
            this.hpo = hpo;
            this.h = h;
            this.ho = ho;
            this.saved = saved;
            this.so = so;
            this.hidden = hidden;
            try {
                threads.run(batch, parts(batch, hidden), this);
            } finally {
                this.gi = this.gh = this.hPrev = this.h = this.saved = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] gi = this.gi, gh = this.gh, hPrev = this.hPrev, h = this.h, saved = this.saved;
            int gio = this.gio, gho = this.gho, hpo = this.hpo, ho = this.ho, so = this.so, hidden = this.hidden;
            for (int b = begin; b < end; b++) {
                int g0 = b * 3 * hidden, s0 = b * hidden;
                for (int j = 0; j < hidden; j++) {
                    int ir = g0 + j, iz = ir + hidden, in = iz + hidden;
                    float r = sigmoid(gi[gio + ir] + gh[gho + ir]);
                    float z = sigmoid(gi[gio + iz] + gh[gho + iz]);
                    float n = (float) Math.tanh(gi[gio + in] + r * gh[gho + in]);
                    saved[so + ir] = r;
                    saved[so + iz] = z;
                    saved[so + in] = n;
                    h[ho + s0 + j] = (1f - z) * n + z * hPrev[hpo + s0 + j];
                }
            }
        }
    }

    private final class GruBackwardLoop implements CpuThreads.RangeTask {
        private float[] saved, gh, hPrev, dh, dGi, dGh, dhPrev;
        private int so, gho, hpo, dho, dgio, dgho, dhpo, hidden;

        synchronized void execute(float[] saved, int so, float[] gh, int gho, float[] hPrev, int hpo, float[] dh, int dho,
                                  float[] dGi, int dgio, float[] dGh, int dgho, float[] dhPrev, int dhpo, int batch, int hidden) {
            this.saved = saved;
            this.so = so;
            this.gh = gh;
            this.gho = gho;
            this.hPrev = hPrev;
            this.hpo = hpo;
            this.dh = dh;
            this.dho = dho;
            this.dGi = dGi;
            this.dgio = dgio;
            this.dGh = dGh;
            this.dgho = dgho;
            this.dhPrev = dhPrev;
            this.dhpo = dhpo;
            this.hidden = hidden;
            try {
                threads.run(batch, parts(batch, hidden), this);
            } finally {
                this.saved = this.gh = this.hPrev = this.dh = this.dGi = this.dGh = this.dhPrev = null;
            }
        }

        @Override
        public void run(int worker, int begin, int end) {
            float[] saved = this.saved, gh = this.gh, hPrev = this.hPrev, dh = this.dh, dGi = this.dGi, dGh = this.dGh, dhPrev = this.dhPrev;
            int so = this.so, gho = this.gho, hpo = this.hpo, dho = this.dho, dgio = this.dgio, dgho = this.dgho, dhpo = this.dhpo;
            int hidden = this.hidden;
            for (int b = begin; b < end; b++) {
                int g0 = b * 3 * hidden, s0 = b * hidden;
                for (int j = 0; j < hidden; j++) {
                    int ir = g0 + j, iz = ir + hidden, in = iz + hidden;
                    float r = saved[so + ir], z = saved[so + iz], n = saved[so + in];
                    float dhj = dh[dho + s0 + j];
                    float dn = dhj * (1f - z) * (1f - n * n);
                    float dr = dn * gh[gho + in] * r * (1f - r);
                    float dz = dhj * (hPrev[hpo + s0 + j] - n) * z * (1f - z);
                    dGi[dgio + ir] = dr;
                    dGi[dgio + iz] = dz;
                    dGi[dgio + in] = dn;
                    dGh[dgho + ir] = dr;
                    dGh[dgho + iz] = dz;
                    dGh[dgho + in] = dn * r;
                    dhPrev[dhpo + s0 + j] = dhj * z;
                }
            }
        }
    }
}
