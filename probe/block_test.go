package probe_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// Block power iteration finds the K eigenpairs of largest magnitude: values
// within 1e-8·‖H‖ of gonum's dense eigenvalues (a relative residual of
// 1e-9 bounds each error by 1e-9·‖H‖), true residuals as reported,
// orthonormal vectors; with a BatchOperator it applies the block in one
// call and gives bit-identical results.
func TestBlockPowerIteration(t *testing.T) {
	ctx := context.Background()
	lambda := append([]float64{10, 9, 8.5, -7}, linspace(-3, 5, 120)...)
	op, _, eigs := dense(lambda, 5)
	norm := maxAbs(eigs)
	s := probe.BlockPowerSettings{K: 4, Tol: 1e-9, Seed: 3, MaxIter: 2000}
	r, err := probe.BlockPowerIteration(ctx, op, host, s)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{10, 9, 8.5, -7} // the four largest magnitudes, by value
	for i, w := range want {
		if math.Abs(r.Values[i]-w) > 1e-8*norm {
			t.Errorf("value %d = %.12g, want %v", i, r.Values[i], w)
		}
		if got := residual(t, op, r.Vectors[i], r.Values[i]); math.Abs(got-r.Residuals[i]) > 1e-12*norm || got > 2e-9*norm {
			t.Errorf("pair %d: residual %.3g, reported %.3g", i, got, r.Residuals[i])
		}
		for j := 0; j <= i; j++ {
			d, wantDot := host.Dot(r.Vectors[i], r.Vectors[j]), 0.0
			if i == j {
				wantDot = 1
			}
			if math.Abs(d-wantDot) > 1e-10 {
				t.Errorf("x%d·x%d = %.3g", i, j, d)
			}
		}
	}
	if r.Stats.Applies != 4*r.Stats.Iterations {
		t.Errorf("%d applies in %d iterations of a block of 4", r.Stats.Applies, r.Stats.Iterations)
	}
	bop := &looped{Operator: op}
	rb, err := probe.BlockPowerIteration[[]float64](ctx, bop, host, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rb.Values, r.Values) || bop.calls != rb.Stats.Iterations || bop.largest != 4 {
		t.Errorf("batched: values %v (unbatched %v), %d ApplyBatch calls of up to %d vectors in %d iterations",
			rb.Values, r.Values, bop.calls, bop.largest, rb.Stats.Iterations)
	}
	// A shift by λmax turns it towards the bottom: the smallest eigenvalue.
	sh, err := probe.BlockPowerIteration(ctx, op, host, probe.BlockPowerSettings{K: 1, Tol: 1e-9, Shift: 10, MaxIter: 5000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sh.Values[0]-(-7)) > 1e-8*norm {
		t.Errorf("shifted: %.12g, want -7", sh.Values[0])
	}
	// Too few iterations: the partial result with ErrNotConverged.
	short, err := probe.BlockPowerIteration(ctx, op, host, probe.BlockPowerSettings{K: 2, MaxIter: 2, Tol: 1e-12})
	if !errors.Is(err, probe.ErrNotConverged) || len(short.Values) != 2 || short.Stats.Iterations != 2 {
		t.Errorf("MaxIter 2: %v, %+v", err, short.Stats)
	}
}
