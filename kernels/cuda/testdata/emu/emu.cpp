// emu.cpp: the launcher of the tests' CPU emulation of the CUDA kernels.
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "emu.h"

thread_local emu_dim3 threadIdx, blockIdx;
emu_dim3 blockDim, gridDim;

static std::barrier<>* bar;
static bool threaded;

void __syncthreads() {
    if (!threaded) {
        fprintf(stderr, "emu: __syncthreads in a kernel launched without threads\n");
        abort();
    }
    bar->arrive_and_wait();
}

// Every kernel's arguments are 8-byte integers or pointers, ints, or
// doubles, at most 8 of the first kind and 8 of the last, so on x86-64
// System V a call through this type with the integer-class arguments in
// order, then the doubles in order, passes each where the kernel reads it.
typedef void (*generic_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                           uint64_t, double, double, double, double, double, double, double, double);

// emu_launch runs fn on gx blocks of bx*by threads. kinds[i] is 'p', 'i' or
// 'd' for params[i]. With threads = 0 the threads of a block run one after
// another on this thread (kernels without __syncthreads).
extern "C" int emu_launch(void* fn, int n, const char* kinds, void** params, unsigned gx, unsigned bx,
                          unsigned by, int threads) {
    uint64_t ia[8] = {0};
    double da[8] = {0};
    int ni = 0, nd = 0;
    for (int i = 0; i < n; i++) {
        if (kinds[i] == 'd') {
            if (nd == 8) return 1;
            da[nd++] = *(double*)params[i];
        } else if (kinds[i] == 'i') {
            if (ni == 8) return 1;
            ia[ni++] = (uint64_t)(uint32_t) * (int32_t*)params[i];
        } else {
            if (ni == 8) return 1;
            ia[ni++] = *(uint64_t*)params[i];
        }
    }
    generic_fn f = (generic_fn)fn;
    blockDim = {bx, by, 1};
    gridDim = {gx, 1, 1};
    threaded = threads != 0;
    auto body = [&](unsigned b, unsigned tx, unsigned ty) {
        blockIdx = {b, 0, 0};
        threadIdx = {tx, ty, 0};
        f(ia[0], ia[1], ia[2], ia[3], ia[4], ia[5], ia[6], ia[7], da[0], da[1], da[2], da[3], da[4], da[5],
          da[6], da[7]);
    };
    for (unsigned b = 0; b < gx; b++) {
        if (!threaded) {
            for (unsigned ty = 0; ty < by; ty++)
                for (unsigned tx = 0; tx < bx; tx++) body(b, tx, ty);
            continue;
        }
        std::barrier<> br(bx * by);
        bar = &br;
        std::vector<std::thread> ts;
        for (unsigned ty = 0; ty < by; ty++)
            for (unsigned tx = 0; tx < bx; tx++) ts.emplace_back(body, b, tx, ty);
        for (auto& t : ts) t.join();
    }
    return 0;
}
