// optim.cu: AdamUpdate and AdamPrecondition, evaluated in double and rounded
// once per stored element, as kernels/cpu/optim.go.
#include "common.cuh"

// adam_update:
//   mi = b1*m[i] + (1-b1)*g[i]; vi = b2*v[i] + (1-b2)*g[i]*g[i]
//   m[i], v[i] = T(mi), T(vi)
//   p[i] -= lr*((mi/bc1)/(sqrt(vi/bc2)+eps) + wd*p[i])
template <typename T>
__device__ void adam_update(T* p, const T* g, T* m, T* v, idx_t n, double lr, double b1, double b2,
                            double eps, double bc1, double bc2, double wd) {
    GRID_STRIDE(i, n) {
        double gi = (double)g[i];
        double mi = b1 * (double)m[i] + (1.0 - b1) * gi;
        double vi = b2 * (double)v[i] + ((1.0 - b2) * gi) * gi;
        m[i] = (T)mi;
        v[i] = (T)vi;
        double pi = (double)p[i];
        p[i] = (T)(pi - lr * ((mi / bc1) / (sqrt(vi / bc2) + eps) + wd * pi));
    }
}

// adam_precondition: dst[i] = 1/sqrt(sqrt(v[i]/bc2) + eps); dst may alias v.
template <typename T>
__device__ void adam_precondition(T* dst, const T* v, idx_t n, double bc2, double eps) {
    GRID_STRIDE(i, n) { dst[i] = (T)(1.0 / sqrt(sqrt((double)v[i] / bc2) + eps)); }
}

#define DEFINE(T, S)                                                                          \
    extern "C" __global__ void adam_update_##S(T* p, const T* g, T* m, T* v, idx_t n,          \
                                               double lr, double b1, double b2, double eps,    \
                                               double bc1, double bc2, double wd) {            \
        adam_update<T>(p, g, m, v, n, lr, b1, b2, eps, bc1, bc2, wd);                          \
    }                                                                                          \
    extern "C" __global__ void adam_precondition_##S(T* dst, const T* v, idx_t n, double bc2,  \
                                                     double eps) {                             \
        adam_precondition<T>(dst, v, n, bc2, eps);                                             \
    }

DEFINE(float, f32)
DEFINE(double, f64)
