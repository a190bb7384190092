// The point-wise part of one LSTM step (gates i, f, g, o) and one GRU step (r, z, n), forward and
// backward, PyTorch's gate orders, one work-item per (batch row, hidden unit). Every tensor is a
// slice at an offset: gate blocks [batch, 4H] / [batch, 3H], states [batch, H]. Each item reads
// and writes only its own unit, so c may be cPrev's slice and h may be hPrev's (in place).

// gates (pre-activations) become sigma(i), sigma(f), tanh(g), sigma(o); c = f*cPrev + i*g; h = o*tanh(c).
__kernel void lstm_cell_forward(__global float* gates, int go, __global const float* cPrev, int cpo,
                                __global float* c, int co, __global float* h, int ho, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int gi = go + b * 4 * hidden + j, gf = gi + hidden, gg = gf + hidden, gout = gg + hidden;
    float i = sigmoidf(gates[gi]), f = sigmoidf(gates[gf]), g = tanh(gates[gg]), o = sigmoidf(gates[gout]);
    gates[gi] = i;
    gates[gf] = f;
    gates[gg] = g;
    gates[gout] = o;
    float cell = f * cPrev[cpo + idx] + i * g;
    c[co + idx] = cell;
    h[ho + idx] = o * tanh(cell);
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

// r = sigma(gi_r + gh_r), z = sigma(gi_z + gh_z), n = tanh(gi_n + r*gh_n), h = (1-z)*n + z*hPrev; saved = [r, z, n].
__kernel void gru_cell_forward(__global const float* gi, int gio, __global const float* gh, int gho,
                               __global const float* hPrev, int hpo, __global float* h, int ho,
                               __global float* saved, int so, int hidden, int n) {
    int idx = get_global_id(0);
    if (idx >= n) return;
    int b = idx / hidden, j = idx - b * hidden;
    int ir = b * 3 * hidden + j, iz = ir + hidden, in = iz + hidden;
    float r = sigmoidf(gi[gio + ir] + gh[gho + ir]);
    float z = sigmoidf(gi[gio + iz] + gh[gho + iz]);
    float nn = tanh(gi[gio + in] + r * gh[gho + in]);
    saved[so + ir] = r;
    saved[so + iz] = z;
    saved[so + in] = nn;
    h[ho + idx] = (1.0f - z) * nn + z * hPrev[hpo + idx];
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
