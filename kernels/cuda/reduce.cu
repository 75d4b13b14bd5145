// reduce.cu: Dot and the sum of squares behind Nrm2, accumulated in double
// for float and double inputs alike (cuBLAS's sdot/snrm2 would accumulate
// float32 in float32, and the Backend contract is float64 accumulation),
// and sum_partials, the second pass of every reduction. The grid of a
// reduction depends only on n (reduceGrid in launch.go), so results are
// reproducible run to run and GPU to GPU.
#include "common.cuh"

// dot: s := 0.0; for i { s += float64(x[i])*float64(y[i]) }
template <typename T>
__device__ void dot(const T* x, const T* y, idx_t n, double* partial) {
    double acc = 0;
    GRID_STRIDE(i, n) { acc += (double)x[i] * (double)y[i]; }
    acc = block_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// sumsq: s := 0.0; for i { s += float64(x[i])*float64(x[i]) }
template <typename T>
__device__ void sumsq(const T* x, idx_t n, double* partial) {
    double acc = 0;
    GRID_STRIDE(i, n) {
        double v = (double)x[i];
        acc += v * v;
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// sum_partials: out[0] = sum_{i < n} partial[i], in one block.
extern "C" __global__ void sum_partials(const double* partial, int n, double* out) {
    double acc = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[0] = acc;
}

#define DEFINE(T, S)                                                                          \
    extern "C" __global__ void dot_##S(const T* x, const T* y, idx_t n, double* partial) {    \
        dot<T>(x, y, n, partial);                                                             \
    }                                                                                         \
    extern "C" __global__ void sumsq_##S(const T* x, idx_t n, double* partial) {              \
        sumsq<T>(x, n, partial);                                                              \
    }

DEFINE(float, f32)
DEFINE(double, f64)
