// The one store of an element of C that every SGEMM kernel ends with:
//   C[at] = alpha * acc (+ beta * C[at] when beta != 0; with beta == 0, C is not read, so a NaN
//   left there does not leak) (+ bias[offBias + row] when offBias >= 0).
// The row bias is the epilogue a convolution asks for (its rows are output channels): fused here,
// it saves the channel broadcast launch that would otherwise read and write all of C again. Each
// operation is rounded on its own (no fused multiply-add), as the CPU backend rounds the GEMM and
// then the separate bias add, so the fusion changes no result.
inline void gemm_store(__global float* c, int at, float alpha, float acc, float beta,
                       __global const float* bias, int offBias, int row) {
#pragma OPENCL FP_CONTRACT OFF
    float v = alpha * acc;
    if (beta != 0.0f) v = v + beta * c[at];
    if (offBias >= 0) v = v + bias[offBias + row];
    c[at] = v;
}
