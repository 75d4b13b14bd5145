package cpu

import (
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// BenchmarkParallel measures the split of elementwise work across
// goroutines against a single loop, for a cheap operation (a product) and
// an expensive one (tanh with both derivatives), at sizes around
// parallelMin. It is the measurement behind parallelMin.
func BenchmarkParallel(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 18, 1 << 20} {
		x, y, d := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], y[i] = float32(kernels.NormalAt(1, uint64(i))), float32(kernels.NormalAt(2, uint64(i)))
		}
		mul := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = x[i] * y[i]
			}
		}
		tanh := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				t := math.Tanh(float64(x[i]))
				d[i], y[i] = float32(t), float32(1-t*t)
			}
		}
		for _, op := range []struct {
			name string
			f    func(lo, hi int)
		}{{"mul", mul}, {"tanh", tanh}} {
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
