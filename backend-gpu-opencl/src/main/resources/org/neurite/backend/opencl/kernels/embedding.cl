// Embedding lookups with indices stored as floats: a check that finds the first index that is not
// a row of the table (the host reads it before anything is written), the gather (one work-item per
// output element), and the scatter-add into the table gradient, one work-item per column adding
// the rows in order, so repeated indices never race and sums do not depend on scheduling.

// status[0] = min(status[0], r) for every row r whose index is not an integer in [0, tableRows).
__kernel void check_indices(__global const float* indices, int rows, int tableRows, __global int* status) {
    int r = get_global_id(0);
    if (r >= rows) return;
    float v = indices[r];
    int index = (int) v;
    if (!((float) index == v && index >= 0 && index < tableRows)) atomic_min(status, r);
}

__kernel void gather_rows(__global const float* table, __global const float* indices, __global float* out, int width, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int r = i / width;
    out[i] = table[(int) indices[r] * width + i - r * width];
}

__kernel void scatter_add_rows(__global const float* dOut, __global const float* indices, __global float* dTable,
                               int rows, int width) {
    int j = get_global_id(0);
    if (j >= width) return;
    for (int r = 0; r < rows; r++) dTable[(int) indices[r] * width + j] += dOut[r * width + j];
}
