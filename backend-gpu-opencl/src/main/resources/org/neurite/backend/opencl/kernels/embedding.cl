// Embedding lookups with indices stored as floats: a check that finds the first index that is not
// a row of the table (also used for class labels), the gather (one work-item per output element),
// and the scatter-add into the table gradient, one work-item per column adding the rows in order,
// so repeated indices never race and sums do not depend on scheduling. A check writes into a slot
// of the backend's status buffer (2 ints: the first failing item, INT_MAX when none, and the
// value found there, recorded by record_refused_value for the host's message); the op reading the
// indices is given the slot and writes nothing when it holds a failure.

// status[2 * slot] = min(itself, r) for every row r whose index is not an integer in [0, tableRows).
__kernel void check_indices(__global const float* indices, int rows, int tableRows, __global int* status, int slot) {
    int r = get_global_id(0);
    if (r >= rows) return;
    float v = indices[r];
    int index = (int) v;
    if (!((float) index == v && index >= 0 && index < tableRows)) atomic_min(&status[2 * slot], r);
}

// status[2 * slot + 1] = the bits of values[first failing item], when a check of this slot failed
// (every check kernel, check_argmax of pool.cl too, is followed by this one; one work-item).
__kernel void record_refused_value(__global int* status, int slot, __global const float* values) {
    if (get_global_id(0) != 0) return;
    int first = status[2 * slot];
    if (first != INT_MAX) status[2 * slot + 1] = as_int(values[first]);
}

__kernel void gather_rows(__global const float* table, __global const float* indices, __global float* out, int width, int n,
                          __global const int* status, int slot) {
    int i = get_global_id(0);
    if (i >= n || status[2 * slot] != INT_MAX) return;
    int r = i / width;
    out[i] = table[(int) indices[r] * width + i - r * width];
}

__kernel void scatter_add_rows(__global const float* dOut, __global const float* indices, __global float* dTable,
                               int rows, int width, __global const int* status, int slot) {
    int j = get_global_id(0);
    if (j >= width || status[2 * slot] != INT_MAX) return;
    for (int r = 0; r < rows; r++) dTable[(int) indices[r] * width + j] += dOut[r * width + j];
}
