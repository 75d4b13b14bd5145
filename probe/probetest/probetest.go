// Package probetest is the conformance suite of probe's estimators: Check
// runs power iteration, Lanczos, Hutchinson and SLQ on an Operator and
// compares them with the dense eigendecomposition of the same matrix.
// Packages that provide an Operator (the exact Hessian of an MLP, a GGN)
// call it from their tests with the dense matrix they assembled.
package probetest

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// WithSpectrum returns the symmetric matrix Q diag(lambda) Q^T for a
// random orthogonal Q, the Q factor of a QR factorisation of a Gaussian
// matrix drawn from seed (the Normal stream of probe.Host). Its
// eigenvalues are lambda up to rounding of order ε max|λ|.
func WithSpectrum(lambda []float64, seed uint64) *mat.SymDense {
	n := len(lambda)
	g := make([]float64, n*n)
	probe.Host{}.Normal(g, seed)
	var qr mat.QR
	qr.Factorize(mat.NewDense(n, n, g))
	var q mat.Dense
	qr.QTo(&q)
	// H = Q diag(λ) Q^T, formed as (Q D) Q^T and symmetrised exactly.
	qd := mat.DenseCopyOf(&q)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			qd.Set(i, j, qd.At(i, j)*lambda[j])
		}
	}
	var h mat.Dense
	h.Mul(qd, q.T())
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, 0.5*(h.At(i, j)+h.At(j, i)))
		}
	}
	return s
}

// Eigenvalues returns the eigenvalues of a, ascending, by gonum's dense
// symmetric eigensolver. It panics if the solver fails.
func Eigenvalues(a *mat.SymDense) []float64 {
	var e mat.EigenSym
	if !e.Factorize(a, false) {
		panic("probetest: EigenSym failed")
	}
	v := e.Values(nil)
	sort.Float64s(v)
	return v
}

// Check runs the estimators of probe on op, whose matrix is dense, and
// reports disagreements with the dense eigendecomposition of dense through
// t. tol is the relative accuracy demanded of eigenvalues, relative to the
// spectral norm ‖H‖ = max|λ| (eigenvalues near zero cannot be resolved to
// relative accuracy); 1e-8 suits an exact float64 operator, about 1e-4 a
// float32 one. It checks:
//
//   - power iteration (Tol = tol, up to 2000 iterations) converges to the
//     eigenvalue of largest magnitude within tol‖H‖, with residual
//     ‖Hv-λv‖ <= 2 tol‖H‖ (skipped, with a log line, when the largest
//     magnitude of an eigenvalue other than the dominant one is within 1%
//     of the dominant magnitude, where power iteration stalls);
//   - Lanczos for the 3 largest and 3 smallest eigenpairs with vectors
//     (Tol 1e-10, MaxSteps = Dim) converges; λmax and λmin match within
//     tol‖H‖; every Ritz value lies within tol‖H‖ of an eigenvalue and on
//     the correct side of the eigenvalue of the same rank (Cauchy
//     interlacing); Ritz values of rank i match the i-th eigenvalue when
//     it is separated from its neighbours by more than 1e-6‖H‖ (single
//     vector Lanczos may miss copies of a multiple eigenvalue); Ritz
//     vectors have unit norm and true residuals within 10 tol‖H‖;
//   - Hutchinson with 200 probes is within 3 standard errors of tr(H)
//     (the criterion issue 2 sets; the probes are seeded, so a pass is
//     reproducible), plus tol‖H‖n for rounding;
//   - SLQ with 10 probes of min(Dim, 40) steps has per-probe weights that
//     sum to 1 within 1e-12, a broadened density that integrates to 1
//     within 1e-3 (trapezoid rule on 2001 points, σ = ‖H‖/50), and moments
//     k = 1..4 within 4 standard errors (across probes) of tr(H^k)/n, plus
//     tol‖H‖^k.
func Check[V any](t *testing.T, op probe.Operator[V], sp probe.Space[V], dense *mat.SymDense, tol float64) {
	t.Helper()
	n := dense.SymmetricDim()
	if op.Dim() != n {
		t.Fatalf("probetest: op.Dim() = %d, dense matrix is %d×%d", op.Dim(), n, n)
	}
	if n == 0 {
		return
	}
	ctx := context.Background()
	lambda := Eigenvalues(dense)
	norm := math.Max(math.Abs(lambda[0]), math.Abs(lambda[n-1]))
	abs := tol * norm

	// Power iteration.
	byMag := append([]float64(nil), lambda...)
	sort.Slice(byMag, func(i, j int) bool { return math.Abs(byMag[i]) > math.Abs(byMag[j]) })
	// The convergence ratio is |λ2/λ1| for the largest magnitude λ2 of an
	// eigenvalue other than λ1 (copies of λ1 do not slow it down).
	var second float64
	for _, l := range byMag[1:] {
		if math.Abs(l-byMag[0]) > abs {
			second = math.Abs(l)
			break
		}
	}
	if second > 0.99*math.Abs(byMag[0]) {
		t.Logf("probetest: power iteration skipped: |λ2/λ1| = %.4f", second/math.Abs(byMag[0]))
	} else {
		p, err := probe.PowerIteration(ctx, op, sp, probe.PowerSettings[V]{Tol: tol, MaxIter: 2000, Seed: 1})
		if err != nil {
			t.Errorf("PowerIteration: %v after %d iterations (residual %.3g)", err, p.Stats.Iterations, p.Residual)
		} else {
			if d := math.Abs(p.Value - byMag[0]); d > abs {
				t.Errorf("PowerIteration: λ = %.17g, dense %.17g, |diff| = %.3g > %.3g", p.Value, byMag[0], d, abs)
			}
			if r := trueResidual(t, op, sp, p.Vector, p.Value); r > 2*abs {
				t.Errorf("PowerIteration: ‖Hv-λv‖ = %.3g > %.3g", r, 2*abs)
			}
		}
		sp.Free(p.Vector)
	}

	// Lanczos.
	k := min(3, n)
	l, err := probe.Lanczos(ctx, op, sp, probe.LanczosSettings{TopK: k, BottomK: k, MaxSteps: n, Vectors: true, Seed: 2})
	if err != nil {
		t.Errorf("Lanczos: %v after %d steps", err, l.Steps)
	}
	desc := make([]float64, n)
	for i := range desc {
		desc[i] = lambda[n-1-i]
	}
	checkRitz(t, "top", l.Top, desc, abs, norm, func(theta, lam float64) bool { return theta <= lam+abs })
	checkRitz(t, "bottom", l.Bottom, lambda, abs, norm, func(theta, lam float64) bool { return theta >= lam-abs })
	for i, v := range append(append([]V(nil), l.TopVectors...), l.BottomVectors...) {
		if nv := sp.Nrm2(v); math.Abs(nv-1) > 1e-8 {
			t.Errorf("Lanczos: Ritz vector %d has norm %.17g", i, nv)
		}
	}
	for i, r := range append(append([]float64(nil), l.TopResiduals...), l.BottomResiduals...) {
		if r > 10*abs {
			t.Errorf("Lanczos: Ritz pair %d has residual %.3g > %.3g", i, r, 10*abs)
		}
	}
	for _, v := range l.TopVectors {
		sp.Free(v)
	}
	for _, v := range l.BottomVectors {
		sp.Free(v)
	}

	// Hutchinson.
	var trace float64
	for _, x := range lambda {
		trace += x
	}
	h, err := probe.Hutchinson(ctx, op, sp, probe.TraceSettings{Probes: 200, Seed: 3})
	if err != nil {
		t.Errorf("Hutchinson: %v", err)
	}
	if d := math.Abs(h.Value - trace); d > 3*h.StdErr+abs*float64(n) {
		t.Errorf("Hutchinson: %.6g ± %.3g, exact trace %.6g (%.1f standard errors)", h.Value, h.StdErr, trace, d/h.StdErr)
	}

	// SLQ.
	d, err := probe.SLQ(ctx, op, sp, probe.SLQSettings{Probes: 10, Steps: min(n, 40), Seed: 4})
	if err != nil {
		t.Errorf("SLQ: %v", err)
	}
	for j := 0; j < d.Probes(); j++ {
		var s float64
		for _, w := range d.Weights(j) {
			s += w
		}
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("SLQ: weights of probe %d sum to %.17g", j, s)
		}
	}
	sigma := norm / 50
	if sigma == 0 {
		sigma = 1
	}
	x, y := d.Grid(2001, sigma)
	if integral := Trapezoid(x, y); math.Abs(integral-1) > 1e-3 {
		t.Errorf("SLQ: density integrates to %.6g", integral)
	}
	for p := 1; p <= 4; p++ {
		exact := Moment(lambda, p)
		got, se := d.Moment(p), d.MomentStdErr(p)
		if diff := math.Abs(got - exact); diff > 4*se+tol*math.Pow(norm, float64(p)) {
			t.Errorf("SLQ: moment %d = %.6g ± %.3g, exact %.6g", p, got, se, exact)
		}
	}
}

// checkRitz checks Ritz values theta (in the order of want) against the
// eigenvalues want of the same order.
func checkRitz(t *testing.T, which string, theta, want []float64, abs, norm float64, interlaced func(theta, lam float64) bool) {
	t.Helper()
	if len(theta) == 0 {
		t.Errorf("Lanczos: no %s Ritz values", which)
		return
	}
	for i, th := range theta {
		near := math.Inf(1)
		for _, l := range want {
			near = math.Min(near, math.Abs(th-l))
		}
		if near > abs {
			t.Errorf("Lanczos %s[%d] = %.17g is %.3g from the nearest eigenvalue", which, i, th, near)
		}
		if !interlaced(th, want[i]) {
			t.Errorf("Lanczos %s[%d] = %.17g is beyond eigenvalue %.17g", which, i, th, want[i])
		}
		simple := (i == 0 || math.Abs(want[i]-want[i-1]) > 1e-6*norm) &&
			(i+1 == len(want) || math.Abs(want[i+1]-want[i]) > 1e-6*norm)
		if (i == 0 || simple) && math.Abs(th-want[i]) > abs {
			t.Errorf("Lanczos %s[%d] = %.17g, dense %.17g, |diff| = %.3g > %.3g", which, i, th, want[i], math.Abs(th-want[i]), abs)
		}
	}
}

func trueResidual[V any](t *testing.T, op probe.Operator[V], sp probe.Space[V], v V, lambda float64) float64 {
	t.Helper()
	w := sp.Alloc(op.Dim())
	defer sp.Free(w)
	if err := op.Apply(context.Background(), w, v); err != nil {
		t.Fatalf("probetest: Apply: %v", err)
	}
	sp.Axpy(-lambda, v, w)
	return sp.Nrm2(w)
}

// Moment returns the k-th spectral moment (1/n) Σ λ_i^k of the n
// eigenvalues lambda, tr(H^k)/n, which SLQ estimates.
func Moment(lambda []float64, k int) float64 {
	var s float64
	for _, x := range lambda {
		s += math.Pow(x, float64(k))
	}
	return s / float64(len(lambda))
}

// Trapezoid returns the trapezoid-rule integral of the samples y at the
// increasing points x.
func Trapezoid(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("probetest: length mismatch")
	}
	var s float64
	for i := 1; i < len(x); i++ {
		s += 0.5 * (x[i] - x[i-1]) * (y[i] + y[i-1])
	}
	return s
}
