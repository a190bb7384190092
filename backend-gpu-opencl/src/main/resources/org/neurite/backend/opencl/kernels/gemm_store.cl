// The one store of an element of C that every SGEMM kernel and the implicit-GEMM convolution end with:
//   C[at] = act(alpha * acc (+ beta * C[at] when beta != 0; with beta == 0, C is not read, so a NaN
//   left there does not leak) (+ bias[offBias + row, or + col] when offBias >= 0)).
// The epilogue word says what follows the product (EPILOGUE_* below): whether the bias is indexed
// by the row of C (a convolution's output channels) or by its column (a dense layer's units, C
// being [rows, units]), and which activation (an OP_* unary code, applied by apply_unary as
// unary_forward applies it), if any. Fused here, they save the broadcast and activation launches
// that would otherwise read and write all of C again. Each operation is rounded on its own (no
// fused multiply-add), as the CPU backend rounds the GEMM, then the separate bias add, then the
// activation, so the fusion changes no result.

// With the derivative flag instead, the store is the backward of the activation before a dense
// layer, folded into its input-gradient product: C = dy · w, then apply_unary_backward with the
// activation's output read from bias[offBias + at] (x, laid out as C: same leading dimension, one
// product), as unary_backward computes it from the output alone; no bias is added.
// Bits of the epilogue word: the activation's OP_* code + 1 in the low byte (0: none), the
// bias-by-column flag and the derivative flag (ClGemm builds the word).
#define EPILOGUE_ACTIVATION_MASK 0xff
#define EPILOGUE_BIAS_BY_COLUMN 0x100
#define EPILOGUE_DERIVATIVE 0x200

inline void gemm_store(__global float* c, int at, float alpha, float acc, float beta,
                       __global const float* bias, int offBias, int row, int col, int epilogue) {
#pragma OPENCL FP_CONTRACT OFF
    float v = alpha * acc;
    if (beta != 0.0f) v = v + beta * c[at];
    int activation = epilogue & EPILOGUE_ACTIVATION_MASK;
    if (epilogue & EPILOGUE_DERIVATIVE) {
        float y = bias[offBias + at];
        v = apply_unary_backward(activation - 1, y, y, v);
    } else {
        if (offBias >= 0) v = v + bias[offBias + ((epilogue & EPILOGUE_BIAS_BY_COLUMN) ? col : row)];
        if (activation != 0) v = apply_unary(activation - 1, v);
    }
    c[at] = v;
}
