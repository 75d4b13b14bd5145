package cpu

import (
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// SetThreads bounds the goroutines of the backend's own loops and is what
// OpenBLAS is told (BLASName reports it); 0 goes back to one per core.
func TestSetThreads(t *testing.T) {
	defer SetThreads(0)
	for _, n := range []int{1, 3} {
		if got := SetThreads(n); got != n || Threads() != n {
			t.Fatalf("SetThreads(%d) = %d, Threads() = %d", n, got, Threads())
		}
		var live, most atomic.Int64
		parallel(1<<22, costMemory, func(lo, hi int) {
			c := live.Add(1)
			for {
				m := most.Load()
				if c <= m || most.CompareAndSwap(m, c) {
					break
				}
			}
			for i := lo; i < hi; i += 1 << 12 {
				runtime.Gosched()
			}
			live.Add(-1)
		})
		if most.Load() > int64(n) {
			t.Errorf("threads %d: %d goroutines at once", n, most.Load())
		}
		if name := BLASName(); strings.HasPrefix(name, "OpenBLAS") && !strings.Contains(name, "; "+strconv.Itoa(n)+" threads") {
			t.Errorf("threads %d: BLASName %q", n, name)
		}
	}
	if got := SetThreads(0); got != runtime.GOMAXPROCS(0) {
		t.Fatalf("SetThreads(0) = %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
}

// TestNarrowGemmOneThread checks that a narrow GEMM (narrowFlops) runs on
// one BLAS thread, that OpenBLAS stays there for the narrow ones after it
// and gets its count back at the next large one, that any GEMM under
// SetThreads(1) leaves the count alone, and that the narrow product's
// result is the same as on all threads. Its narrow product, 512x32 by 256
// (2^23 flops), is wider than what gemmNarrow32 takes from the BLAS.
func TestNarrowGemmOneThread(t *testing.T) {
	defer SetThreads(Threads())
	var calls []int
	defer func(f func(int)) { blasThreads = f }(blasThreads)
	blasThreads = func(n int) { calls = append(calls, n); setBLASThreads(n) }
	be := New[float32]()
	gemm := func(m, n, k int) []float32 {
		a, b, c := be.Alloc(m*k), be.Alloc(k*n), be.Alloc(m*n)
		be.Normal(a, 1)
		be.Normal(b, 2)
		be.Gemm(kernels.Transpose, kernels.NoTrans, m, n, k, 1, a, m, b, n, 0, c, n)
		return Slice[float32](c)
	}
	check := func(what string, want []int) {
		t.Helper()
		if !slices.Equal(calls, want) {
			t.Errorf("%s set the BLAS threads to %v, want %v", what, calls, want)
		}
		calls = nil
	}
	SetThreads(2)
	calls = nil
	narrow := gemm(512, 32, 256)
	check("512x32 by 256 on 2 threads", []int{1})
	gemm(512, 32, 256)
	check("a second 512x32 by 256 on 2 threads", nil)
	gemm(512, 512, 512)
	check("512x512 by 512 on 2 threads after a narrow one", []int{2})
	gemm(512, 512, 512)
	check("a second 512x512 by 512 on 2 threads", nil)
	SetThreads(1)
	calls = nil
	same := gemm(512, 32, 256)
	gemm(512, 512, 512)
	check("512x32 by 256 and 512x512 by 512 on 1 thread", nil)
	// OpenBLAS gets back the count it had, not Threads(), which follows
	// GOMAXPROCS (a run's results must not depend on GOMAXPROCS).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	SetThreads(0)
	runtime.GOMAXPROCS(3)
	calls = nil
	gemm(512, 32, 256)
	gemm(512, 512, 512)
	check("512x32 by 256 then 512x512 by 512 with OpenBLAS on 2 threads and GOMAXPROCS 3", []int{1, 2})
	for i := range narrow {
		if math.Float32bits(narrow[i]) != math.Float32bits(same[i]) {
			t.Fatalf("element %d: %v with the switch, %v on one thread", i, narrow[i], same[i])
		}
	}
}
