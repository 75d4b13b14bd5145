package probe_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/probetest"
)

// checkLanczos compares a Lanczos result with the sorted eigenvalues eig:
// each Ritz value to eigTol‖H‖, each true residual and bound to 1e-8‖H‖.
func checkLanczos(t *testing.T, name string, op probe.Operator[[]float64], r *probe.LanczosResult[[]float64], eig []float64) {
	t.Helper()
	n := len(eig)
	norm := maxAbs(eig)
	for i, th := range r.Top {
		if d := math.Abs(th - eig[n-1-i]); d > eigTol*norm {
			t.Errorf("%s: top[%d] = %.17g, want %.17g (diff %.3g)", name, i, th, eig[n-1-i], d)
		}
	}
	for i, th := range r.Bottom {
		if d := math.Abs(th - eig[i]); d > eigTol*norm {
			t.Errorf("%s: bottom[%d] = %.17g, want %.17g (diff %.3g)", name, i, th, eig[i], d)
		}
	}
	check := func(which string, vals []float64, vecs [][]float64, res, bounds []float64) {
		for i := range vecs {
			got := residual(t, op, vecs[i], vals[i])
			if got > eigTol*norm || math.Abs(got-res[i]) > 1e-12*norm || bounds[i] > eigTol*norm {
				t.Errorf("%s: %s[%d] residual %.3g, reported %.3g, bound %.3g", name, which, i, got, res[i], bounds[i])
			}
			if nv := host.Nrm2(vecs[i]); math.Abs(nv-1) > 1e-12 {
				t.Errorf("%s: %s[%d] ‖x‖ = %.17g", name, which, i, nv)
			}
		}
	}
	check("top", r.Top, r.TopVectors, r.TopResiduals, r.TopBounds)
	check("bottom", r.Bottom, r.BottomVectors, r.BottomResiduals, r.BottomBounds)
}

// checkSizes fails t unless r holds k top and bottom eigenvalues, top
// vectors and bottom residuals.
func checkSizes[V any](t *testing.T, name string, r *probe.LanczosResult[V], k int) {
	t.Helper()
	if len(r.Top) != k || len(r.Bottom) != k || len(r.TopVectors) != k || len(r.BottomResiduals) != k {
		t.Fatalf("%s: result sizes %d %d %d %d, want %d", name, len(r.Top), len(r.Bottom), len(r.TopVectors), len(r.BottomResiduals), k)
	}
}

func TestLanczosSpectra(t *testing.T) {
	ctx := context.Background()
	for _, s := range spectra() {
		op, _, eig := dense(s.lambda, 7)
		r, err := probe.Lanczos(ctx, op, host, probe.LanczosSettings{TopK: 3, BottomK: 3, Vectors: true, MaxSteps: op.Dim()})
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		t.Logf("%s: n = %d, %d steps, %d applies", s.name, op.Dim(), r.Steps, r.Stats.Applies)
		checkSizes(t, s.name, r, 3)
		// "repeated": single-vector Lanczos sees each eigenvalue once in
		// exact arithmetic; with full reorthogonalisation the second copies
		// of 7 and -2 grow from rounding once the first have converged
		// (Parlett 1998, 13.6), so all six still match.
		checkLanczos(t, s.name, op, r, eig)
	}
}

func TestLanczosDefaults(t *testing.T) {
	// The zero settings ask for λmax alone.
	op, _, eig := dense(spectra()[0].lambda, 8)
	rec := &recorder{}
	r, err := probe.Lanczos(context.Background(), op, host, probe.LanczosSettings{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Top) != 1 || len(r.Bottom) != 0 || r.TopVectors != nil || r.TopResiduals != nil {
		t.Fatalf("result %+v", r)
	}
	checkLanczos(t, "defaults", op, r, eig)
	if rec.n == 0 || rec.stage != "lanczos" || rec.last.Estimate != r.Top[0] {
		t.Errorf("recorder %+v", rec)
	}
	if r.Stats.Applies != r.Steps {
		t.Errorf("%d applies for %d steps", r.Stats.Applies, r.Steps)
	}
}

func TestLanczosSmallDim(t *testing.T) {
	// Dim (7) below MaxSteps and below TopK+BottomK (4+4): the Krylov
	// space fills the whole space and the Ritz values are the exact
	// spectrum; top and bottom overlap.
	lambda := []float64{3, -1, 2, 2.5, 0.5, -4, 1}
	op, _, eig := dense(lambda, 9)
	r, err := probe.Lanczos(context.Background(), op, host, probe.LanczosSettings{TopK: 4, BottomK: 4, MaxSteps: 100, Vectors: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps != 7 || len(r.Top) != 4 || len(r.Bottom) != 4 {
		t.Fatalf("steps %d, top %v, bottom %v", r.Steps, r.Top, r.Bottom)
	}
	checkLanczos(t, "small", op, r, eig)
	// Dim 1.
	op1, _, _ := dense([]float64{-2.5}, 1)
	r1, err := probe.Lanczos(context.Background(), op1, host, probe.LanczosSettings{TopK: 1, BottomK: 1})
	if err != nil || r1.Top[0] != r1.Bottom[0] || math.Abs(r1.Top[0]+2.5) > 1e-15 {
		t.Errorf("Dim 1: %v %+v", err, r1)
	}
}

func TestLanczosLowRank(t *testing.T) {
	// Rank 4 in dimension 120, with a double top eigenvalue: the Krylov
	// space becomes invariant after at most 5 steps. Lanczos restarts with
	// fresh vectors orthogonal to the basis, which finds the second copy
	// of 6 and the multiplicity of the null space.
	lambda := make([]float64, 120)
	copy(lambda, []float64{6, 6, -3, 1})
	op, _, eig := dense(lambda, 10)
	r, err := probe.Lanczos(context.Background(), op, host, probe.LanczosSettings{TopK: 2, BottomK: 3, Vectors: true, MaxSteps: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("low rank: %d steps, top %v, bottom %v", r.Steps, r.Top, r.Bottom)
	if r.Steps >= 40 {
		t.Logf("ran to MaxSteps")
	}
	checkLanczos(t, "low rank", op, r, eig)
}

func TestLanczosNotConverged(t *testing.T) {
	op, _, eig := dense(spectra()[1].lambda, 11) // clustered top
	r, err := probe.Lanczos(context.Background(), op, host, probe.LanczosSettings{TopK: 3, MaxSteps: 6, Vectors: true})
	if !errors.Is(err, probe.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if r.Steps != 6 || len(r.Top) != 3 || len(r.TopVectors) != 3 {
		t.Fatalf("partial result: steps %d, top %v", r.Steps, r.Top)
	}
	// Ritz values interlace: the partial top values lie below the true ones.
	n := len(eig)
	for i, th := range r.Top {
		if th > eig[n-1-i]+1e-12 {
			t.Errorf("top[%d] = %.17g above λ = %.17g", i, th, eig[n-1-i])
		}
	}
}

func TestLanczosCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, _ := dense(spectra()[1].lambda, 12)
	op := &cancelAfter{Operator: base, n: 8, cancel: cancel}
	r, err := probe.Lanczos(ctx, op, host, probe.LanczosSettings{TopK: 2, Vectors: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r.Steps != 8 || len(r.Top) != 2 || len(r.TopVectors) != 2 || r.TopResiduals != nil {
		t.Fatalf("partial result: steps %d, top %v, vectors %d, residuals %v", r.Steps, r.Top, len(r.TopVectors), r.TopResiduals)
	}
}

func TestLanczosPanics(t *testing.T) {
	op, _, _ := dense(linspace(1, 3, 3), 1)
	op10, _, _ := dense(linspace(1, 3, 10), 1)
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Errorf("MaxSteps too low: no panic")
			}
		}()
		probe.Lanczos(context.Background(), op10, host, probe.LanczosSettings{TopK: 2, BottomK: 2, MaxSteps: 3})
	}()
	for name, s := range map[string]probe.LanczosSettings{
		"negative TopK":  {TopK: -1},
		"TopK above Dim": {TopK: 4},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			probe.Lanczos(context.Background(), op, host, s)
		}()
	}
}

// Wanted is the one default of the extreme-eigenvalue estimates: the
// largest eigenvalue alone when nothing is asked for.
func TestLanczosSettingsWanted(t *testing.T) {
	for _, c := range []struct{ top, bottom, wantTop, wantBottom int }{
		{0, 0, 1, 0}, {3, 0, 3, 0}, {0, 2, 0, 2}, {2, 5, 2, 5},
	} {
		if top, bottom := (probe.LanczosSettings{TopK: c.top, BottomK: c.bottom}).Wanted(); top != c.wantTop || bottom != c.wantBottom {
			t.Errorf("TopK %d BottomK %d: Wanted %d %d, want %d %d", c.top, c.bottom, top, bottom, c.wantTop, c.wantBottom)
		}
	}
}

// reflected is the operator P diag(lambda) P with P = I - 2uu^T/(u^T u), a
// Householder reflection: its eigenvalues are lambda, and a product costs
// O(n), so that tests can use dimensions where dense matrices would not
// fit.
type reflected struct {
	lambda, u []float64
	uu        float64
	w         []float64
}

func newReflected(lambda []float64, seed uint64) *reflected {
	r := &reflected{lambda: lambda, u: make([]float64, len(lambda)), w: make([]float64, len(lambda))}
	host.Normal(r.u, seed)
	r.uu = host.Dot(r.u, r.u)
	return r
}

func (r *reflected) Dim() int { return len(r.lambda) }

func (r *reflected) Apply(_ context.Context, dst, v []float64) error {
	copy(r.w, v)
	host.Axpy(-2*host.Dot(r.u, r.w)/r.uu, r.u, r.w)
	for i, l := range r.lambda {
		r.w[i] *= l
	}
	copy(dst, r.w)
	host.Axpy(-2*host.Dot(r.u, dst)/r.uu, r.u, dst)
	return nil
}

// everyStepLimit is the last step at which Lanczos tests convergence at
// every step on an operator of dimension n (CheckEvery 0): checkCost·m² <= n.
func everyStepLimit(n int) int {
	m := 0
	for 25*(m+1)*(m+1) <= n {
		m++
	}
	return m
}

// testsUpTo is the number of convergence tests of CheckEvery 0 in a run of
// steps steps for need wanted eigenvalues: every step from need to lim,
// then every fifth.
func testsUpTo(steps, lim, need int) int {
	return lim - need + 1 + steps/5 - lim/5
}

// TestLanczosStopsAtFirstConvergedStep checks the automatic convergence
// test spacing (CheckEvery 0): on an operator large enough that a test
// costs little beside a step's reorthogonalisation, Lanczos tests every
// step and stops at the first Krylov space that meets Tol, with not one
// product past it: the same steps and values as CheckEvery 1, and one step
// fewer does not converge. Tests every 5 steps would run up to 4 products
// more.
func TestLanczosStopsAtFirstConvergedStep(t *testing.T) {
	ctx := context.Background()
	const n = 25000 // tests at every step up to m = 31
	lambda := concat([]float64{10, 8, 6.5}, linspace(-1, 5, n-3))
	op := newReflected(lambda, 12)
	eig := slices.Sorted(slices.Values(lambda))
	for _, c := range []struct {
		name string
		s    probe.LanczosSettings
	}{
		{"top 1 tol 1e-7", probe.LanczosSettings{Tol: 1e-7}},
		{"top 3 tol 1e-8", probe.LanczosSettings{TopK: 3, Tol: 1e-8}},
		{"top 2 tol 1e-9", probe.LanczosSettings{TopK: 2, Tol: 1e-9}},
	} {
		auto, err := probe.Lanczos(ctx, op, host, c.s)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkLanczos(t, c.name, op, auto, eig)
		every := c.s
		every.CheckEvery = 1
		one, err := probe.Lanczos(ctx, op, host, every)
		if err != nil {
			t.Fatalf("%s, CheckEvery 1: %v", c.name, err)
		}
		t.Logf("%s: %d steps (CheckEvery 1: %d)", c.name, auto.Steps, one.Steps)
		if one.Steps > everyStepLimit(n) {
			t.Fatalf("%s: %d steps, beyond the every-step range of n = %d: the case tests nothing", c.name, one.Steps, n)
		}
		if auto.Steps != one.Steps || auto.Stats.Applies != one.Steps {
			t.Errorf("%s: %d steps and %d products, want the %d of CheckEvery 1", c.name, auto.Steps, auto.Stats.Applies, one.Steps)
		}
		short := c.s
		short.MaxSteps = one.Steps - 1
		if _, err := probe.Lanczos(ctx, op, host, short); !errors.Is(err, probe.ErrNotConverged) {
			t.Errorf("%s: MaxSteps %d: err %v, want ErrNotConverged (so %d steps is the first that converges)", c.name, short.MaxSteps, err, one.Steps)
		}
	}
}

// TestLanczosEverySmallOnly: where a test would cost more than a small
// part of a step (the 900-dimensional dense operator: every step only up
// to m = 6), Lanczos keeps testing every 5 steps.
func TestLanczosEverySmallOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 900x900 dense operator")
	}
	// The spectrum is known: the matrix is Q diag(lambda) Q^T, exact to
	// rounding (1e-13 of its norm, well inside eigTol), so no dense
	// eigendecomposition of it is needed.
	lambda := concat([]float64{10, 8, 6.5}, linspace(-1, 5, 897))
	op, eig := probe.NewDense(probetest.WithSpectrum(lambda, 12)), slices.Sorted(slices.Values(lambda))
	rec := &recorder{}
	r, err := probe.Lanczos(context.Background(), op, host, probe.LanczosSettings{TopK: 3, Tol: 1e-8, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	checkLanczos(t, "n = 900", op, r, eig)
	lim := everyStepLimit(op.Dim())
	if want := testsUpTo(r.Steps, lim, 3); r.Steps%5 != 0 || rec.n != want {
		t.Errorf("%d steps, %d convergence tests, want a multiple of 5 and %d tests", r.Steps, rec.n, want)
	}
}

// TestLanczosClusteredTopEveryStep: with a test at every step, Lanczos
// must not stop while a cluster at the top is unresolved. The top three
// eigenvalues lie within 2e-4 relative of each other; after a few steps the
// largest Ritz value already sits near the cluster and moves by little from
// step to step, so a rule that stopped when the Ritz values stagnate (or
// once the largest pair converged) would report one eigenvalue of the
// cluster three times or miss the others. The residual bound of each
// wanted pair, tested every step, gives all three to 1e-8 of the known
// spectrum.
func TestLanczosClusteredTopEveryStep(t *testing.T) {
	ctx := context.Background()
	const n = 25000
	lambda := concat([]float64{10, 9.999, 9.998}, linspace(-1, 9, n-3))
	op := newReflected(lambda, 13)
	rec := &recorder{}
	r, err := probe.Lanczos(ctx, op, host, probe.LanczosSettings{TopK: 3, Vectors: true, Recorder: rec, MaxSteps: 300})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clustered top, n = %d: %d steps, %d convergence tests, top %v", n, r.Steps, rec.n, r.Top)
	checkLanczos(t, "clustered top", op, r, slices.Sorted(slices.Values(lambda)))
	for i := 1; i < len(r.Top); i++ {
		if r.Top[i-1]-r.Top[i] < 5e-4 {
			t.Errorf("top %v: the cluster's members are not resolved", r.Top)
		}
	}
	// Tests at every step up to m = 31, every 5 after: all of the first
	// ones saw the unresolved cluster and went on.
	lim := everyStepLimit(n)
	if want := testsUpTo(r.Steps, lim, 3); r.Steps <= lim || rec.n != want {
		t.Errorf("%d steps, %d convergence tests, want more than %d steps and %d tests", r.Steps, rec.n, lim, want)
	}
}

// concat returns the parts one after another in a new slice.
func concat(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
