package probe_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// zeroCluster is a spectrum like a network's Hessian near a critical point
// (issue 14): max|λ| = 1, a large cluster within ±1e-3 (the default band of
// 1e-3 of the spectral radius), dense bulks on both sides of it whose
// density grows towards zero, and a few outliers. Of n = 10·m eigenvalues,
// near counts 2m within ±8e-4.
func zeroCluster(m int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	var l []float64
	for i := 0; i < 2*m; i++ {
		l = append(l, 8e-4*(2*r.Float64()-1))
	}
	for i := 0; i < 4*m; i++ {
		u := r.Float64()
		l = append(l, 1.2e-3+0.2*u*u*u)
	}
	for i := 0; i < 3*m; i++ {
		u := r.Float64()
		l = append(l, -1.2e-3-0.1*u*u*u)
	}
	for i := 0; i < m-1; i++ {
		l = append(l, 0.2+0.6*r.Float64())
	}
	return append(l, 1)
}

// fractionSpectra are the spectra the fractions are tested on: the test
// spectra of the other estimators, the near-zero cluster, and a positive
// semidefinite one with a third of its eigenvalues exactly zero (a
// Gauss-Newton matrix of a network with more parameters than outputs).
func fractionSpectra() []spectrum {
	psd := append(linspace(0.01, 4, 140), make([]float64, 70)...)
	return append(spectra(), spectrum{"zero cluster", zeroCluster(25, 1)}, spectrum{"psd with zeros", psd})
}

// exactFractions returns the fractions of eigenvalues above tol, below
// -tol and between, each as an interval: eigenvalues within 1e-9·max|λ| of
// ±tol may fall on either side (a Lanczos rule cannot place them more
// finely: its nodes err by a few ε‖H‖).
func exactFractions(lambda []float64, tol float64) (pos, neg, near [2]float64) {
	delta := 1e-9 * maxAbs(lambda)
	count := func(f func(float64) bool) float64 {
		var c int
		for _, l := range lambda {
			if f(l) {
				c++
			}
		}
		return float64(c) / float64(len(lambda))
	}
	pos = [2]float64{count(func(l float64) bool { return l > tol+delta }), count(func(l float64) bool { return l > tol-delta })}
	neg = [2]float64{count(func(l float64) bool { return l < -tol-delta }), count(func(l float64) bool { return l < -tol+delta })}
	near = [2]float64{1 - pos[1] - neg[1], 1 - pos[0] - neg[0]}
	return pos, neg, near
}

// checkFraction reports a fraction whose estimate is further than limit
// from the exact value, or that is a negative zero.
func checkFraction(t *testing.T, what string, f probe.Fraction, exact [2]float64, limit float64) {
	t.Helper()
	if math.Signbit(f.Value) || math.Signbit(f.Bias) || f.Value < 0 || f.Value > 1 {
		t.Errorf("%s: value %v, bias %v", what, f.Value, f.Bias)
	}
	d := math.Max(0, math.Max(exact[0]-f.Value, f.Value-exact[1]))
	if !(d <= limit) {
		t.Errorf("%s = %.4f (bias %.3g, stderr %.3g), exact %.4f: |diff| %.3g > %.3g", what, f.Value, f.Bias, f.StdErr, exact[0], d, limit)
	}
}

// On a diagonal matrix every Rademacher probe's measure Σ (v·e_i)² δ(t-λ_i)
// is the spectral density itself (v_i² = 1/n), so the bracket of every
// probe holds the exact fractions and so does their mean: the estimate is
// within its Bias of the exact count, whatever the steps and the band
// (this is the theorem behind the bias bound, checked to rounding). With
// as many steps as the dimension the rule is exact and the bias vanishes.
func TestFractionsBracketExact(t *testing.T) {
	ctx := context.Background()
	for _, s := range fractionSpectra() {
		n := len(s.lambda)
		diag := mat.NewSymDense(n, nil)
		for i, l := range s.lambda {
			diag.SetSym(i, i, l)
		}
		op := probe.NewDense(diag)
		norm := maxAbs(s.lambda)
		for _, steps := range []int{3, 10, 40, 80, n} {
			d, err := probe.SLQ(ctx, op, host, probe.SLQSettings{Probes: 3, Steps: steps, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			for _, tol := range []float64{0, 1e-3 * norm, 0.05 * norm, 0.5 * norm} {
				f := d.Fractions(tol)
				pos, neg, near := exactFractions(s.lambda, tol)
				// Rounding: the Lanczos coefficients and the eigensolves
				// of T_k err by a few ε; 1e-9 is far above that and far
				// below any real fraction (1/n >= 1/400).
				const round = 1e-9
				checkFraction(t, s.name+" positive", f.Positive, pos, f.Positive.Bias+round)
				checkFraction(t, s.name+" negative", f.Negative, neg, f.Negative.Bias+round)
				checkFraction(t, s.name+" near zero", f.NearZero, near, f.NearZero.Bias+round)
				if steps == n && f.Positive.Bias+f.Negative.Bias+f.NearZero.Bias > round {
					t.Errorf("%s, %d steps = n, tol %g: biases %g %g %g, want 0", s.name, steps, tol, f.Positive.Bias, f.Negative.Bias, f.NearZero.Bias)
				}
			}
		}
	}
}

// The bracket is sharp, not merely valid: its width is the weight of the
// Radau node at the band's edge, so it shrinks as the steps resolve the
// band. On the near-zero cluster (22% within ±8e-4, none within 4e-4 of
// the band's edges ±1.2e-3... see zeroCluster) the near-zero bias falls
// with the steps and the band is unresolved (Resolution > Tol) at 10 steps.
func TestFractionsResolution(t *testing.T) {
	ctx := context.Background()
	lambda := zeroCluster(25, 1)
	n := len(lambda)
	diag := mat.NewSymDense(n, nil)
	for i, l := range lambda {
		diag.SetSym(i, i, l)
	}
	op := probe.NewDense(diag)
	const tol = 1e-3
	prev := math.Inf(1)
	for _, steps := range []int{10, 40, 160, n} {
		d, err := probe.SLQ(ctx, op, host, probe.SLQSettings{Probes: 4, Steps: steps, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		f := d.Fractions(tol)
		t.Logf("%3d steps: near zero %.4f ± %.3g (bias), resolution %.3g", steps, f.NearZero.Value, f.NearZero.Bias, f.Resolution)
		if steps == 10 && !(f.Resolution > tol) {
			t.Errorf("10 steps resolve %g <= tol %g", f.Resolution, tol)
		}
		if f.NearZero.Bias > prev+1e-12 {
			t.Errorf("%d steps: bias %g grew from %g", steps, f.NearZero.Bias, prev)
		}
		prev = f.NearZero.Bias
	}
	if prev > 1e-9 {
		t.Errorf("bias %g at n steps", prev)
	}
}

// On rotated matrices (probe measures that differ from the density) the
// fractions at the defaults, 10 Rademacher probes × 80 steps, are within
// their error bars Bias + 3 StdErr of the exact counts (seeded, so a pass
// is reproducible); the estimates sum to one.
func TestFractionsErrorBars(t *testing.T) {
	ctx := context.Background()
	for i, s := range fractionSpectra() {
		op, _, eig := dense(s.lambda, uint64(30+i))
		norm := maxAbs(eig)
		d, err := probe.SLQ(ctx, op, host, probe.SLQSettings{Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tol := range []float64{1e-3 * norm, 0.05 * norm} {
			f := d.Fractions(tol)
			pos, neg, near := exactFractions(eig, tol)
			checkFraction(t, s.name+" positive", f.Positive, pos, f.Positive.Err())
			checkFraction(t, s.name+" negative", f.Negative, neg, f.Negative.Err())
			checkFraction(t, s.name+" near zero", f.NearZero, near, f.NearZero.Err())
			if sum := f.Positive.Value + f.Negative.Value + f.NearZero.Value; f.NearZero.Value > 0 && math.Abs(sum-1) > 1e-12 {
				t.Errorf("%s: fractions sum to %.17g", s.name, sum)
			}
			t.Logf("%-15s tol %.2g: + %.3f±%.3f (%.3f)  - %.3f±%.3f (%.3f)  0 %.3f±%.3f (%.3f); resolution %.2g",
				s.name, tol, f.Positive.Value, f.Positive.Err(), pos[0], f.Negative.Value, f.Negative.Err(), neg[0],
				f.NearZero.Value, f.NearZero.Err(), near[0], f.Resolution)
		}
	}
}

// A single probe has no spread: its StdErr is +Inf (as Moment's), so its
// error bar is infinite, never a false claim of accuracy.
func TestFractionsSingleProbe(t *testing.T) {
	op, _, _ := dense(spectra()[0].lambda, 2)
	d, err := probe.SLQ(context.Background(), op, host, probe.SLQSettings{Probes: 1, Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	f := d.Fractions(0.01)
	if !math.IsInf(f.Positive.Err(), 1) || math.IsNaN(f.Positive.Value) {
		t.Errorf("one probe: %+v", f.Positive)
	}
}
