package cpu

import (
	"runtime"
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
	threads.Store(int64(n))
	setBLASThreads(Threads())
	return Threads()
}

// Threads returns the thread count in effect (see SetThreads).
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}
