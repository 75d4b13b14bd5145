// elementwise.cu: AddRow, ColSum, Activate, Mul, MulAdd, Mul3Add, Fill and
// the beta-scaling of Gemm's C when k = 0. Each kernel's comment shows the
// Go reference loop of kernels/cpu that it reproduces; launchers are in
// elementwise.go and level1.go.
#include "common.cuh"

// add_row: for i < rows, j < cols: x[i*cols+j] += v[j]
template <typename T>
__device__ void add_row(T* x, const T* v, idx_t rows, idx_t cols) {
    idx_t n = rows * cols;
    GRID_STRIDE(i, n) { x[i] = (T)((double)x[i] + (double)v[i % cols]); }
}

// col_sum: for j < cols: s := 0.0; for i < rows { s += x[i*cols+j] };
//          dst[j] = alpha*s + beta*dst[j]   (dst not read when beta == 0)
// Block (32, 8): threadIdx.x picks a column of a 32-column tile,
// threadIdx.y a residue class of rows; the 8 partial sums are added in a
// fixed order, so the result is deterministic.
template <typename T>
__device__ void col_sum(T* dst, const T* x, idx_t rows, idx_t cols, double alpha, double beta) {
    __shared__ double sh[8][33];
    for (idx_t j0 = (idx_t)blockIdx.x * 32; j0 < cols; j0 += (idx_t)gridDim.x * 32) {
        idx_t j = j0 + threadIdx.x;
        double s = 0;
        if (j < cols) {
            for (idx_t i = threadIdx.y; i < rows; i += 8) s += (double)x[i * cols + j];
        }
        sh[threadIdx.y][threadIdx.x] = s;
        __syncthreads();
        if (threadIdx.y == 0 && j < cols) {
            double t = 0;
            for (int k = 0; k < 8; k++) t += sh[k][threadIdx.x];
            if (beta == 0) {
                dst[j] = (T)(alpha * t);
            } else {
                dst[j] = (T)(alpha * t + beta * (double)dst[j]);
            }
        }
        __syncthreads();
    }
}

#define INV_SQRT2 0.70710678118654752440084436210484903928
#define INV_SQRT2PI 0.398942280401432677939946059934381868

// sigmoid returns 1/(1 + e^-x) without overflow (kernels/cpu sigmoid).
__device__ __forceinline__ double sigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

// Activation codes: the values of kernels.Activation.
#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_TANH 2
#define ACT_SIGMOID 3
#define ACT_GELU 4
#define ACT_SOFTPLUS 5

// activation_at is kernels/cpu.ActivationAt: s(x), s'(x), s''(x) in double.
__device__ __forceinline__ void activation_at(int act, double x, double* s, double* d1, double* d2) {
    switch (act) {
    case ACT_RELU:
        if (x > 0) {
            *s = x; *d1 = 1; *d2 = 0;
        } else if (x <= 0) {
            *s = 0; *d1 = 0; *d2 = 0;
        } else { // NaN
            *s = x; *d1 = x; *d2 = x;
        }
        return;
    case ACT_TANH: {
        double t = tanh(x);
        double d = 1.0 - t * t;
        *s = t; *d1 = d; *d2 = (-2.0 * t) * d;
        return;
    }
    case ACT_SIGMOID: {
        double p = sigmoid(x), q = sigmoid(-x);
        *s = p; *d1 = p * q; *d2 = (p * q) * (q - p);
        return;
    }
    case ACT_GELU: {
        double cdf = 0.5 * erfc(-x * INV_SQRT2);
        double pdf = INV_SQRT2PI * exp((-0.5 * x) * x);
        *s = x * cdf; *d1 = cdf + x * pdf; *d2 = pdf * (2.0 - x * x);
        return;
    }
    case ACT_SOFTPLUS: {
        double p = sigmoid(x), q = sigmoid(-x);
        *s = go_max(x, 0.0) + log1p(exp(-fabs(x))); *d1 = p; *d2 = p * q;
        return;
    }
    default: // ACT_LINEAR; the launcher rejects unknown codes
        *s = x; *d1 = 1; *d2 = 0;
    }
}

// activate: for i := range z { a[i], d1[i], d2[i] = ActivationAt(act, z[i]) }
// each rounded once to T; d1 and d2 may be null. a may alias z (z[i] is read
// before a[i] is written).
template <typename T>
__device__ void activate(int act, const T* z, T* a, T* d1, T* d2, idx_t n) {
    GRID_STRIDE(i, n) {
        double s, s1, s2;
        activation_at(act, (double)z[i], &s, &s1, &s2);
        a[i] = (T)s;
        if (d1) d1[i] = (T)s1;
        if (d2) d2[i] = (T)s2;
    }
}

// mul: dst[i] = x[i]*y[i]
template <typename T>
__device__ void mul(T* dst, const T* x, const T* y, idx_t n) {
    GRID_STRIDE(i, n) { dst[i] = (T)((double)x[i] * (double)y[i]); }
}

// mul_add: dst[i] = T(float64(dst[i]) + float64(x[i])*float64(y[i]))
template <typename T>
__device__ void mul_add(T* dst, const T* x, const T* y, idx_t n) {
    GRID_STRIDE(i, n) { dst[i] = (T)((double)dst[i] + (double)x[i] * (double)y[i]); }
}

// mul3_add: dst[i] = T(float64(dst[i]) + float64(x[i])*float64(y[i])*float64(z[i]))
template <typename T>
__device__ void mul3_add(T* dst, const T* x, const T* y, const T* z, idx_t n) {
    GRID_STRIDE(i, n) {
        dst[i] = (T)((double)dst[i] + ((double)x[i] * (double)y[i]) * (double)z[i]);
    }
}

// fill: for i := range dst { dst[i] = T(a) }
template <typename T>
__device__ void fill(T* dst, double a, idx_t n) {
    T v = (T)a;
    GRID_STRIDE(i, n) { dst[i] = v; }
}

// scale_matrix is Gemm with k = 0: for i < rows, j < cols:
//   c[i*ld+j] = beta == 0 ? 0 : T(beta*c[i*ld+j])
template <typename T>
__device__ void scale_matrix(T* c, idx_t rows, idx_t cols, idx_t ld, double beta) {
    idx_t n = rows * cols;
    GRID_STRIDE(k, n) {
        T* e = c + (k / cols) * ld + k % cols;
        *e = beta == 0 ? (T)0 : (T)(beta * (double)*e);
    }
}

#define DEFINE(T, S)                                                                          \
    extern "C" __global__ void add_row_##S(T* x, const T* v, idx_t rows, idx_t cols) {        \
        add_row<T>(x, v, rows, cols);                                                         \
    }                                                                                         \
    extern "C" __global__ void col_sum_##S(T* dst, const T* x, idx_t rows, idx_t cols,        \
                                           double alpha, double beta) {                       \
        col_sum<T>(dst, x, rows, cols, alpha, beta);                                          \
    }                                                                                         \
    extern "C" __global__ void activate_##S(int act, const T* z, T* a, T* d1, T* d2, idx_t n) { \
        activate<T>(act, z, a, d1, d2, n);                                                    \
    }                                                                                         \
    extern "C" __global__ void mul_##S(T* dst, const T* x, const T* y, idx_t n) {             \
        mul<T>(dst, x, y, n);                                                                 \
    }                                                                                         \
    extern "C" __global__ void mul_add_##S(T* dst, const T* x, const T* y, idx_t n) {         \
        mul_add<T>(dst, x, y, n);                                                             \
    }                                                                                         \
    extern "C" __global__ void mul3_add_##S(T* dst, const T* x, const T* y, const T* z,       \
                                            idx_t n) {                                        \
        mul3_add<T>(dst, x, y, z, n);                                                         \
    }                                                                                         \
    extern "C" __global__ void fill_##S(T* dst, double a, idx_t n) { fill<T>(dst, a, n); }    \
    extern "C" __global__ void scale_matrix_##S(T* c, idx_t rows, idx_t cols, idx_t ld,       \
                                                double beta) {                                \
        scale_matrix<T>(c, rows, cols, ld, beta);                                             \
    }

DEFINE(float, f32)
DEFINE(double, f64)
