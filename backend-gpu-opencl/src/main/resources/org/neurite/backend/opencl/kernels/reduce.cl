// Reductions in a fixed order, so results do not depend on scheduling: per-channel sums and
// maxima over x viewed as [outer, channels, inner] (one work-group per channel), and sums of
// squares (partials per work-group, then one work-group adds the partials; the partials of many
// tensors side by side give their joint sum, a gradient norm, in one final pass). Each work-item strides
// through its range by REDUCE_WG and the group combines the items' results in a fixed tree; sums
// are kept in acc_t.

// out[c] = beta * out[c] + sum over (o, i) of x[o, c, i]; out is not read when beta == 0.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void channel_sum(__global const float* x, __global float* out, int outer, int channels, int inner, float beta) {
    __local acc_t scratch[REDUCE_WG];
    int c = get_group_id(0), l = get_local_id(0);
    int count = outer * inner;
    acc_t s = 0;
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner, i = e - o * inner;
        s += x[(o * channels + c) * inner + i];
    }
    s = group_sum(s, scratch);
    if (l == 0) out[c] = beta == 0.0f ? (float) s : (float) (beta * (acc_t) out[c] + s);
}

// out[c] = max over (o, i) of x[o, c, i], NaN when any of them is NaN (torch.amax); outer * inner >= 1.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void channel_max(__global const float* x, __global float* out, int outer, int channels, int inner) {
    __local float scratch[REDUCE_WG];
    int c = get_group_id(0), l = get_local_id(0);
    int count = outer * inner;
    float m = -INFINITY;
    for (int e = l; e < count; e += REDUCE_WG) {
        int o = e / inner, i = e - o * inner;
        m = java_max(m, x[(o * channels + c) * inner + i]);
    }
    m = group_max(m, scratch);
    if (l == 0) out[c] = m;
}

// partials[at + g] = sum of x[i]^2 over the g-th of get_num_groups(0) contiguous chunks of x[0, n).
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void sum_squares_partial(__global const float* x, int n, int chunk, __global acc_t* partials, int at) {
    __local acc_t scratch[REDUCE_WG];
    int g = get_group_id(0), l = get_local_id(0);
    int from = g * chunk, to = min(n, from + chunk);
    acc_t s = 0;
    for (int i = from + l; i < to; i += REDUCE_WG) {
        acc_t v = x[i];
        s += v * v;
    }
    s = group_sum(s, scratch);
    if (l == 0) partials[at + g] = s;
}

// Sum of partials[0, n) over the work-group in a fixed order (all REDUCE_WG items call it).
inline acc_t sum_of_partials(__global const acc_t* partials, int n, __local acc_t* scratch) {
    acc_t s = 0;
    for (int i = get_local_id(0); i < n; i += REDUCE_WG) s += partials[i];
    return group_sum(s, scratch);
}

// result[0] = sum of partials[0, n), one work-group: for the host to read back.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void sum_partials(__global const acc_t* partials, int n, __global acc_t* result) {
    __local acc_t scratch[REDUCE_WG];
    acc_t s = sum_of_partials(partials, n, scratch);
    if (get_local_id(0) == 0) result[0] = s;
}

// out[outOffset] = (float) sum of partials[0, n), one work-group: the global squared norm of
// every tensor whose partials were written side by side, or a step's loss from its rows' losses.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void sum_partials_into(__global const acc_t* partials, int n, __global float* out, int outOffset) {
    __local acc_t scratch[REDUCE_WG];
    acc_t s = sum_of_partials(partials, n, scratch);
    if (get_local_id(0) == 0) out[outOffset] = (float) s;
}
