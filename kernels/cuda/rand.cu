// rand.cu: Rademacher and Normal fills reproducing kernels.Uint64At,
// kernels.RademacherAt and kernels.NormalAt (kernels/rand.go) element for
// element: the same SplitMix64 finaliser and Weyl sequence, the same
// uniforms, Box-Muller in double.
#include "common.cuh"

#define GOLDEN 0x9E3779B97F4A7C15ULL

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// uint64_at is kernels.Uint64At: mix64(mix64(seed + golden) + (i+1)*golden).
__device__ __forceinline__ unsigned long long uint64_at(unsigned long long seed, unsigned long long i) {
    unsigned long long key = mix64(seed + GOLDEN);
    return mix64(key + (i + 1) * GOLDEN);
}

// rademacher: dst[i] = RademacherAt(seed, i): +1 when the top bit of
// Uint64At(seed, i) is clear, -1 otherwise.
template <typename T>
__device__ void rademacher(T* dst, idx_t n, unsigned long long seed) {
    GRID_STRIDE(i, n) { dst[i] = (uint64_at(seed, (unsigned long long)i) >> 63) == 0 ? (T)1 : (T)-1; }
}

#define TWO_M53 (1.0 / 9007199254740992.0) // 0x1p-53, exact
#define TWO_PI 6.283185307179586476925286766559 // float64(2*math.Pi)

// normal: dst[i] = T(NormalAt(seed, i)):
//   u1 := (float64(Uint64At(seed, 2i)>>11) + 1) * 0x1p-53
//   u2 := float64(Uint64At(seed, 2i+1)>>11) * 0x1p-53
//   sqrt(-2 ln u1) * cos(2 pi u2)
template <typename T>
__device__ void normal(T* dst, idx_t n, unsigned long long seed) {
    GRID_STRIDE(i, n) {
        unsigned long long k = 2 * (unsigned long long)i;
        double u1 = ((double)(uint64_at(seed, k) >> 11) + 1.0) * TWO_M53;
        double u2 = (double)(uint64_at(seed, k + 1) >> 11) * TWO_M53;
        dst[i] = (T)(sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2));
    }
}

#define DEFINE(T, S)                                                                          \
    extern "C" __global__ void rademacher_##S(T* dst, idx_t n, unsigned long long seed) {     \
        rademacher<T>(dst, n, seed);                                                          \
    }                                                                                         \
    extern "C" __global__ void normal_##S(T* dst, idx_t n, unsigned long long seed) {         \
        normal<T>(dst, n, seed);                                                              \
    }

DEFINE(float, f32)
DEFINE(double, f64)
