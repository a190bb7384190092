// The point-wise part of one LSTM step (gates i, f, g, o) and one GRU step (r, z, n), forward and
// backward, PyTorch's gate orders, one work-item per (batch row, hidden unit); and, at the end, the
// LSTM and GRU steps fused with their recurrent products (lstm_step_forward, gru_step_forward and
// their blocked forms for CPU devices). Every tensor is a
// slice at an offset: gate blocks [batch, 4H] / [batch, 3H], states [batch, H]. Each item reads
// and writes only its own unit, so c may be cPrev's slice and h may be hPrev's (in place).

// The LSTM cell of one (batch row, hidden unit) from its four pre-activations pi, pf, pg, po: the
// activations sigma(i), sigma(f), tanh(g), sigma(o) go to gates[gi + q*hidden] (q = 0..3), then
// c = f*cPrev + i*g and h = o*tanh(c) to c[ci] and h[hi]. The one cell both forward kernels run.
inline void lstm_cell_store(float pi, float pf, float pg, float po, __global float* gates, int gi, int hidden,
                            float cPrevValue, __global float* c, int ci, __global float* h, int hi) {
    float i = sigmoidf(pi), f = sigmoidf(pf), g = tanh(pg), o = sigmoidf(po);
    gates[gi] = i;
    gates[gi + hidden] = f;
    gates[gi + 2 * hidden] = g;
    gates[gi + 3 * hidden] = o;
    float cell = f * cPrevValue + i * g;
    c[ci] = cell;
    h[hi] = o * tanh(cell);
}

// gates (pre-activations) become sigma(i), sigma(f), tanh(g), sigma(o); c = f*cPrev + i*g; h = o*tanh(c).
__kernel void lstm_cell_forward(__global float* gates, int go, __global const float* cPrev, int cpo,
                                __global float* c, int co, __global float* h, int ho, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int gi = go + b * 4 * hidden + j;
    lstm_cell_store(gates[gi], gates[gi + hidden], gates[gi + 2 * hidden], gates[gi + 3 * hidden], gates, gi, hidden,
                    cPrev[cpo + idx], c, co + idx, h, ho + idx);
}

// With tc = tanh(c), dct = dc + dh*o*(1-tc^2): dGates = [dct*g*i(1-i), dct*cPrev*f(1-f), dct*i*(1-g^2),
// dh*tc*o(1-o)]; dc becomes dct*f (dL/dc_{t-1}).
__kernel void lstm_cell_backward(__global const float* gates, int go, __global const float* cPrev, int cpo,
                                 __global const float* c, int co, __global const float* dh, int dho,
                                 __global float* dc, int dco, __global float* dGates, int dgo, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int gi = b * 4 * hidden + j, gf = gi + hidden, gg = gf + hidden, gout = gg + hidden;
    float i = gates[go + gi], f = gates[go + gf], g = gates[go + gg], o = gates[go + gout];
    float tc = tanh(c[co + idx]);
    float dhj = dh[dho + idx];
    float dct = dc[dco + idx] + dhj * o * (1.0f - tc * tc);
    dGates[dgo + gi] = dct * g * i * (1.0f - i);
    dGates[dgo + gf] = dct * cPrev[cpo + idx] * f * (1.0f - f);
    dGates[dgo + gg] = dct * i * (1.0f - g * g);
    dGates[dgo + gout] = dhj * tc * o * (1.0f - o);
    dc[dco + idx] = dct * f;
}

// The GRU cell of one (batch row, hidden unit) from its input and recurrent pre-activations:
// r = sigma(ir + hr), z = sigma(iz + hz), n = tanh(in + r*hn) to saved[si + q*hidden] (q = 0..2),
// h = (1-z)*n + z*hPrev to h[hi]. The one cell both scalar forward kernels run.
inline void gru_cell_store(float ir, float iz, float in, float hr, float hz, float hn, float hPrevValue,
                           __global float* saved, int si, int hidden, __global float* h, int hi) {
    float r = sigmoidf(ir + hr);
    float z = sigmoidf(iz + hz);
    float nn = tanh(in + r * hn);
    saved[si] = r;
    saved[si + hidden] = z;
    saved[si + 2 * hidden] = nn;
    h[hi] = (1.0f - z) * nn + z * hPrevValue;
}

// r = sigma(gi_r + gh_r), z = sigma(gi_z + gh_z), n = tanh(gi_n + r*gh_n), h = (1-z)*n + z*hPrev; saved = [r, z, n].
__kernel void gru_cell_forward(__global const float* gi, int gio, __global const float* gh, int gho,
                               __global const float* hPrev, int hpo, __global float* h, int ho,
                               __global float* saved, int so, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int ir = b * 3 * hidden + j, iz = ir + hidden, in = iz + hidden;
    gru_cell_store(gi[gio + ir], gi[gio + iz], gi[gio + in], gh[gho + ir], gh[gho + iz], gh[gho + in], hPrev[hpo + idx],
                   saved, so + ir, hidden, h, ho + idx);
}

// dn = dh*(1-z)*(1-n^2); dGi = [dn*gh_n*r(1-r), dh*(hPrev-n)*z(1-z), dn]; dGh = dGi but dn*r in its n block;
// dhPrev = dh*z (the direct path; the recurrent GEMM adds the rest). dhPrev may be dh's slice.
__kernel void gru_cell_backward(__global const float* saved, int so, __global const float* gh, int gho,
                                __global const float* hPrev, int hpo, __global const float* dh, int dho,
                                __global float* dGi, int dgio, __global float* dGh, int dgho,
                                __global float* dhPrev, int dhpo, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int ir = b * 3 * hidden + j, iz = ir + hidden, in = iz + hidden;
    float r = saved[so + ir], z = saved[so + iz], nn = saved[so + in];
    float dhj = dh[dho + idx];
    float dn = dhj * (1.0f - z) * (1.0f - nn * nn);
    float dr = dn * gh[gho + in] * r * (1.0f - r);
    float dz = dhj * (hPrev[hpo + idx] - nn) * z * (1.0f - z);
    dGi[dgio + ir] = dr;
    dGi[dgio + iz] = dz;
    dGi[dgio + in] = dn;
    dGh[dgho + ir] = dr;
    dGh[dgho + iz] = dz;
    dGh[dgho + in] = dn * r;
    dhPrev[dhpo + idx] = dhj * z;
}

// One LSTM step with its recurrent product, in one launch:
//   gates[b, q*H + j] += sum_k hPrev[b, k] * w[q*H + j, k]   (q = i, f, g, o; w is W_hh [4H, H], rows ldw apart;
//                                                             hPrev [batch, H], rows ldh apart)
// then the cell as lstm_cell_forward: a GEMM tile whose columns are the four gate columns j, H+j,
// 2H+j, 3H+j of the same hidden units holds all the cell of those units needs, so the cell runs
// in registers after the product and no other work-item reads what one writes (c may be cPrev's
// slice). Two kernels, as for the SGEMM (ClRecurrentCells picks by the device's SGEMM tuning).

// For GPUs: a work-item owns hidden unit j of LSTM_STEP_ROWS batch rows, its 4 x 4 sums (rows x
// gates) in float4 partial sums along the contiguous rows of hPrev and W_hh (k four at a time,
// folded at the end, the last hidden % 4 terms in scalar sums). Rows past the batch read the last
// row (no branch in the loop) and store nothing. Work-items (hidden rounded up to the group,
// ceil(batch / LSTM_STEP_ROWS)).
#define LSTM_STEP_ROWS 4
__kernel void lstm_step_forward(__global const float* hPrev, int hpo, int ldh, __global const float* w, int wo, int ldw,
                                __global float* gates, int go, __global const float* cPrev, int cpo,
                                __global float* c, int co, __global float* h, int ho, int batch, int hidden) {
    int j = get_global_id(0), b0 = get_global_id(1) * LSTM_STEP_ROWS;
    if (j >= hidden || b0 >= batch) return;
    int last = batch - 1 - b0;
    __global const float* hr[LSTM_STEP_ROWS];
    __global const float* wr[4];
    for (int r = 0; r < LSTM_STEP_ROWS; r++) hr[r] = hPrev + hpo + (b0 + min(r, last)) * ldh;
    for (int q = 0; q < 4; q++) wr[q] = w + wo + (q * hidden + j) * ldw;
    float4 acc[LSTM_STEP_ROWS][4];
    for (int r = 0; r < LSTM_STEP_ROWS; r++)
        for (int q = 0; q < 4; q++) acc[r][q] = (float4) 0.0f;
    int k = 0;
    for (; k + 4 <= hidden; k += 4) {
        float4 wv[4], hv[LSTM_STEP_ROWS];
        for (int q = 0; q < 4; q++) wv[q] = vload4(0, wr[q] + k);
        for (int r = 0; r < LSTM_STEP_ROWS; r++) hv[r] = vload4(0, hr[r] + k);
        for (int r = 0; r < LSTM_STEP_ROWS; r++)
            for (int q = 0; q < 4; q++) acc[r][q] += hv[r] * wv[q];
    }
    float sum[LSTM_STEP_ROWS][4];
    for (int r = 0; r < LSTM_STEP_ROWS; r++)
        for (int q = 0; q < 4; q++) sum[r][q] = (acc[r][q].s0 + acc[r][q].s1) + (acc[r][q].s2 + acc[r][q].s3);
    for (; k < hidden; k++) {
        for (int r = 0; r < LSTM_STEP_ROWS; r++)
            for (int q = 0; q < 4; q++) sum[r][q] += hr[r][k] * wr[q][k];
    }
    for (int r = 0; r < LSTM_STEP_ROWS && r <= last; r++) {
        int b = b0 + r;
        int gi = go + b * 4 * hidden + j;
        lstm_cell_store(gates[gi] + sum[r][0], gates[gi + hidden] + sum[r][1], gates[gi + 2 * hidden] + sum[r][2],
                        gates[gi + 3 * hidden] + sum[r][3], gates, gi, hidden, cPrev[cpo + b * hidden + j], c,
                        co + b * hidden + j, h, ho + b * hidden + j);
    }
}

// The blocked step kernels' copy of one K slice of W_hh (rows ldw apart) into a private buffer
// [kn][gates * 4]: column q*4 + jj is row q*hidden + u0 + jj (gate q of unit u0 + jj; units past
// hidden read the last), elements k0 .. k0+kn-1.
inline void gate_rows_to_private(float* wt, __global const float* w, int ldw, int hidden, int u0, int k0, int kn, int gates) {
    int width = gates * 4;
    for (int col = 0; col < width; col++) {
        int unit = min(u0 + (col & 3), hidden - 1);
        __global const float* src = w + ((col >> 2) * hidden + unit) * ldw + k0;
        for (int kk = 0; kk < kn; kk++) wt[kk * width + col] = src[kk];
    }
}

// For CPU devices (PoCL), as sgemm_blocked: a work-item owns 4 hidden units u0..u0+3, i.e. 16 gate
// columns (column q*4 + jj is gate q of unit u0 + jj), for LSTM_BLK_ROWS batch rows. K is walked in
// slices of LSTM_BLK_K; per slice the item copies its 16 rows of W_hh into a private buffer
// [k][16] (the transposition done there: one float16 load per k afterwards), then each batch row
// adds h[b, k] * that float16 down the slice, four rows at a time for independent sums. The
// partial sums stay in a private float16 per row until the cell. Units past hidden read the last
// unit and store nothing. Work-items (ceil(hidden / 4) rounded up to the group, ceil(batch / LSTM_BLK_ROWS)).
#define LSTM_BLK_K 128
#define LSTM_BLK_ROWS 64
__kernel void lstm_step_forward_blocked(__global const float* hPrev, int hpo, int ldh, __global const float* w, int wo, int ldw,
                                        __global float* gates, int go, __global const float* cPrev, int cpo,
                                        __global float* c, int co, __global float* h, int ho, int batch, int hidden) {
    int u0 = get_global_id(0) * 4, b0 = get_global_id(1) * LSTM_BLK_ROWS;
    if (u0 >= hidden || b0 >= batch) return;
    int rows = min(LSTM_BLK_ROWS, batch - b0);
    float wt[LSTM_BLK_K * 16];
    float16 part[LSTM_BLK_ROWS];
    for (int r = 0; r < LSTM_BLK_ROWS; r++) part[r] = (float16) 0.0f;
    __global const float* hp = hPrev + hpo + b0 * ldh;
    for (int k0 = 0; k0 < hidden; k0 += LSTM_BLK_K) {
        int kn = min(LSTM_BLK_K, hidden - k0);
        gate_rows_to_private(wt, w + wo, ldw, hidden, u0, k0, kn, 4);
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            __global const float* h0 = hp + r * ldh + k0;
            __global const float* h1 = h0 + ldh;
            __global const float* h2 = h1 + ldh;
            __global const float* h3 = h2 + ldh;
            float16 s0 = part[r], s1 = part[r + 1], s2 = part[r + 2], s3 = part[r + 3];
            for (int kk = 0; kk < kn; kk++) {
                float16 wv = vload16(kk, wt);
                s0 += h0[kk] * wv;
                s1 += h1[kk] * wv;
                s2 += h2[kk] * wv;
                s3 += h3[kk] * wv;
            }
            part[r] = s0;
            part[r + 1] = s1;
            part[r + 2] = s2;
            part[r + 3] = s3;
        }
        for (; r < rows; r++) {
            __global const float* h0 = hp + r * ldh + k0;
            float16 s0 = part[r];
            for (int kk = 0; kk < kn; kk++) s0 += h0[kk] * vload16(kk, wt);
            part[r] = s0;
        }
    }
    // The cell four units at a time (vector exp and tanh: the transcendental functions cost more
    // than the product here), the same operations as lstm_cell_store; units past hidden not stored.
    bool whole = u0 + 4 <= hidden;
    for (int r = 0; r < rows; r++) {
        int b = b0 + r, gi = go + b * 4 * hidden + u0, si = b * hidden + u0;
        float16 pre;
        float4 cp;
        if (whole) {
            pre = (float16) (vload4(0, gates + gi), vload4(0, gates + gi + hidden), vload4(0, gates + gi + 2 * hidden),
                             vload4(0, gates + gi + 3 * hidden));
            cp = vload4(0, cPrev + cpo + si);
        } else {
            float p[16], q[4];
            for (int jj = 0; jj < 4; jj++) {
                int at = min(jj, hidden - 1 - u0);
                for (int g = 0; g < 4; g++) p[g * 4 + jj] = gates[gi + g * hidden + at];
                q[jj] = cPrev[cpo + si + at];
            }
            pre = vload16(0, p);
            cp = vload4(0, q);
        }
        pre += part[r];
        float4 i = 1.0f / (1.0f + exp(-pre.s0123)), f = 1.0f / (1.0f + exp(-pre.s4567)), g = tanh(pre.s89ab),
               o = 1.0f / (1.0f + exp(-pre.scdef));
        float4 cell = f * cp + i * g;
        float4 hv = o * tanh(cell);
        if (whole) {
            vstore4(i, 0, gates + gi);
            vstore4(f, 0, gates + gi + hidden);
            vstore4(g, 0, gates + gi + 2 * hidden);
            vstore4(o, 0, gates + gi + 3 * hidden);
            vstore4(cell, 0, c + co + si);
            vstore4(hv, 0, h + ho + si);
        } else {
            float out[24];
            vstore4(i, 0, out);
            vstore4(f, 1, out);
            vstore4(g, 2, out);
            vstore4(o, 3, out);
            vstore4(cell, 4, out);
            vstore4(hv, 5, out);
            for (int jj = 0; u0 + jj < hidden; jj++) {
                for (int q = 0; q < 4; q++) gates[gi + q * hidden + jj] = out[q * 4 + jj];
                c[co + si + jj] = out[16 + jj];
                h[ho + si + jj] = out[20 + jj];
            }
        }
    }
}

// One GRU step with its recurrent product, in one launch: gh[b, q*H + j] += sum_k hPrev[b, k] *
// w[q*H + j, k] (q = r, z, n; w is W_hh [3H, H], rows ldw apart; hPrev a contiguous [batch, H]
// slice, also the cell's previous state), the sums kept in gh (gh started as b_hh; backward reads
// it), then the cell as gru_cell_forward. The same two kernels as the LSTM step, three gates.

// For GPUs: as lstm_step_forward, one hidden unit of LSTM_STEP_ROWS batch rows per work-item.
__kernel void gru_step_forward(__global const float* hPrev, int hpo, __global const float* w, int wo, int ldw,
                               __global const float* gi, int gio, __global float* gh, int gho,
                               __global float* h, int ho, __global float* saved, int so, int batch, int hidden) {
    int j = get_global_id(0), b0 = get_global_id(1) * LSTM_STEP_ROWS;
    if (j >= hidden || b0 >= batch) return;
    int last = batch - 1 - b0;
    __global const float* hr[LSTM_STEP_ROWS];
    __global const float* wr[3];
    for (int r = 0; r < LSTM_STEP_ROWS; r++) hr[r] = hPrev + hpo + (b0 + min(r, last)) * hidden;
    for (int q = 0; q < 3; q++) wr[q] = w + wo + (q * hidden + j) * ldw;
    float4 acc[LSTM_STEP_ROWS][3];
    for (int r = 0; r < LSTM_STEP_ROWS; r++)
        for (int q = 0; q < 3; q++) acc[r][q] = (float4) 0.0f;
    int k = 0;
    for (; k + 4 <= hidden; k += 4) {
        float4 wv[3], hv[LSTM_STEP_ROWS];
        for (int q = 0; q < 3; q++) wv[q] = vload4(0, wr[q] + k);
        for (int r = 0; r < LSTM_STEP_ROWS; r++) hv[r] = vload4(0, hr[r] + k);
        for (int r = 0; r < LSTM_STEP_ROWS; r++)
            for (int q = 0; q < 3; q++) acc[r][q] += hv[r] * wv[q];
    }
    float sum[LSTM_STEP_ROWS][3];
    for (int r = 0; r < LSTM_STEP_ROWS; r++)
        for (int q = 0; q < 3; q++) sum[r][q] = (acc[r][q].s0 + acc[r][q].s1) + (acc[r][q].s2 + acc[r][q].s3);
    for (; k < hidden; k++) {
        for (int r = 0; r < LSTM_STEP_ROWS; r++)
            for (int q = 0; q < 3; q++) sum[r][q] += hr[r][k] * wr[q][k];
    }
    for (int r = 0; r < LSTM_STEP_ROWS && r <= last; r++) {
        int b = b0 + r;
        int g0 = b * 3 * hidden + j;
        float ghr = gh[gho + g0] + sum[r][0], ghz = gh[gho + g0 + hidden] + sum[r][1], ghn = gh[gho + g0 + 2 * hidden] + sum[r][2];
        float hp = hPrev[hpo + b * hidden + j];
        gh[gho + g0] = ghr;
        gh[gho + g0 + hidden] = ghz;
        gh[gho + g0 + 2 * hidden] = ghn;
        gru_cell_store(gi[gio + g0], gi[gio + g0 + hidden], gi[gio + g0 + 2 * hidden], ghr, ghz, ghn, hp, saved, so + g0, hidden,
                       h, ho + b * hidden + j);
    }
}

// For CPU devices: as lstm_step_forward_blocked, 4 units (12 gate columns: a float8 and a float4
// per row) of LSTM_BLK_ROWS batch rows per work-item, the cell four units at a time.
__kernel void gru_step_forward_blocked(__global const float* hPrev, int hpo, __global const float* w, int wo, int ldw,
                                       __global const float* gi, int gio, __global float* gh, int gho,
                                       __global float* h, int ho, __global float* saved, int so, int batch, int hidden) {
    int u0 = get_global_id(0) * 4, b0 = get_global_id(1) * LSTM_BLK_ROWS;
    if (u0 >= hidden || b0 >= batch) return;
    int rows = min(LSTM_BLK_ROWS, batch - b0);
    float wt[LSTM_BLK_K * 12];
    float8 partA[LSTM_BLK_ROWS];
    float4 partB[LSTM_BLK_ROWS];
    for (int r = 0; r < LSTM_BLK_ROWS; r++) {
        partA[r] = (float8) 0.0f;
        partB[r] = (float4) 0.0f;
    }
    __global const float* hp = hPrev + hpo + b0 * hidden;
    for (int k0 = 0; k0 < hidden; k0 += LSTM_BLK_K) {
        int kn = min(LSTM_BLK_K, hidden - k0);
        gate_rows_to_private(wt, w + wo, ldw, hidden, u0, k0, kn, 3);
        int r = 0;
        for (; r + 2 <= rows; r += 2) {
            __global const float* h0 = hp + r * hidden + k0;
            __global const float* h1 = h0 + hidden;
            float8 a0 = partA[r], a1 = partA[r + 1];
            float4 c0 = partB[r], c1 = partB[r + 1];
            for (int kk = 0; kk < kn; kk++) {
                float8 wa = vload8(0, wt + kk * 12);
                float4 wb = vload4(0, wt + kk * 12 + 8);
                float x0 = h0[kk], x1 = h1[kk];
                a0 += x0 * wa;
                c0 += x0 * wb;
                a1 += x1 * wa;
                c1 += x1 * wb;
            }
            partA[r] = a0;
            partA[r + 1] = a1;
            partB[r] = c0;
            partB[r + 1] = c1;
        }
        for (; r < rows; r++) {
            __global const float* h0 = hp + r * hidden + k0;
            float8 a0 = partA[r];
            float4 c0 = partB[r];
            for (int kk = 0; kk < kn; kk++) {
                a0 += h0[kk] * vload8(0, wt + kk * 12);
                c0 += h0[kk] * vload4(0, wt + kk * 12 + 8);
            }
            partA[r] = a0;
            partB[r] = c0;
        }
    }
    // The cell four units at a time, the same operations as gru_cell_store; units past hidden not stored.
    bool whole = u0 + 4 <= hidden;
    for (int r = 0; r < rows; r++) {
        int b = b0 + r, g0 = b * 3 * hidden + u0, si = b * hidden + u0;
        float4 ir, iz, in, hr, hz, hn, hpv;
        if (whole) {
            ir = vload4(0, gi + gio + g0);
            iz = vload4(0, gi + gio + g0 + hidden);
            in = vload4(0, gi + gio + g0 + 2 * hidden);
            hr = vload4(0, gh + gho + g0);
            hz = vload4(0, gh + gho + g0 + hidden);
            hn = vload4(0, gh + gho + g0 + 2 * hidden);
            hpv = vload4(0, hPrev + hpo + si);
        } else {
            float p[28];
            for (int jj = 0; jj < 4; jj++) {
                int at = min(jj, hidden - 1 - u0);
                for (int q = 0; q < 3; q++) {
                    p[q * 4 + jj] = gi[gio + g0 + q * hidden + at];
                    p[12 + q * 4 + jj] = gh[gho + g0 + q * hidden + at];
                }
                p[24 + jj] = hPrev[hpo + si + at];
            }
            ir = vload4(0, p);
            iz = vload4(1, p);
            in = vload4(2, p);
            hr = vload4(3, p);
            hz = vload4(4, p);
            hn = vload4(5, p);
            hpv = vload4(6, p);
        }
        hr += partA[r].lo;
        hz += partA[r].hi;
        hn += partB[r];
        float4 rg = 1.0f / (1.0f + exp(-(ir + hr)));
        float4 zg = 1.0f / (1.0f + exp(-(iz + hz)));
        float4 ng = tanh(in + rg * hn);
        float4 hv = (1.0f - zg) * ng + zg * hpv;
        if (whole) {
            vstore4(hr, 0, gh + gho + g0);
            vstore4(hz, 0, gh + gho + g0 + hidden);
            vstore4(hn, 0, gh + gho + g0 + 2 * hidden);
            vstore4(rg, 0, saved + so + g0);
            vstore4(zg, 0, saved + so + g0 + hidden);
            vstore4(ng, 0, saved + so + g0 + 2 * hidden);
            vstore4(hv, 0, h + ho + si);
        } else {
            float out[28];
            vstore4(hr, 0, out);
            vstore4(hz, 1, out);
            vstore4(hn, 2, out);
            vstore4(rg, 3, out);
            vstore4(zg, 4, out);
            vstore4(ng, 5, out);
            vstore4(hv, 6, out);
            for (int jj = 0; u0 + jj < hidden; jj++) {
                for (int q = 0; q < 3; q++) {
                    gh[gho + g0 + q * hidden + jj] = out[q * 4 + jj];
                    saved[so + g0 + q * hidden + jj] = out[12 + q * 4 + jj];
                }
                h[ho + si + jj] = out[24 + jj];
            }
        }
    }
}
