package probe_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

func trace(lambda []float64) float64 {
	var s float64
	for _, l := range lambda {
		s += l
	}
	return s
}

func TestHutchinson(t *testing.T) {
	// Over several seeds and spectra the estimate lies within 3 standard
	// errors of the exact trace. Seeds are fixed, so the test is
	// deterministic; at 3σ a fresh seed fails with probability ~0.3% per
	// case.
	ctx := context.Background()
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	for _, s := range spectra() {
		op, _, _ := dense(s.lambda, 13)
		exact := trace(s.lambda)
		for _, seed := range seeds {
			r, err := probe.Hutchinson(ctx, op, host, probe.TraceSettings{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			if r.Probes != 100 || r.Stats.Applies != 100 {
				t.Errorf("%s: %d probes, %d applies", s.name, r.Probes, r.Stats.Applies)
			}
			if d := math.Abs(r.Value - exact); d > 3*r.StdErr {
				t.Errorf("%s seed %d: %.6g ± %.3g, exact %.6g (%.1fσ)", s.name, seed, r.Value, r.StdErr, exact, d/r.StdErr)
			}
		}
	}
}

func TestHutchinsonStdErrCalibrated(t *testing.T) {
	// The reported standard error matches the spread of the estimates over
	// many seeds (within 20%: with 200 repetitions the sample standard
	// deviation is itself uncertain by 1/sqrt(2*200) = 5%).
	if testing.Short() {
		t.Skip("statistical test")
	}
	op, _, _ := dense(spectra()[2].lambda, 14)
	exact := trace(spectra()[2].lambda)
	var sum2, se2 float64
	const reps = 200
	for seed := uint64(0); seed < reps; seed++ {
		r, err := probe.Hutchinson(context.Background(), op, host, probe.TraceSettings{Probes: 30, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		sum2 += (r.Value - exact) * (r.Value - exact)
		se2 += r.StdErr * r.StdErr
	}
	ratio := math.Sqrt(sum2 / se2)
	if ratio < 0.8 || ratio > 1.2 {
		t.Errorf("rms error / rms StdErr = %.3f", ratio)
	}
}

func TestHutchPP(t *testing.T) {
	// A low-rank-dominated PSD matrix: 10 eigenvalues of 100..1000 and 190
	// of 0.01. Hutchinson's error is dominated by the big eigenvalues, which
	// Hutch++'s sketch captures exactly: its error is much smaller.
	lambda := append(linspace(100, 1000, 10), linspace(0.005, 0.015, 190)...)
	op, _, _ := dense(lambda, 15)
	exact := trace(lambda)
	seeds := 5
	if testing.Short() {
		seeds = 2
	}
	var errH, errPP float64
	for seed := 0; seed < seeds; seed++ {
		s := probe.TraceSettings{Probes: 60, Seed: uint64(seed)}
		h, err := probe.Hutchinson(context.Background(), op, host, s)
		if err != nil {
			t.Fatal(err)
		}
		pp, err := probe.HutchPP(context.Background(), op, host, s)
		if err != nil {
			t.Fatal(err)
		}
		// 20 sketch vectors and 20 deflated Hutchinson probes; 20 more
		// applications compute tr(Q^T H Q).
		if pp.Stats.Applies != 60 || pp.Probes != 40 {
			t.Errorf("HutchPP: %d applies, %d probes", pp.Stats.Applies, pp.Probes)
		}
		// 4 rather than 3 standard errors: StdErr comes from only 20
		// deflated samples, so it is itself uncertain by about 16%.
		if d := math.Abs(pp.Value - exact); d > 4*pp.StdErr+1e-9*exact {
			t.Errorf("HutchPP seed %d: %.10g ± %.3g, exact %.10g", seed, pp.Value, pp.StdErr, exact)
		}
		errH += math.Abs(h.Value - exact)
		errPP += math.Abs(pp.Value - exact)
	}
	t.Logf("mean |error|: Hutchinson %.3g, Hutch++ %.3g (trace %.6g)", errH/float64(seeds), errPP/float64(seeds), exact)
	if errPP*100 > errH {
		t.Errorf("Hutch++ error %.3g not 100× below Hutchinson's %.3g", errPP, errH)
	}
}

func TestHutchPPFullSketch(t *testing.T) {
	// When the sketch spans the space, Hutch++ is exact: 10 sketch
	// columns in dimension 5 reach rank 5 (a 5×5 Rademacher matrix is
	// singular with probability about 0.3, so the first 5 may not).
	lambda := []float64{3, -1, 2, 0.5, 7}
	op, _, _ := dense(lambda, 16)
	r, err := probe.HutchPP(context.Background(), op, host, probe.TraceSettings{Probes: 30})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Value-trace(lambda)) > 1e-12 {
		t.Errorf("%.17g, want %.17g (%+v)", r.Value, trace(lambda), r)
	}
}

func TestTraceCancel(t *testing.T) {
	base, _, _ := dense(spectra()[0].lambda, 17)
	for name, f := range map[string]func(context.Context, probe.Operator[[]float64]) (*probe.TraceResult, error){
		"Hutchinson": func(ctx context.Context, op probe.Operator[[]float64]) (*probe.TraceResult, error) {
			return probe.Hutchinson(ctx, op, host, probe.TraceSettings{})
		},
		"HutchPP": func(ctx context.Context, op probe.Operator[[]float64]) (*probe.TraceResult, error) {
			return probe.HutchPP(ctx, op, host, probe.TraceSettings{})
		},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		op := &cancelAfter{Operator: base, n: 70, cancel: cancel}
		r, err := f(ctx, op)
		cancel()
		if !errors.Is(err, context.Canceled) || r == nil || r.Stats.Applies != 70 {
			t.Errorf("%s: err %v, result %+v", name, err, r)
		}
	}
}

func TestTraceRecorder(t *testing.T) {
	op, _, _ := dense(spectra()[0].lambda, 18)
	rec := &recorder{}
	r, _ := probe.Hutchinson(context.Background(), op, host, probe.TraceSettings{Probes: 7, Recorder: rec})
	if rec.n != 7 || rec.stage != "hutchinson" || rec.last.Estimate != r.Value {
		t.Errorf("recorder %+v, value %v", rec, r.Value)
	}
}
