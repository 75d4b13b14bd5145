package cpu

import (
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// BenchmarkElementwise32 compares, in one run, the float32 assembly loops
// of Mul3Add, MulAdd and AddRow with the Go loops they replace (the
// float64 evaluation, rounded once), on 16384 elements (in L2).
func BenchmarkElementwise32(b *testing.B) {
	const n = 1 << 14
	d, x, y, z := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i], y[i], z[i] = float32(kernels.NormalAt(1, uint64(i))), float32(kernels.NormalAt(2, uint64(i))), float32(kernels.NormalAt(3, uint64(i)))
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
	}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Mul3Add/go", func() {
			for i := range d {
				d[i] = float32(float64(d[i]) + float64(x[i])*float64(y[i])*float64(z[i]))
			}
		}},
		{"Mul3Add/asm", func() { mul3AddF32(d, x, y, z) }},
		{"MulAdd/go", func() {
			for i := range d {
				d[i] = float32(float64(d[i]) + float64(x[i])*float64(y[i]))
			}
		}},
		{"MulAdd/asm", func() { mulAddF32(d, x, y) }},
		{"Add/go", func() {
			for i, v := range x {
				d[i] += v
			}
		}},
		{"Add/asm", func() { addF32(d, x) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			clear(d)
			for b.Loop() {
				c.f()
			}
			report(b)
		})
	}
}
