package probe_test

import (
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/probetest"
)

// DenseSpectrum of a matrix with a chosen spectrum (a block of exact
// zeros, negative zeros and values on either side of a band) returns that
// spectrum to rounding (ε·max|λ|·n, here 1e-12 absolute), counts the
// fractions exactly, and never returns a negative zero.
func TestDenseSpectrumKnown(t *testing.T) {
	lambda := []float64{-3, -1e-2, -1e-5, math.Copysign(0, -1), 0, 0, 1e-5, 2e-4, 0.5, 4}
	a := probetest.WithSpectrum(lambda, 5)
	fs, err := probe.DenseSpectrum(a, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{-3, -1e-2, -1e-5, 0, 0, 0, 1e-5, 2e-4, 0.5, 4}
	const abs = 1e-12 // n·ε·max|λ| = 10 · 2.2e-16 · 4, with room
	for i, v := range fs.Values {
		if math.Abs(v-want[i]) > abs {
			t.Errorf("eigenvalue %d = %.17g, want %g", i, v, want[i])
		}
	}
	// The band ±1e-3 holds -1e-5, the three zeros, 1e-5 and 2e-4.
	pos, neg, zero := fs.Fractions(1e-3)
	if pos != 0.2 || neg != 0.2 || zero != 0.6 {
		t.Errorf("fractions %v %v %v, want 0.2 0.2 0.6", pos, neg, zero)
	}
	var sum, sum2 float64
	for _, v := range want {
		sum += v
		sum2 += v * v
	}
	if math.Abs(fs.Trace()-sum) > abs || math.Abs(fs.Moment(1)-sum/10) > abs || math.Abs(fs.Moment(2)-sum2/10) > 1e-11 {
		t.Errorf("trace %g moment1 %g moment2 %g, want %g %g %g", fs.Trace(), fs.Moment(1), fs.Moment(2), sum, sum/10, sum2/10)
	}
	if r, c := fs.Vectors.Dims(); r != 10 || c != 10 {
		t.Fatalf("vectors %dx%d", r, c)
	}
}

// An exact zero matrix has only zero eigenvalues, none of them -0, and
// its fractions are all near zero.
func TestDenseSpectrumNoNegativeZero(t *testing.T) {
	a := probetest.WithSpectrum([]float64{0, 0, 0}, 1)
	a.ScaleSym(-1, a) // -0 entries wherever the rounding left exact zeros
	fs, err := probe.DenseSpectrum(a, false)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, v float64) {
		if v == 0 && math.Signbit(v) {
			t.Errorf("%s is -0", what)
		}
	}
	for _, v := range fs.Values {
		check("eigenvalue", v)
	}
	pos, neg, zero := fs.Fractions(0)
	check("positive", pos)
	check("negative", neg)
	if zero != 1 {
		t.Errorf("near zero %v, want 1", zero)
	}
	check("trace", fs.Trace())
	check("moment 1", fs.Moment(1))
	check("moment 3", fs.Moment(3))
	check("negative magnitude", fs.NegativeMagnitude())
	x, y := fs.Grid(5, 1)
	for i := range x {
		check("grid", x[i])
		check("density", y[i])
	}
}
