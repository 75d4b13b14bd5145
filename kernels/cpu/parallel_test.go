package cpu

import (
	"fmt"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// BenchmarkParallel measures the split of elementwise work across
// goroutines against a single loop, for a cheap operation (a product), the
// float32 tanh kernel with both derivatives (activate32) and the float64
// reference loop (ActivationAt, as float64 and gelu run), at sizes around
// parallelMin. It is the measurement behind parallelMin and the costs.
func BenchmarkParallel(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 18, 1 << 20} {
		x, y, d, d2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(kernels.NormalAt(1, uint64(i))), float32(kernels.NormalAt(2, uint64(i)))
		}
		mul := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = x[i] * y[i]
			}
		}
		tanh32 := func(lo, hi int) {
			activate32(kernels.Tanh, x[lo:hi], d[lo:hi], y[lo:hi], d2[lo:hi])
		}
		tanh64 := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				s, s1, s2 := ActivationAt(kernels.Tanh, float64(x[i]))
				d[i], y[i], d2[i] = float32(s), float32(s1), float32(s2)
			}
		}
		for _, op := range []struct {
			name string
			f    func(lo, hi int)
		}{{"mul", mul}, {"tanh32", tanh32}, {"tanh64", tanh64}} {
			b.Run(fmt.Sprintf("%s/n=%d/serial", op.name, n), func(b *testing.B) {
				for b.Loop() {
					op.f(0, n)
				}
			})
			b.Run(fmt.Sprintf("%s/n=%d/split", op.name, n), func(b *testing.B) {
				for b.Loop() {
					splitAlways(n, op.f)
				}
			})
		}
	}
}

// splitAlways is parallel without the size threshold.
func splitAlways(n int, f func(lo, hi int)) { parallel(n, parallelMin, f) }
