package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// relu32 gives relu's bits (NaN as NaN) on every sign, zero, infinity,
// subnormal and random bit patterns, the derivatives asked for or not (the
// first 1008 values by the AVX2 kernel where there is one, the last 4 by
// the Go loop; then all of them in Go).
func TestRelu32MatchesRelu(t *testing.T) {
	t.Run("asm", testRelu32)
	t.Run("go", func(t *testing.T) {
		defer func(v bool) { hasAVX2FMA = v }(hasAVX2FMA)
		hasAVX2FMA = false
		testRelu32(t)
	})
}

func testRelu32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	z := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.NaN()), -float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}
	for range 1000 {
		z = append(z, math.Float32frombits(r.Uint32()))
	}
	n := len(z)
	a1, d11, d21 := make([]float32, n), make([]float32, n), make([]float32, n)
	a2, d12, d22 := make([]float32, n), make([]float32, n), make([]float32, n)
	relu(z, a1, d11, d21)
	relu32(z, a2, d12, d22)
	// Without the derivatives, or without s" alone: the same a (and s').
	a3, d13 := make([]float32, n), make([]float32, n)
	a4 := make([]float32, n)
	relu32(z, a3, d13, nil)
	relu32(z, a4, nil, nil)
	for i := range z {
		for _, p := range [][2]float32{{a1[i], a2[i]}, {d11[i], d12[i]}, {d21[i], d22[i]}, {a1[i], a3[i]}, {d11[i], d13[i]}, {a1[i], a4[i]}} {
			if math.Float32bits(p[0]) != math.Float32bits(p[1]) && !(p[0] != p[0] && p[1] != p[1]) {
				t.Fatalf("z=%v (%#x): relu %v, relu32 %v", z[i], math.Float32bits(z[i]), p[0], p[1])
			}
		}
	}
}

// relu32 against relu's branch on the sign, on random signs (the case of
// a network's pre-activations).
func BenchmarkRelu(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	z := make([]float32, 1<<18)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	a, d1 := make([]float32, len(z)), make([]float32, len(z))
	b.Run("branch", func(b *testing.B) {
		for range b.N {
			relu(z, a, d1, nil)
		}
	})
	b.Run("relu32", func(b *testing.B) {
		for range b.N {
			relu32(z, a, d1, nil)
		}
	})
}
