package cpu

import (
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// TestColSum32SameBits checks that ColSum's float32 assembly (a float64
// accumulator per column, row by row) gives the same bits as the Go loop,
// for widths across the 4-lane blocks and tails, alpha and beta included.
func TestColSum32SameBits(t *testing.T) {
	be := New[float32]()
	for _, cols := range []int{1, 3, 4, 5, 8, 10, 13, 512} {
		for _, rows := range []int{0, 1, 2, 7, 64} {
			x := be.Alloc(rows * cols)
			be.Normal(x, uint64(rows*1000+cols))
			var got [2][]float32
			for k, asm := range []bool{true, false} {
				saved := hasAVX2FMA
				hasAVX2FMA = asm && saved
				dst := be.Alloc(cols)
				be.Fill(dst, 0.5)
				be.ColSum(dst, x, rows, cols, 0.25, -2)
				hasAVX2FMA = saved
				got[k] = append([]float32(nil), Slice[float32](dst)...)
			}
			for j := range got[0] {
				if math.Float32bits(got[0][j]) != math.Float32bits(got[1][j]) {
					t.Errorf("%dx%d: column %d: assembly %v, Go loop %v", rows, cols, j, got[0][j], got[1][j])
				}
			}
		}
	}
}

// TestFillZeroSign checks Fill's zeroing shortcut: 0 gives +0 over a view
// inside guard values that stay, and -0 still gives -0.
func TestFillZeroSign(t *testing.T) {
	be := New[float32]()
	b := be.Alloc(10)
	be.Fill(b, math.NaN())
	be.Fill(be.View(b, 2, 6), 0)
	be.Fill(be.View(b, 8, 1), math.Copysign(0, -1))
	s := Slice[float32](b)
	for i, v := range s {
		switch {
		case i >= 2 && i < 8:
			if math.Float32bits(v) != 0 {
				t.Errorf("element %d: %v, want +0", i, v)
			}
		case i == 8:
			if math.Float32bits(v) != 1<<31 {
				t.Errorf("element %d: %v, want -0", i, v)
			}
		default:
			if !math.IsNaN(float64(v)) {
				t.Errorf("guard element %d: %v, want NaN untouched", i, v)
			}
		}
	}
}

func rangeTo(n int) []int {
	out := make([]int, n+1)
	for i := range out {
		out[i] = i
	}
	return out
}

// TestDot32 checks the float32 dot product behind Dot, DotMany and Nrm2
// (the sum of squares is dot32(x, x)) at every length 0..70 and long ones,
// on signed values spread over many binades, for x·y and for x·x: the
// assembly and the Go loop give the same bits (the documented order, so
// that a result does not depend on the CPU's instruction set); the result
// is within the float64 rounding of n additions (relative (n+1)*2^-53,
// twice that for two orders) of the sum of |x[i]*y[i]| from one running
// sum; and the inputs are unchanged.
func TestDot32(t *testing.T) {
	for _, n := range append(rangeTo(70), 1000, 100003) {
		x, y, sq := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i] = float32(kernels.NormalAt(5, uint64(i)) * math.Exp2(float64(i%37-18)))
			y[i] = float32(kernels.NormalAt(6, uint64(i)) * math.Exp2(float64(i%23-11)))
			sq[i] = float32(kernels.NormalAt(3, uint64(i)) * math.Exp2(float64(i%41-20)))
		}
		for _, c := range []struct {
			name string
			x, y []float32
		}{{"x·y", x, y}, {"x·x", sq, sq}} {
			ox, oy := append([]float32(nil), c.x...), append([]float32(nil), c.y...)
			asm := dot32(c.x, c.y)
			saved := hasAVX2FMA
			hasAVX2FMA = false
			goLoop := dot32(c.x, c.y)
			hasAVX2FMA = saved
			if math.Float64bits(asm) != math.Float64bits(goLoop) {
				t.Errorf("%s n=%d: assembly %v, Go loop %v (want the same bits)", c.name, n, asm, goLoop)
			}
			var want, abs float64
			for i := range c.x {
				want += float64(c.x[i]) * float64(c.y[i])
				abs += math.Abs(float64(c.x[i]) * float64(c.y[i]))
			}
			if tol := 2 * float64(n+1) * 0x1p-53 * abs; math.Abs(asm-want) > tol {
				t.Errorf("%s n=%d: dot %v, want %v within %v", c.name, n, asm, want, tol)
			}
			for i := range c.x {
				if math.Float32bits(c.x[i]) != math.Float32bits(ox[i]) || math.Float32bits(c.y[i]) != math.Float32bits(oy[i]) {
					t.Fatalf("%s n=%d: input %d changed", c.name, n, i)
				}
			}
		}
	}
}
