package probe_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// counting is a Space that counts live vectors and remembers the most
// that were live at once: the memory an estimator holds.
type counting struct {
	probe.Host
	live, peak int
}

func (c *counting) Alloc(n int) []float64 {
	c.live++
	c.peak = max(c.peak, c.live)
	return c.Host.Alloc(n)
}

func (c *counting) Free(v []float64) {
	c.live--
	c.Host.Free(v)
}

// TestStreamLanczosSpectra compares StreamLanczos's top and bottom
// eigenvalues and Ritz vectors with gonum's dense eigensolver (checkLanczos:
// each value to eigTol = 1e-8 of ‖H‖, each true residual and bound to
// 1e-8‖H‖) on every test spectrum, and checks that it holds StreamVectors
// vectors besides the start vector and the two Ritz vectors (StreamVectors
// alone without Ritz vectors), and that the
// second pass costs Steps-1 products plus one per residual.
func TestStreamLanczosSpectra(t *testing.T) {
	ctx := context.Background()
	for _, s := range spectra() {
		op, _, eig := dense(s.lambda, 7)
		sp := &counting{}
		// Without reorthogonalisation Dim steps do not make the Ritz
		// values exact: "tiny" needs more to resolve its bottom cluster.
		r, err := probe.StreamLanczos(ctx, op, sp, probe.LanczosSettings{TopK: 1, BottomK: 1, Vectors: true, MaxSteps: 4 * op.Dim()}, nil)
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		t.Logf("%s: n = %d, %d steps, %d applies", s.name, op.Dim(), r.Steps, r.Stats.Applies)
		checkSizes(t, s.name, r, 1)
		checkLanczos(t, s.name, op, r, eig)
		if want := r.Steps + r.Steps - 1 + 2; r.Stats.Applies != want {
			t.Errorf("%s: %d applies for %d steps with two Ritz vectors, want %d", s.name, r.Stats.Applies, r.Steps, want)
		}
		if want := probe.StreamVectors + 1 + 2; sp.peak != want {
			t.Errorf("%s: %d vectors live at once, want %d", s.name, sp.peak, want)
		}
		if sp.live != 2 {
			t.Errorf("%s: %d vectors not freed, want the 2 returned", s.name, sp.live)
		}
	}
}

// TestStreamLanczosMatchesLanczos runs both methods for λmax on the same
// operators: the values agree to eigTol, and the streaming recurrence
// takes no more steps than full reorthogonalisation needs (it checks every
// step, Lanczos every fifth) plus a few lost to orthogonality.
func TestStreamLanczosMatchesLanczos(t *testing.T) {
	ctx := context.Background()
	for _, s := range spectra() {
		op, _, eig := dense(s.lambda, 3)
		set := probe.LanczosSettings{TopK: 1, Tol: 1e-10, MaxSteps: op.Dim(), Seed: 5}
		full, err := probe.Lanczos(ctx, op, host, set)
		if err != nil {
			t.Fatalf("%s: Lanczos: %v", s.name, err)
		}
		st, err := probe.StreamLanczos(ctx, op, host, set, nil)
		if err != nil {
			t.Fatalf("%s: StreamLanczos: %v", s.name, err)
		}
		lmax := eig[len(eig)-1]
		if d := math.Abs(st.Top[0] - lmax); d > eigTol*maxAbs(eig) {
			t.Errorf("%s: λmax %.17g, want %.17g", s.name, st.Top[0], lmax)
		}
		if st.Steps > full.Steps+5 {
			t.Errorf("%s: %d streaming steps, %d with full reorthogonalisation", s.name, st.Steps, full.Steps)
		}
		t.Logf("%s: Lanczos %d steps, StreamLanczos %d", s.name, full.Steps, st.Steps)
		sp := &counting{}
		if _, err := probe.StreamLanczos(ctx, op, sp, set, nil); err != nil || sp.peak != probe.StreamVectors || sp.live != 0 {
			t.Errorf("%s: without Ritz vectors %d vectors live at once, %d at the end (%v), want %d and 0", s.name, sp.peak, sp.live, err, probe.StreamVectors)
		}
	}
}

// TestStreamLanczosWarmStart starts from a vector close to the top
// eigenvector: it converges in fewer steps than from a random vector,
// and the start vector is not modified.
func TestStreamLanczosWarmStart(t *testing.T) {
	ctx := context.Background()
	op, m, eig := dense(spectra()[1].lambda, 4) // clustered top
	set := probe.LanczosSettings{TopK: 1, Tol: 1e-8, Vectors: true}
	cold, err := probe.StreamLanczos(ctx, op, host, set, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A perturbed copy of the converged vector.
	start := perturbed(cold.TopVectors[0], 1e-6, 9)
	keep := append([]float64(nil), start...)
	for _, f := range []func() (*probe.LanczosResult[[]float64], error){
		func() (*probe.LanczosResult[[]float64], error) {
			return probe.StreamLanczos(ctx, op, host, set, &start)
		},
		func() (*probe.LanczosResult[[]float64], error) {
			return probe.LanczosFrom(ctx, op, host, set, &start)
		},
	} {
		warm, err := f()
		if err != nil {
			t.Fatal(err)
		}
		if warm.Steps >= cold.Steps {
			t.Errorf("warm start took %d steps, cold %d", warm.Steps, cold.Steps)
		}
		if d := math.Abs(warm.Top[0] - eig[len(eig)-1]); d > eigTol*maxAbs(eig) {
			t.Errorf("warm λmax %.17g, want %.17g", warm.Top[0], eig[len(eig)-1])
		}
		t.Logf("cold %d steps, warm %d", cold.Steps, warm.Steps)
	}
	for i := range start {
		if start[i] != keep[i] {
			t.Fatalf("start vector modified at %d", i)
		}
	}
	_ = m
}

// TestStreamLanczosInvariant: a rank-3 operator makes the Krylov space
// invariant after at most 4 steps; StreamLanczos stops there with exact
// Ritz values and a zero bound.
func TestStreamLanczosInvariant(t *testing.T) {
	lambda := make([]float64, 50)
	copy(lambda, []float64{4, -2, 1})
	op, _, eig := dense(lambda, 6)
	r, err := probe.StreamLanczos(context.Background(), op, host, probe.LanczosSettings{TopK: 1, BottomK: 1, Vectors: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Steps > 4 {
		t.Errorf("%d steps for a rank-3 operator", r.Steps)
	}
	checkLanczos(t, "rank 3", op, r, eig)
}

func TestStreamLanczosNotConvergedAndCancel(t *testing.T) {
	op, _, eig := dense(spectra()[1].lambda, 11)
	r, err := probe.StreamLanczos(context.Background(), op, host, probe.LanczosSettings{MaxSteps: 4, Vectors: true}, nil)
	if !errors.Is(err, probe.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if r.Steps != 4 || len(r.Top) != 1 || len(r.TopVectors) != 1 || r.Top[0] > eig[len(eig)-1]+1e-12 {
		t.Fatalf("partial result: steps %d, top %v (λmax %v), vectors %d", r.Steps, r.Top, eig[len(eig)-1], len(r.TopVectors))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sp := &counting{}
	cop := &cancelAfter{Operator: op, n: 3, cancel: cancel}
	r, err = probe.StreamLanczos(ctx, cop, sp, probe.LanczosSettings{Vectors: true}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r.Steps != 3 || len(r.Top) != 1 || r.TopVectors != nil || sp.live != 0 {
		t.Fatalf("cancelled: steps %d, top %v, vectors %d, %d vectors live", r.Steps, r.Top, len(r.TopVectors), sp.live)
	}
}

// TestStreamLanczosProgress: a report per step, with the relative residual
// bound and the tolerance.
func TestStreamLanczosProgress(t *testing.T) {
	op, _, _ := dense(spectra()[0].lambda, 2)
	rec := &recorder{}
	r, err := probe.StreamLanczos(context.Background(), op, host, probe.LanczosSettings{Tol: 1e-6, Recorder: rec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.n != r.Steps || rec.last.Estimate != r.Top[0] || rec.last.Tol != 1e-6 || !(rec.last.Residual <= 1e-6) ||
		math.Abs(rec.last.Residual-r.TopBounds[0]/math.Abs(r.Top[0])) > 1e-15 {
		t.Errorf("%d reports for %d steps, last %+v, result %v bound %v", rec.n, r.Steps, rec.last, r.Top, r.TopBounds)
	}
}

func TestStreamLanczosPanics(t *testing.T) {
	op, _, _ := dense(linspace(1, 3, 3), 1)
	for name, s := range map[string]probe.LanczosSettings{
		"TopK 2":        {TopK: 2},
		"negative":      {BottomK: -1},
		"negative tol":  {Tol: -1},
		"negative step": {MaxSteps: -1},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			probe.StreamLanczos(context.Background(), op, host, s, nil)
		}()
	}
}
