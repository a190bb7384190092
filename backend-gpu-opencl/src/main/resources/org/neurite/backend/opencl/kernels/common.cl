// Shared definitions for every Neurite kernel: the accumulator type of reductions (double where
// the device has cl_khr_fp64, as the CPU reference sums in double; float otherwise), the
// work-group size of reduction kernels, work-group sum/max/min helpers, correctly rounded float
// square root and division, and the op codes of UnaryOp / BinaryOp (ClOpCodes maps each Java
// constant to its code).

#ifdef NEURITE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

// Every reduction kernel runs work-groups of exactly REDUCE_WG items (a power of two).
#define REDUCE_WG 128

#define OP_RELU 0
#define OP_SIGMOID 1
#define OP_TANH 2
#define OP_NEGATE 3
#define OP_EXP 4
#define OP_SQUARE 5
#define OP_SOFTPLUS 6
#define OP_SQRT 7
#define OP_LOG 8

#define OP_ADD 0
#define OP_SUB 1
#define OP_MUL 2
#define OP_DIV 3
#define OP_MAX 4
#define OP_MIN 5

// Java's Math.max / Math.min: a NaN operand wins (OpenCL's fmax/fmin would drop it).
inline float java_max(float a, float b) { return isnan(a) ? a : isnan(b) ? b : fmax(a, b); }
inline float java_min(float a, float b) { return isnan(a) ? a : isnan(b) ? b : fmin(a, b); }

inline float sigmoidf(float x) { return 1.0f / (1.0f + exp(-x)); }

// Float square root and division rounded as Java rounds them (correctly). Where the device offers
// it the program is built with -cl-fp32-correctly-rounded-divide-sqrt and float sqrt and / are
// correctly rounded anyway; without it they may be off by a few ulp (OpenCL allows 3 and 2.5;
// NVIDIA's fast division is one ulp off). Double sqrt and / are correctly rounded, and rounding
// their result to float again gives the correctly rounded float (53 >= 2 * 24 + 2 bits), so
// devices with fp64 go through double whatever the option.
#ifdef NEURITE_FP64
inline float sqrt_rn(float x) { return (float) sqrt((double) x); }
inline float div_rn(float a, float b) { return (float) ((double) a / (double) b); }
#else
inline float sqrt_rn(float x) { return sqrt(x); }
inline float div_rn(float a, float b) { return a / b; }
#endif

// y = op(x) for an OP_* unary code: unary_forward and the activation epilogue of the GEMM and
// convolution stores (gemm_store.cl) share it, so a fused activation rounds as the separate op does.
inline float apply_unary(int op, float v) {
    switch (op) {
        case OP_RELU:    return v > 0.0f ? v : (isnan(v) ? v : 0.0f);
        case OP_SIGMOID: return sigmoidf(v);
        case OP_TANH:    return tanh(v);
        case OP_NEGATE:  return -v;
        case OP_EXP:     return exp(v);
        case OP_SQUARE:  return v * v;
        // log(1 + e^x) as max(x, 0) + log1p(e^-|x|): no overflow for large x, no loss for small values.
        case OP_SOFTPLUS: return fmax(v, 0.0f) + log1p(exp(-fabs(v)));
        case OP_SQRT:    return sqrt_rn(v);
        case OP_LOG:     return log(v);
        default:         return NAN;
    }
}

// dy * op'(.) for an OP_* unary code, from the forward input x (RELU, SQUARE, SOFTPLUS, LOG) or
// output y (SIGMOID, TANH, EXP, SQRT), as UnaryOp.derivativeReadsInput / derivativeReadsOutput say:
// unary_backward and the max-pooling backward that folds in the activation before it share it.
inline float apply_unary_backward(int op, float x, float y, float g) {
    switch (op) {
        case OP_RELU:    return x > 0.0f ? g : 0.0f;
        case OP_SIGMOID: return g * y * (1.0f - y);
        case OP_TANH:    return g * (1.0f - y * y);
        case OP_NEGATE:  return -g;
        case OP_EXP:     return g * y;
        case OP_SQUARE:  return 2.0f * x * g;
        case OP_SOFTPLUS: return g * sigmoidf(x);
        case OP_SQRT:    return div_rn(g, 2.0f * y);   // d sqrt(x) = dx / (2 sqrt(x))
        case OP_LOG:     return div_rn(g, x);          // d log(x) = dx / x
        default:         return NAN;
    }
}

inline float apply_binary(int op, float a, float b) {
    switch (op) {
        case OP_ADD: return a + b;
        case OP_SUB: return a - b;
        case OP_MUL: return a * b;
        case OP_DIV: return div_rn(a, b);
        case OP_MAX: return java_max(a, b);
        default:     return java_min(a, b);
    }
}

// Sum of v over the work-group (all REDUCE_WG items must call it). Tree order is fixed, so the
// result depends only on the inputs. scratch: __local acc_t[REDUCE_WG].
inline acc_t group_sum(acc_t v, __local acc_t* scratch) {
    int l = get_local_id(0);
    scratch[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = REDUCE_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] += scratch[l + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc_t r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Maximum of v over the work-group, NaN winning as in Math.max. scratch: __local float[REDUCE_WG].
inline float group_max(float v, __local float* scratch) {
    int l = get_local_id(0);
    scratch[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = REDUCE_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] = java_max(scratch[l], scratch[l + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// Minimum of v over the work-group. scratch: __local int[REDUCE_WG].
inline int group_min_int(int v, __local int* scratch) {
    int l = get_local_id(0);
    scratch[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = REDUCE_WG / 2; s > 0; s >>= 1) {
        if (l < s) scratch[l] = min(scratch[l], scratch[l + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    int r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
