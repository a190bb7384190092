// What a training step keeps on the device instead of reading it back: the count of correctly
// classified rows, and the step's control (StepControl: [0] the factor global-norm clipping
// multiplies the gradients by, [1] the flag that makes the optimiser updates skip the step), decided
// from the squared gradient norm and the loss, which earlier kernels wrote into device floats.

// out[outOffset] = the rows of logits [rows, classes] whose arg-max equals their label: the first
// largest value, a later one winning only when greater (so a NaN wins only at index 0), as the CPU
// backend counts. A label that is not a class index never matches. One work-group.
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void count_correct(__global const float* logits, __global const float* labels, int rows, int classes,
                   __global float* out, int outOffset) {
    __local acc_t sums[REDUCE_WG];
    int l = get_local_id(0);
    acc_t count = 0;
    for (int r = l; r < rows; r += REDUCE_WG) {
        __global const float* x = logits + (long) r * classes;
        int best = 0;
        float bestValue = x[0];
        for (int c = 1; c < classes; c++) {
            if (x[c] > bestValue) {
                bestValue = x[c];
                best = c;
            }
        }
        if ((float) best == labels[r]) count += 1;
    }
    count = group_sum(count, sums);
    if (l == 0) out[outOffset] = (float) count;
}

// control[0] = maxNorm / (norm + 1e-6) when clipping is on (maxNorm > 0) and norm = sqrt(sq) is
// above it, else 1 (PyTorch's clip_grad_norm_, in acc_t as the host computes it in double);
// control[1] = 1 when the norm or the loss (hasLoss) is NaN or infinite, or when it was 1 already:
// once set, every later update skips until the host clears it. One work-item.
__kernel void step_control(__global const float* sq, int sqOffset, __global const float* loss, int lossOffset, int hasLoss,
                           float maxNorm, __global float* control, int controlOffset) {
    if (get_global_id(0) != 0) return;
    float s = sq[sqOffset];
    float l = hasLoss ? loss[lossOffset] : 0.0f;
    acc_t norm = sqrt((acc_t) s);
    float factor = maxNorm > 0.0f && norm > (acc_t) maxNorm ? (float) ((acc_t) maxNorm / (norm + (acc_t) 1e-6)) : 1.0f;
    bool skip = control[controlOffset + 1] != 0.0f || !isfinite(s) || !isfinite(l);
    control[controlOffset] = factor;
    control[controlOffset + 1] = skip ? 1.0f : 0.0f;
}
