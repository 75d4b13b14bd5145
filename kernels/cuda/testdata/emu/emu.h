// emu.h: just enough of CUDA C++ to compile kernels/cuda/*.cu as host C++
// for the tests' CPU emulation (emu_test.go). Force-included (g++ -include)
// before each .cu. Every CUDA thread of a block is a host thread;
// __syncthreads is a barrier; __shared__ variables are function statics
// (one block runs at a time); blockIdx and threadIdx are thread-local.
#pragma once
#include <math.h>

struct emu_dim3 {
    unsigned x, y, z;
};
extern thread_local emu_dim3 threadIdx, blockIdx;
extern emu_dim3 blockDim, gridDim;
void __syncthreads();

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
