// Row-wise softmax of x[rows, cols], its Jacobian-vector product, and the fused softmax
// cross-entropy with integer labels stored as floats: one work-group per row. The row maximum is
// subtracted before exponentiating; row sums are kept in acc_t. The cross-entropy writes each
// row's loss and label status, and loss_total adds the rows in a fixed order and finds the first bad label
// so the host reads back one small result: {summed loss, first bad row or -1}.

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
// A label that is not a class index marks the row bad (status 1) and writes nothing else.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void cross_entropy_rows(__global const float* logits, __global const float* labels, __global float* dLogits,
                        int classes, float gradScale, __global acc_t* rowLoss, __global int* rowStatus,
                        __global const int* firstBadLabel) {
    __local acc_t sums[REDUCE_WG];
    __local float maxes[REDUCE_WG];
    int row = get_group_id(0), l = get_local_id(0);
    // check_indices ran first: when some row's label is not a class, no row writes dLogits and
    // only that row reports (the host refuses the call with its label)
    int firstBad = *firstBadLabel;
    if (firstBad != INT_MAX) {
        if (l == 0) { rowStatus[row] = row == firstBad ? 1 : 0; rowLoss[row] = 0; }
        return;
    }
    float labelValue = labels[row];
    int label = (int) labelValue;
    if (!((float) label == labelValue && label >= 0 && label < classes)) {
        if (l == 0) { rowStatus[row] = 1; rowLoss[row] = 0; }
        return;
    }
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
    if (l == 0) {
        rowLoss[row] = log(s) + m - target;
        rowStatus[row] = 0;
    }
}

// result[0] = sum of rowLoss (fixed order); result[1] = first row with status != 0, or -1. One work-group.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void loss_total(__global const acc_t* rowLoss, __global const int* rowStatus, int rows, __global acc_t* result) {
    __local acc_t sums[REDUCE_WG];
    __local int firsts[REDUCE_WG];
    int l = get_local_id(0);
    acc_t s = 0;
    int first = INT_MAX;
    for (int r = l; r < rows; r += REDUCE_WG) {
        s += rowLoss[r];
        if (rowStatus[r] != 0) first = min(first, r);
    }
    s = group_sum(s, sums);
    first = group_min_int(first, firsts);
    if (l == 0) {
        result[0] = s;
        result[1] = first == INT_MAX ? -1 : first;
    }
}
