// loss.cu: SoftmaxCE, SoftmaxHVP, SquaredError, CountCorrect. Row kernels
// run one block per row (grid-stride over rows), with blockDim.x a power of
// two in [32, MAX_BLOCK]. Losses and counts are summed in double: each block
// writes its partial sum to partial[blockIdx.x] and sum_partials (reduce.cu)
// adds the partials in a fixed order. An invalid label sets flag[0] = 1,
// which the launcher turns into the CPU backend's panic.
#include "common.cuh"

// softmax_ce, per row i (kernels/cpu SoftmaxCE):
//   m := max_j z[i,j]; s := sum_j exp(z[i,j] - m)
//   loss += log(s) - (z[i,label_i] - m)
//   p[i,j] = exp(z[i,j] - m)/s; d[i,j] = scale*(p[i,j] - [j == label_i])
// p and d may be null and may alias z: the row is fully read (max, sum,
// z[label]) before the barriers that precede any write, and each thread
// rereads only the elements it then overwrites.
template <typename T>
__device__ void softmax_ce(const T* z, const T* labels, T* p, T* d, idx_t rows, idx_t cols,
                           double scale, double* partial, double* flag) {
    double acc = 0;
    for (idx_t i = blockIdx.x; i < rows; i += gridDim.x) {
        const T* zr = z + i * cols;
        double lab = (double)labels[i];
        bool ok = valid_label(lab, cols);
        idx_t li = ok ? (idx_t)lab : -1;
        double zl = ok ? (double)zr[li] : 0;
        double m = -INFINITY;
        for (idx_t j = threadIdx.x; j < cols; j += blockDim.x) m = go_max(m, (double)zr[j]);
        m = block_max(m);
        double s = 0;
        for (idx_t j = threadIdx.x; j < cols; j += blockDim.x) s += exp((double)zr[j] - m);
        s = block_sum(s);
        if (threadIdx.x == 0) {
            if (ok) {
                acc += log(s) - (zl - m);
            } else {
                flag[0] = 1;
            }
        }
        if (p != 0 || d != 0) {
            for (idx_t j = threadIdx.x; j < cols; j += blockDim.x) {
                double pj = exp((double)zr[j] - m) / s;
                if (p) p[i * cols + j] = (T)pj;
                if (d) {
                    if (j == li) pj -= 1;
                    d[i * cols + j] = (T)(scale * pj);
                }
            }
        }
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// softmax_hvp: for i < rows: q := sum_j p[i,j]*r[i,j];
//              dst[i,j] = scale*(p[i,j]*r[i,j] - p[i,j]*q)
// dst may alias p or r.
template <typename T>
__device__ void softmax_hvp(T* dst, const T* p, const T* r, idx_t rows, idx_t cols, double scale) {
    for (idx_t i = blockIdx.x; i < rows; i += gridDim.x) {
        idx_t o = i * cols;
        double q = 0;
        for (idx_t j = threadIdx.x; j < cols; j += blockDim.x) q += (double)p[o + j] * (double)r[o + j];
        q = block_sum(q);
        for (idx_t j = threadIdx.x; j < cols; j += blockDim.x) {
            double pj = (double)p[o + j];
            dst[o + j] = (T)(scale * (pj * (double)r[o + j] - pj * q));
        }
    }
}

// squared_error: for i: r := z[i] - y[i]; loss += r*r; d[i] = 2*scale*r
// (d may be null, and may alias z or y).
template <typename T>
__device__ void squared_error(const T* z, const T* y, T* d, idx_t n, double scale, double* partial) {
    double acc = 0;
    GRID_STRIDE(i, n) {
        double r = (double)z[i] - (double)y[i];
        acc += r * r;
        if (d) d[i] = (T)((2.0 * scale) * r);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// count_correct: for i < rows: best := 0;
//   for j, v := range row { if v > row[best] { best = j } }; if best == label_i { n++ }
// In parallel: the first index of the largest non-NaN value, or 0 when
// row[0] is NaN (nothing compares greater than a NaN best), which is what
// the sequential scan finds.
template <typename T>
__device__ void count_correct(const T* z, const T* labels, idx_t rows, idx_t cols, double* partial,
                              double* flag) {
    __shared__ double sv[MAX_BLOCK];
    __shared__ idx_t si[MAX_BLOCK];
    double acc = 0;
    unsigned t = threadIdx.x;
    for (idx_t i = blockIdx.x; i < rows; i += gridDim.x) {
        const T* zr = z + i * cols;
        double bv = 0;
        idx_t bi = -1;
        for (idx_t j = t; j < cols; j += blockDim.x) {
            double v = (double)zr[j];
            if (v == v && (bi < 0 || v > bv)) {
                bv = v;
                bi = j;
            }
        }
        sv[t] = bv;
        si[t] = bi;
        __syncthreads();
        for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
            if (t < s) {
                double ov = sv[t + s];
                idx_t oi = si[t + s];
                if (oi >= 0 && (si[t] < 0 || ov > sv[t] || (ov == sv[t] && oi < si[t]))) {
                    sv[t] = ov;
                    si[t] = oi;
                }
            }
            __syncthreads();
        }
        if (t == 0) {
            idx_t best = si[0];
            if (cols > 0 && (double)zr[0] != (double)zr[0]) best = 0;
            if (best < 0) best = 0;
            double lab = (double)labels[i];
            if (!valid_label(lab, cols)) {
                flag[0] = 1;
            } else if ((idx_t)lab == best) {
                acc += 1;
            }
        }
        __syncthreads();
    }
    if (t == 0) partial[blockIdx.x] = acc;
}

#define DEFINE(T, S)                                                                          \
    extern "C" __global__ void softmax_ce_##S(const T* z, const T* labels, T* p, T* d,         \
                                              idx_t rows, idx_t cols, double scale,            \
                                              double* partial, double* flag) {                 \
        softmax_ce<T>(z, labels, p, d, rows, cols, scale, partial, flag);                      \
    }                                                                                          \
    extern "C" __global__ void softmax_hvp_##S(T* dst, const T* p, const T* r, idx_t rows,     \
                                               idx_t cols, double scale) {                     \
        softmax_hvp<T>(dst, p, r, rows, cols, scale);                                          \
    }                                                                                          \
    extern "C" __global__ void squared_error_##S(const T* z, const T* y, T* d, idx_t n,        \
                                                 double scale, double* partial) {              \
        squared_error<T>(z, y, d, n, scale, partial);                                          \
    }                                                                                          \
    extern "C" __global__ void count_correct_##S(const T* z, const T* labels, idx_t rows,      \
                                                 idx_t cols, double* partial, double* flag) {  \
        count_correct<T>(z, labels, rows, cols, partial, flag);                                \
    }

DEFINE(float, f32)
DEFINE(double, f64)
