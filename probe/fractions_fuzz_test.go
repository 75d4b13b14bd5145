package probe_test

import (
	"context"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// FuzzFractionsBracket checks the theorem behind Fractions' bias bound on
// arbitrary small spectra: on a diagonal matrix every Rademacher probe's
// measure is the spectral density, so each fraction must lie within its
// Bias (plus rounding) of the exact count, at any number of steps and any
// band, with repeated eigenvalues, zeros and eigenvalues on the band's
// edges; values are in [0, 1], never -0, and the biases are finite and
// non-negative. The spectrum is the fuzz bytes read as int8 eigenvalues /16
// (up to 48 of them); steps and tol come from two more bytes.
func FuzzFractionsBracket(f *testing.F) {
	f.Add([]byte{0, 0, 0, 16, 32, 48, 0xf0, 0xe0}, uint8(3), uint8(16))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(4), uint8(2))
	f.Add([]byte{0x80, 0x7f, 0, 0, 0, 0, 0, 1, 0xff}, uint8(2), uint8(0))
	f.Add([]byte{16, 16, 16, 16, 0xf0, 0xf0}, uint8(40), uint8(16))
	f.Fuzz(func(t *testing.T, raw []byte, stepsByte, tolByte uint8) {
		if len(raw) == 0 || len(raw) > 48 {
			return
		}
		n := len(raw)
		lambda := make([]float64, n)
		diag := mat.NewSymDense(n, nil)
		for i, b := range raw {
			lambda[i] = float64(int8(b)) / 16
			diag.SetSym(i, i, lambda[i])
		}
		steps := int(stepsByte)%n + 1
		tol := float64(tolByte) / 64
		d, err := probe.SLQ(context.Background(), probe.NewDense(diag), host, probe.SLQSettings{Probes: 2, Steps: steps, Seed: uint64(stepsByte)})
		if err != nil {
			t.Fatal(err)
		}
		fr := d.Fractions(tol)
		pos, neg, near := exactFractions(lambda, tol)
		// Rounding: Lanczos and the eigensolves of T err by a few ε‖T‖;
		// eigenvalues are multiples of 1/16 up to 8, so 1e-9 is far above
		// rounding and far below a single eigenvalue's 1/48.
		const round = 1e-9
		for _, c := range []struct {
			what  string
			f     probe.Fraction
			exact [2]float64
		}{{"positive", fr.Positive, pos}, {"negative", fr.Negative, neg}, {"near zero", fr.NearZero, near}} {
			if math.IsNaN(c.f.Bias) || math.IsInf(c.f.Bias, 0) || c.f.Bias < 0 || math.Signbit(c.f.Bias) {
				t.Fatalf("%s: bias %v", c.what, c.f.Bias)
			}
			if !(c.f.Value >= 0 && c.f.Value <= 1) || math.Signbit(c.f.Value) {
				t.Fatalf("%s: value %v", c.what, c.f.Value)
			}
			if dist := math.Max(0, math.Max(c.exact[0]-c.f.Value, c.f.Value-c.exact[1])); dist > c.f.Bias+round {
				t.Fatalf("%s = %.6f, bias %.3g, exact %v: off by %.3g (λ %v, steps %d, tol %g)", c.what, c.f.Value, c.f.Bias, c.exact, dist, lambda, steps, tol)
			}
		}
	})
}
