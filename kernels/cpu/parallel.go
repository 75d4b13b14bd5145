package cpu

import "sync"

// parallelMin is the least work, in units of one memory-bound element
// operation, that is split across goroutines; costTranscendental is the
// work of an element that calls math.Tanh, Exp, Erfc or Log (the float64
// activations, and float32 gelu), costActivate32 that of the float32
// assembly activations (act32.go).
//
// Measured with BenchmarkParallel (parallel_test.go) on a 2-core machine
// shared with other jobs (2026-11, go1.26, float32): tanh with its
// derivative by math.Tanh ran 1.15x faster split at 16384 elements, 1.5x at
// 32768 and 1.7x at 65536, and slower at 8192; a product (memory-bound)
// gained nothing consistent at any size from 32768 to 1<<20 elements. So
// only the activations and the random fills are split, and products, sums
// and fills stay single loops (costMemory puts them past any realistic
// size).
//
// Re-measured for the float32 kernels (2026-12, AMD EPYC Zen 3, 2 cores
// under a load average of 7-14 from other jobs, so single runs were off by
// up to 4x and only trends mean anything; medians of 5, two runs): split
// against serial, tanh32 with both derivatives gained 1.95x and 1.71x at
// 1<<20 elements, lost (0.64x, 0.68x) at 1<<18 in both runs, where a
// serial pass takes about as long as a time slice of the loaded second
// core, and was inconsistent (0.4x to 3.8x) from 4096 to 65536.
// BenchmarkActivate32 put the kernel at 1/15 to 1/40 of the float64
// path's time per element. The rule kept is the one measured on the
// float64 path: split from about 100 µs of serial work (16384 of its
// elements); for the kernel that is about 131072 elements, costActivate32
// = 1, the least integer cost, so a batch of 512 rows of 256 or more units
// is split. On a machine as loaded as this one the split does not pay
// below 1<<20; on a quiet one the goroutine start (microseconds) is far
// below the 50 µs of each half.
const (
	parallelMin        = 1 << 17
	costTranscendental = 8
	costActivate32     = 1
	costMemory         = 1
)

// parallel calls f on contiguous chunks [lo, hi) covering [0, n), in
// parallel across Threads() goroutines when n*cost is at least
// parallelMin, and as f(0, n) otherwise. cost is the relative work per
// index (1 for an element, cols for a row).
func parallel(n, cost int, f func(lo, hi int)) {
	p := Threads()
	if p < 2 || n < 2 || n*cost < parallelMin {
		f(0, n)
		return
	}
	// No chunk smaller than parallelMin/2 elements' worth of work.
	if mx := n * cost / (parallelMin / 2); p > mx {
		p = mx
	}
	if p > n {
		p = n
	}
	var wg sync.WaitGroup
	for w := 1; w < p; w++ {
		lo, hi := w*n/p, (w+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	f(0, n/p)
	wg.Wait()
}
