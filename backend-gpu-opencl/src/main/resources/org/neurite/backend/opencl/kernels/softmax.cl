// Row-wise softmax of x[rows, cols], its Jacobian-vector product, and the fused softmax
// cross-entropy with integer labels stored as floats: one work-group per row. The row maximum is
// subtracted before exponentiating; row sums are kept in acc_t. The cross-entropy writes each
// row's loss, which reduce.cl's sum_partials (for the host to read back) or sum_partials_into (into
// a device float) adds in a fixed order. The labels were checked first (check_indices, into a status slot).

__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void softmax_rows(__global const float* x, __global float* y, int cols) {
    __local acc_t sums[REDUCE_WG];
    __local float maxes[REDUCE_WG];
    int row = get_group_id(0), l = get_local_id(0);
    int from = row * cols;
    float m = -INFINITY;
    for (int i = l; i < cols; i += REDUCE_WG) m = java_max(m, x[from + i]);
    m = group_max(m, maxes);
    acc_t s = 0;
    for (int i = l; i < cols; i += REDUCE_WG) {
        float e = exp(x[from + i] - m);
        y[from + i] = e;
        s += e;
    }
    s = group_sum(s, sums);
    float inv = (float) (1.0 / s);
    for (int i = l; i < cols; i += REDUCE_WG) y[from + i] *= inv;
}

// dx = y * (dy - sum(dy * y)) per row; dx may be dy (each item rereads only its own elements).
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void softmax_backward_rows(__global const float* y, __global const float* dy, __global float* dx, int cols) {
    __local acc_t sums[REDUCE_WG];
    int row = get_group_id(0), l = get_local_id(0);
    int from = row * cols;
    acc_t dot = 0;
    for (int i = l; i < cols; i += REDUCE_WG) dot += (acc_t) dy[from + i] * y[from + i];
    float d = (float) group_sum(dot, sums);
    for (int i = l; i < cols; i += REDUCE_WG) dx[from + i] = y[from + i] * (dy[from + i] - d);
}

// Per row: loss = log(sum(exp(x - max))) + max - x[label]; dLogits = (softmax - onehot) * gradScale.
// check_indices ran first into status[2 * slot]: when some row's label is not a class, no row
// writes dLogits (the host refuses the call at its next wait) and every row's loss is 0.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void cross_entropy_rows(__global const float* logits, __global const float* labels, __global float* dLogits,
                        int classes, float gradScale, __global acc_t* rowLoss, __global const int* status, int slot) {
    __local acc_t sums[REDUCE_WG];
    __local float maxes[REDUCE_WG];
    int row = get_group_id(0), l = get_local_id(0);
    if (status[2 * slot] != INT_MAX) {
        if (l == 0) rowLoss[row] = 0;
        return;
    }
    int label = (int) labels[row];
    int from = row * classes;
    float m = -INFINITY;
    for (int i = l; i < classes; i += REDUCE_WG) m = java_max(m, logits[from + i]);
    m = group_max(m, maxes);
    // Read before the barrier in group_sum: dLogits may be logits, and other items write it below.
    float target = logits[from + label];
    acc_t s = 0;
    for (int i = l; i < classes; i += REDUCE_WG) s += exp((acc_t) (logits[from + i] - m));
    s = group_sum(s, sums);
    float inv = (float) (1.0 / s);
    for (int i = l; i < classes; i += REDUCE_WG) {
        float d = exp(logits[from + i] - m) * inv * gradScale;
        dLogits[from + i] = i == label ? d - gradScale : d;
    }
    if (l == 0) rowLoss[row] = log(s) + m - target;
}
