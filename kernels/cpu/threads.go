package cpu

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// threads is the thread count set by SetThreads; 0 means one per core.
var threads atomic.Int64

// SetThreads sets how many threads the CPU backend computes with, process
// wide: OpenBLAS's own threads (openblas_set_num_threads) and the
// goroutines that its elementwise loops, random fills and Gram-Schmidt are
// split over. The two run one after the other, never at once, so n threads
// in all are busy at any time: no oversubscription. n <= 0 means one per
// core available to the process (runtime.GOMAXPROCS). It returns the count
// in effect. Results do not depend on it (see the package doc).
func SetThreads(n int) int {
	if n < 0 {
		n = 0
	}
	blasMu.Lock()
	defer blasMu.Unlock()
	threads.Store(int64(n))
	blasThreads(Threads())
	blasCount.Store(int64(Threads()))
	blasNow.Store(int64(Threads()))
	return Threads()
}

// Threads returns the thread count in effect (see SetThreads).
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// narrowFlops is the most flops (2*m*n*k) of a GEMM that runs on one BLAS
// thread whatever Threads() is. Measured with BenchmarkGemmNarrow
// (gemm_bench_test.go; 2026-12, AMD EPYC Zen 3, 2 vCPUs shared with other
// jobs, OpenBLAS 0.3.21, float32, two runs of 200 interleaved pairs): the
// products of a 10-wide output layer at batch 512 (5.2 MFLOP each) took
// 0.54x (aᵀ·d, 512×10 by k 512) and 0.59x (d·Wᵀ, 512×512 by k 10) the time
// on one thread that they took on two, and the same (a·W, 512×10 by k 512,
// which OpenBLAS keeps on one thread itself); the 512×512×512 products
// (268 MFLOP) gain from the second thread. 2^23 takes the first and leaves
// the second with a margin of 32x either way.
const narrowFlops = 1 << 23

// blasMu orders changes of OpenBLAS's thread count against GEMMs: a GEMM
// holds it for reading, and a change (SetThreads, or a narrow GEMM's switch
// to one thread and back) for writing, so that no GEMM runs with a count
// another goroutine set for its own.
var blasMu sync.RWMutex

// blasThreads is setBLASThreads; tests replace it to see the calls.
var blasThreads = setBLASThreads

// blasCount is the thread count OpenBLAS was last given, when it was
// loaded or by SetThreads (0 before either: OpenBLAS's own default, left
// alone). It is not Threads(), which follows GOMAXPROCS until SetThreads
// is called.
var blasCount atomic.Int64

// blasNow is the thread count OpenBLAS has at the moment: blasCount, or 1
// after a narrow GEMM. A narrow GEMM leaves OpenBLAS on one thread and the
// next wide one gives it blasCount back, so that a run of narrow products
// (every product of a small model, the output layer's in a larger one)
// switches once, not twice a product: openblas_set_num_threads took a
// sixth of the CPU time of the dense-Hessian tests of models when each
// narrow product switched to one thread and back.
var blasNow atomic.Int64

// withBLAS runs gemm, a BLAS GEMM of m×n×k, on one BLAS thread when it is
// narrow (2*m*n*k <= narrowFlops) and OpenBLAS has more (blasCount), and on
// OpenBLAS's count otherwise, switching OpenBLAS's count (blasNow) only
// when it is not the one wanted. (OpenBLAS's bits can depend on its thread
// count: the 512×32 aᵀ·d by k 256 differs in the last bits between 1 and 2
// threads, TestNarrowGemmOneThread; narrow products give one thread's bits
// whatever Threads() is.)
func withBLAS(m, n, k int, gemm func()) {
	narrow := 2*float64(m)*float64(n)*float64(k) <= narrowFlops
	blasMu.RLock()
	if blasNow.Load() == wantBLAS(narrow) {
		gemm()
		blasMu.RUnlock()
		return
	}
	blasMu.RUnlock()
	// Switch, and run this GEMM before anyone switches back.
	blasMu.Lock()
	defer blasMu.Unlock()
	if want := wantBLAS(narrow); blasNow.Load() != want {
		blasThreads(int(want))
		blasNow.Store(want)
	}
	gemm()
}

// wantBLAS is the OpenBLAS thread count for a narrow or a wide GEMM: 1 for
// a narrow one where OpenBLAS has more, blasCount otherwise (0 before
// OpenBLAS is loaded: its own default, left alone). Callers hold blasMu.
func wantBLAS(narrow bool) int64 {
	if p := blasCount.Load(); !narrow || p <= 1 {
		return p
	}
	return 1
}
