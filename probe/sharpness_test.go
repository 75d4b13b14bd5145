package probe_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// negativeDominant is a spectrum whose eigenvalue of largest magnitude is
// negative (-10) while λmax is 3: the curvature of a diverging run. Shifted
// by -10 its top two are 13 and 11, so shifted power iteration converges
// (ratio 0.85) within the default 200 iterations.
func negativeDominant() []float64 {
	return append([]float64{-10, 3, 1}, linspace(-2, 1, 97)...)
}

// Power iteration finds -10 on negativeDominant; the sharpness is 3.
func TestSharpnessNegativeDominant(t *testing.T) {
	ctx := context.Background()
	op, _, eig := dense(negativeDominant(), 11)
	pw, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{})
	if err != nil || math.Abs(pw.Value+10) > eigTol*10 {
		t.Fatalf("power iteration: %v, %v: the test needs it to find -10", pw.Value, err)
	}
	r, err := probe.Sharpness(ctx, op, host, probe.SharpnessSettings[[]float64]{})
	if err != nil {
		t.Fatal(err)
	}
	want := eig[len(eig)-1]
	if want != 3 && math.Abs(want-3) > 1e-12 {
		t.Fatalf("test matrix has λmax %v", want)
	}
	// eigTol relative to ‖H‖ = 10; the shifted stage's residual tolerance
	// is 1e-6 of 13 = λmax - μ, an eigenvalue error of r²/gap far below.
	if d := math.Abs(r.Value - want); d > eigTol*10 {
		t.Errorf("sharpness %.17g, want %.17g (diff %.3g)", r.Value, want, d)
	}
	if r.Method != "shifted power" || r.Shift != pw.Value {
		t.Errorf("method %q shift %v, want shifted power by %v", r.Method, r.Shift, pw.Value)
	}
	if got := residual(t, op, r.Vector, r.Value); math.Abs(got-r.Residual) > 1e-12*10 || got > 1e-6*13 {
		t.Errorf("residual %.3g, reported %.3g", got, r.Residual)
	}
	if r.Stats.Applies < r.Stats.Iterations || r.Stats.Iterations <= pw.Stats.Iterations {
		t.Errorf("stats %+v do not count both stages (power alone %+v)", r.Stats, pw.Stats)
	}
}

// Where the negative eigenvalue dominates without a gap, power iteration
// stops unconverged at a meaningless negative value (the -33.7 with
// residual 1700 of a diverging run); Sharpness hands over to Lanczos.
func TestSharpnessUnconvergedHandsOverToLanczos(t *testing.T) {
	ctx := context.Background()
	op, _, eig := dense(append([]float64{-10, -9.99, 3}, linspace(-2, 2.5, 97)...), 12)
	pw, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{})
	if !errors.Is(err, probe.ErrNotConverged) || pw.Value >= 0 {
		t.Fatalf("power iteration: %v, %v: the test needs it unconverged and negative", pw.Value, err)
	}
	r, err := probe.Sharpness(ctx, op, host, probe.SharpnessSettings[[]float64]{})
	if err != nil {
		t.Fatal(err)
	}
	if want := eig[len(eig)-1]; math.Abs(r.Value-want) > eigTol*10 {
		t.Errorf("sharpness %.17g, want %.17g", r.Value, want)
	}
	if r.Method != "lanczos" {
		t.Errorf("method %q, want lanczos", r.Method)
	}
	if got := residual(t, op, r.Vector, r.Value); math.Abs(got-r.Residual) > 1e-12*10 || got > 1e-6*3 {
		t.Errorf("residual %.3g, reported %.3g", got, r.Residual)
	}
}

// A positive dominant eigenvalue is found by the first stage alone.
func TestSharpnessPositiveDominant(t *testing.T) {
	op, _, eig := dense(spectra()[0].lambda, 13)
	r, err := probe.Sharpness(context.Background(), op, host, probe.SharpnessSettings[[]float64]{})
	if err != nil {
		t.Fatal(err)
	}
	if want := eig[len(eig)-1]; math.Abs(r.Value-want) > eigTol*10 || r.Method != "power" {
		t.Errorf("sharpness %.17g by %s, want %.17g by power", r.Value, r.Method, want)
	}
}

// Warm starts still pay: from a perturbation of the previous eigenvector,
// the shifted stage (negative dominant) and the single stage (positive
// dominant) take fewer iterations than from a random vector.
func TestSharpnessWarmStart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		lambda []float64
	}{
		{"negative dominant", negativeDominant()},
		{"positive dominant", spectra()[0].lambda},
	} {
		op, _, eig := dense(tc.lambda, 14)
		s := probe.SharpnessSettings[[]float64]{Tol: 1e-9, MaxIter: 2000}
		cold, err := probe.Sharpness(ctx, op, host, s)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		start := perturbed(cold.Vector, 1e-5, 99)
		keep := slices.Clone(start)
		s.Start = &start
		warm, err := probe.Sharpness(ctx, op, host, s)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if warm.Method != cold.Method || math.Abs(warm.Value-eig[len(eig)-1]) > eigTol*10 {
			t.Errorf("%s: warm %.17g by %s, cold %.17g by %s", tc.name, warm.Value, warm.Method, cold.Value, cold.Method)
		}
		if warm.Stats.Iterations >= cold.Stats.Iterations {
			t.Errorf("%s: warm start took %d iterations, cold %d", tc.name, warm.Stats.Iterations, cold.Stats.Iterations)
		}
		t.Logf("%s: warm %d iterations, cold %d", tc.name, warm.Stats.Iterations, cold.Stats.Iterations)
		if !slices.Equal(start, keep) {
			t.Errorf("%s: Start was modified", tc.name)
		}
	}
}

// When no stage converges the estimate comes back with ErrNotConverged,
// finite and consistent (Residual is its true residual).
func TestSharpnessNotConverged(t *testing.T) {
	op, _, _ := dense(append([]float64{-10, -9.99, 3}, linspace(-2, 2.5, 97)...), 15)
	r, err := probe.Sharpness(context.Background(), op, host, probe.SharpnessSettings[[]float64]{MaxIter: 3, LanczosSteps: 3})
	if !errors.Is(err, probe.ErrNotConverged) {
		t.Fatalf("err = %v, want ErrNotConverged", err)
	}
	if math.IsNaN(r.Value) || r.Method != "lanczos" || r.Stats.Applies != 3+3+1 {
		t.Errorf("result %+v", r)
	}
	if got := residual(t, op, r.Vector, r.Value); math.Abs(got-r.Residual) > 1e-12*10 {
		t.Errorf("residual %.3g, reported %.3g", got, r.Residual)
	}
}

func TestSharpnessCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, _ := dense(negativeDominant(), 16)
	op := &cancelAfter{Operator: base, n: 5, cancel: cancel}
	r, err := probe.Sharpness(ctx, op, host, probe.SharpnessSettings[[]float64]{})
	if !errors.Is(err, context.Canceled) || r == nil || math.IsNaN(r.Value) {
		t.Fatalf("err = %v, result %+v", err, r)
	}
}

// clusteredTop is a spectrum whose top two eigenvalues are within 0.2% of
// each other: power iteration converges at the rate 0.998 per step, so
// it needs thousands of steps to a relative residual of 1e-8, while
// Lanczos needs tens.
func clusteredTop() []float64 {
	return append([]float64{5, 4.99}, linspace(-1, 4, 148)...)
}

// A power iteration whose residual falls too slowly stops early with
// ErrStalled (an ErrNotConverged), and Sharpness with a Handover then
// finds λmax by Lanczos, started from the iterate, in far fewer products
// than power iteration's MaxIter.
func TestSharpnessHandover(t *testing.T) {
	ctx := context.Background()
	op, _, eig := dense(clusteredTop(), 21)
	pw, err := probe.PowerIteration(ctx, op, host, probe.PowerSettings[[]float64]{Tol: 1e-8, MaxIter: 5000, Handover: 20})
	if !errors.Is(err, probe.ErrStalled) || !errors.Is(err, probe.ErrNotConverged) || pw.Stats.Applies > 10 {
		t.Errorf("power iteration with Handover 20: %v after %d products, want ErrStalled within 10", err, pw.Stats.Applies)
	}
	s := probe.SharpnessSettings[[]float64]{Tol: 1e-8, MaxIter: 5000}
	slow, err := probe.Sharpness(ctx, op, host, s)
	if err != nil {
		t.Fatal(err)
	}
	s.Handover = 1
	fast, err := probe.Sharpness(ctx, op, host, s)
	if err != nil {
		t.Fatal(err)
	}
	want := eig[len(eig)-1]
	for _, r := range []*probe.SharpnessResult[[]float64]{slow, fast} {
		if d := math.Abs(r.Value - want); d > eigTol*5 {
			t.Errorf("%s: sharpness %.17g, want %.17g", r.Method, r.Value, want)
		}
		if got := residual(t, op, r.Vector, r.Value); got > 1e-8*5*1.01 {
			t.Errorf("%s: residual %.3g", r.Method, got)
		}
	}
	if fast.Method != "lanczos" || fast.Stats.Applies > 60 || slow.Stats.Applies < 1000 {
		t.Errorf("with Handover: %d products by %s; without: %d by %s", fast.Stats.Applies, fast.Method, slow.Stats.Applies, slow.Method)
	}
	t.Logf("products: power alone %d, handing over %d", slow.Stats.Applies, fast.Stats.Applies)
}

// LanczosFirst and Stream: the same λmax as gonum's eigensolver whether
// the basis is stored or streamed, on a clustered top and where the
// negative eigenvalue dominates; warm started from a perturbed eigenvector
// it takes fewer products than cold; a stalled power iteration heading for
// a dominant negative eigenvalue does not hand Lanczos an iterate without
// λmax's eigenvector (TestSharpnessUnconvergedHandsOverToLanczos).
func TestSharpnessLanczosFirstAndStream(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		lambda []float64
	}{{"clustered top", clusteredTop()}, {"negative dominant", negativeDominant()}} {
		op, _, eig := dense(tc.lambda, 22)
		want := eig[len(eig)-1]
		for _, stream := range []bool{false, true} {
			sp := &counting{}
			s := probe.SharpnessSettings[[]float64]{Tol: 1e-8, LanczosFirst: true, Stream: stream, LanczosSteps: 150}
			cold, err := probe.Sharpness(ctx, op, sp, s)
			if err != nil {
				t.Fatalf("%s, stream %v: %v", tc.name, stream, err)
			}
			if d := math.Abs(cold.Value - want); d > eigTol*maxAbs(eig) || cold.Method != "lanczos" {
				t.Errorf("%s, stream %v: sharpness %.17g by %s, want %.17g", tc.name, stream, cold.Value, cold.Method, want)
			}
			if got := residual(t, op, cold.Vector, cold.Value); math.Abs(got-cold.Residual) > 1e-12*maxAbs(eig) {
				t.Errorf("%s, stream %v: residual %.3g, reported %.3g", tc.name, stream, got, cold.Residual)
			}
			if stream && sp.peak > probe.StreamVectors+2 {
				t.Errorf("%s: streamed Lanczos held %d vectors", tc.name, sp.peak)
			}
			start := perturbed(cold.Vector, 1e-4, 5)
			s.Start = &start
			warm, err := probe.Sharpness(ctx, op, host, s)
			if err != nil {
				t.Fatalf("%s, stream %v, warm: %v", tc.name, stream, err)
			}
			if d := math.Abs(warm.Value - want); d > eigTol*maxAbs(eig) || warm.Stats.Applies >= cold.Stats.Applies {
				t.Errorf("%s, stream %v: warm %.17g in %d products, cold %d", tc.name, stream, warm.Value, warm.Stats.Applies, cold.Stats.Applies)
			}
			t.Logf("%s, stream %v: cold %d products, warm %d", tc.name, stream, cold.Stats.Applies, warm.Stats.Applies)
		}
	}
}
