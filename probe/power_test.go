package probe_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// perturbed returns a copy of v plus eps times a standard normal vector
// drawn from seed: a warm start near, but not at, a converged vector.
func perturbed(v []float64, eps float64, seed uint64) []float64 {
	start := append([]float64(nil), v...)
	noise := make([]float64, len(start))
	host.Normal(noise, seed)
	host.Axpy(eps, noise, start)
	return start
}

func TestPowerIteration(t *testing.T) {
	ctx := context.Background()
	for _, s := range spectra() {
		if s.name == "clustered" || s.name == "repeated" {
			continue // power iteration needs a gap; Lanczos covers these
		}
		op, _, lambda := dense(s.lambda, 1)
		norm := maxAbs(lambda)
		want := lambda[len(lambda)-1]
		if math.Abs(lambda[0]) > math.Abs(want) {
			want = lambda[0]
		}
		r, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{MaxIter: 1000})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if d := math.Abs(r.Value - want); d > eigTol*norm {
			t.Errorf("%s: λ = %.17g, want %.17g (diff %.3g)", s.name, r.Value, want, d)
		}
		got := residual(t, op, r.Vector, r.Value)
		// The default Tol is 1e-6 relative: the residual meets it, and the
		// reported Residual is the true one to rounding.
		if got > 1e-6*math.Abs(r.Value) || math.Abs(got-r.Residual) > 1e-12*norm {
			t.Errorf("%s: residual %.3g, reported %.3g", s.name, got, r.Residual)
		}
		if nv := host.Nrm2(r.Vector); math.Abs(nv-1) > 1e-14 {
			t.Errorf("%s: ‖v‖ = %.17g", s.name, nv)
		}
		if r.Stats.Applies != r.Stats.Iterations || r.Stats.Applies == 0 {
			t.Errorf("%s: stats %+v", s.name, r.Stats)
		}
	}
}

func TestPowerIterationWarmStart(t *testing.T) {
	ctx := context.Background()
	op, _, _ := dense(spectra()[0].lambda, 2)
	cold, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{Tol: 1e-9, MaxIter: 1000})
	if err != nil {
		t.Fatal(err)
	}
	// Warm start from a perturbation of the converged vector, as from the
	// previous step of training.
	start := perturbed(cold.Vector, 1e-5, 99)
	keep := slices.Clone(start)
	warm, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{Tol: 1e-9, MaxIter: 1000, Start: &start})
	if err != nil {
		t.Fatal(err)
	}
	if 4*warm.Stats.Iterations >= 3*cold.Stats.Iterations {
		t.Errorf("warm start took %d iterations, cold %d", warm.Stats.Iterations, cold.Stats.Iterations)
	}
	if math.Abs(warm.Value-cold.Value) > eigTol*math.Abs(cold.Value) {
		t.Errorf("warm λ %.17g, cold %.17g", warm.Value, cold.Value)
	}
	if !slices.Equal(start, keep) {
		t.Error("Start was modified")
	}
}

func TestPowerIterationShift(t *testing.T) {
	// With Shift = λmax, power iteration converges to λmin. The shifted
	// spectrum [-12, 0] has its two largest magnitudes 12 and 11.5 (ratio
	// 0.96), so it needs a few hundred iterations.
	ctx := context.Background()
	lambda := append([]float64{10, -2, -1.5}, linspace(-1, 9, 97)...)
	op, _, eig := dense(lambda, 3)
	top, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{})
	if err != nil {
		t.Fatal(err)
	}
	bot, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{Shift: top.Value, MaxIter: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(bot.Value - eig[0]); d > eigTol*10 {
		t.Errorf("λmin = %.17g, want %.17g", bot.Value, eig[0])
	}
	if r := residual(t, op, bot.Vector, bot.Value); math.Abs(r-bot.Residual) > 1e-12 {
		t.Errorf("residual %.3g, reported %.3g", r, bot.Residual)
	}
}

func TestPowerIterationNotConverged(t *testing.T) {
	op, _, _ := dense(spectra()[1].lambda, 4) // clustered top: ratio 0.999
	rec := &recorder{}
	r, err := probe.PowerIteration(context.Background(), op, host, probe.PowerSettings[[]float64]{MaxIter: 3, Recorder: rec})
	if !errors.Is(err, probe.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if r.Stats.Applies != 3 || rec.n != 3 || rec.stage != "power" || rec.last.Max != 3 {
		t.Errorf("stats %+v, recorder %+v", r.Stats, rec)
	}
	// The partial result is consistent: Value is the Rayleigh quotient of
	// Vector and Residual its residual.
	if got := residual(t, op, r.Vector, r.Value); math.Abs(got-r.Residual) > 1e-12 {
		t.Errorf("residual %.3g, reported %.3g", got, r.Residual)
	}
}

func TestPowerIterationCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, _ := dense(spectra()[1].lambda, 5)
	op := &cancelAfter{Operator: base, n: 5, cancel: cancel}
	r, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r == nil || r.Stats.Applies != 5 || math.IsNaN(r.Value) {
		t.Fatalf("partial result %+v", r)
	}
}

func TestPowerIterationPanics(t *testing.T) {
	op, _, _ := dense([]float64{1, 2}, 1)
	zero := []float64{0, 0}
	for name, s := range map[string]probe.PowerSettings[[]float64]{
		"negative MaxIter": {MaxIter: -1},
		"zero start":       {Start: &zero},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			probe.PowerIteration(context.Background(), op, host, s)
		}()
	}
}
