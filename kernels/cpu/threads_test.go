package cpu

import (
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
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
