// common.cuh: helpers shared by the curvprobe kernels (included by every
// kernels/cuda/*.cu; its bytes are part of each PTX file's recorded source
// hash, see genptx.sh).
//
// Conventions (kernels/cuda/doc.go):
//   - Every kernel exists for float (suffix _f32) and double (_f64), with
//     extern "C" names so that the Go launchers find them by name.
//   - Elementwise results are evaluated in double and rounded once to T, as
//     the CPU backend (kernels/cpu) does; reductions accumulate in double.
//   - Lengths and indices are long long; loops are grid-stride, so any grid
//     covers any n.
//   - Pointers are not __restrict__: the Backend contract lets outputs alias
//     inputs elementwise, and each thread reads its elements before it
//     writes them.
//   - Compiled with -fmad=false -prec-div=true -prec-sqrt=true (no
//     contraction of a*b+c into an FMA), so double results follow the CPU's
//     operation order; libm functions (exp, log, tanh, erfc, cos) are
//     CUDA's, within 1-2 ulp of Go's.
#pragma once

typedef long long idx_t;

#define GRID_STRIDE(i, n)                                                   \
    for (idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);   \
         i += (idx_t)blockDim.x * gridDim.x)

// MAX_BLOCK is the largest blockDim.x of the reduction and row kernels; the
// launchers use powers of two from 32 to MAX_BLOCK.
#define MAX_BLOCK 256

// block_sum returns, in every thread, the sum over the block of v, by a
// fixed-order tree in shared memory (deterministic for a given blockDim).
// blockDim.x must be a power of two <= MAX_BLOCK; every thread must call it.
__device__ __forceinline__ double block_sum(double v) {
    __shared__ double sh[MAX_BLOCK];
    unsigned t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] += sh[t + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads(); // sh may be reused by the next call
    return r;
}

// go_max is Go's built-in max for float64: NaN if either is NaN.
__device__ __forceinline__ double go_max(double a, double b) {
    if (a != a) return a;
    if (b != b) return b;
    return a > b ? a : b;
}

// block_max returns, in every thread, go_max over the block of v.
__device__ __forceinline__ double block_max(double v) {
    __shared__ double sh[MAX_BLOCK];
    unsigned t = threadIdx.x;
    sh[t] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (t < s) sh[t] = go_max(sh[t], sh[t + s]);
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

// valid_label reports whether l is an integer in [0, cols), the check of
// kernels/cpu's label().
__device__ __forceinline__ bool valid_label(double l, idx_t cols) {
    return l >= 0.0 && l < (double)cols && l == trunc(l);
}
