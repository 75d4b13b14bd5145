package run

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// checkFractionReport fails when a fraction is a negative zero, outside
// [0, 1], or further from want than its error bar.
func checkFractionReport(t *testing.T, what string, f FractionReport, want float64) {
	t.Helper()
	for _, x := range []float64{f.Value, f.StdErr, f.Bias, f.Err} {
		if math.Signbit(x) {
			t.Errorf("%s: negative zero or negative in %+v", what, f)
		}
	}
	if f.Value < 0 || f.Value > 1 {
		t.Errorf("%s = %v outside [0, 1]", what, f.Value)
	}
	if d := math.Abs(f.Value - want); !(d <= f.Err) {
		t.Errorf("%s = %.4f ± %.3g (bias %.3g, stderr %.3g), exact %.4f", what, f.Value, f.Err, f.Bias, f.StdErr, want)
	}
}

// At the defaults (10 probes × 80 steps) the SLQ fractions of small
// networks' Hessians (tanh, relu and gelu; cross-entropy and MSE; random
// parameters, where a large part of the spectrum is near zero) are within
// their error bars of the exact counts of the dense matrix, which exact
// mode reports with zero errors. The three values sum to one, and neither
// the report nor its JSON holds a negative zero.
func TestFractionsAgainstExact(t *testing.T) {
	cases := []models.Spec{
		{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		{Layers: []int{5, 16, 12, 3}, Activation: kernels.ReLU, Loss: models.MSE, Bias: true},
		{Layers: []int{6, 14, 10, 4}, Activation: kernels.Gelu, Loss: models.CrossEntropy, Bias: true},
	}
	ctx := context.Background()
	for i, spec := range cases {
		name := spec.Arch() + "/" + models.ActivationName(spec.Activation) + "/" + spec.Loss.String()
		t.Run(name, func(t *testing.T) {
			p, d := exactNet(t, spec, 37, uint64(i+1))
			exact, err := Spectrum(ctx, p, d, SpectrumSettings{Density: true, Exact: ExactAlways})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Spectrum(ctx, p, d, SpectrumSettings{Density: true, Exact: ExactNever, Seed: 9})
			if err != nil {
				t.Fatal(err)
			}
			ef, f := exact.Density.Fractions, rep.Density.Fractions
			if ef.Method != "exact" || ef.Positive.Err != 0 || ef.NearZero.Bias != 0 || ef.Negative.StdErr != 0 {
				t.Errorf("exact fractions %+v", ef)
			}
			if f.Method != "slq" || f.Probes != 10 || f.Steps != 80 || !(f.Resolution > 0) {
				t.Errorf("slq fractions %+v", f)
			}
			// ZeroTol is 1e-3 of the radius, exact or from the nodes: the
			// same to Lanczos' accuracy at the extremes (a few ulps here).
			if math.Abs(f.ZeroTol-ef.ZeroTol) > 1e-6*ef.ZeroTol {
				t.Errorf("zero_tol %g, exact %g", f.ZeroTol, ef.ZeroTol)
			}
			checkFractionReport(t, "positive", f.Positive, ef.Positive.Value)
			checkFractionReport(t, "negative", f.Negative, ef.Negative.Value)
			checkFractionReport(t, "near zero", f.NearZero, ef.NearZero.Value)
			if s := f.Positive.Value + f.Negative.Value + f.NearZero.Value; f.NearZero.Value > 0 && math.Abs(s-1) > 1e-12 {
				t.Errorf("fractions sum to %.17g", s)
			}
			if rep.Density.FractionPositive != f.Positive.Value || rep.Density.NegativeMass != f.Negative.Value || rep.Density.NearZero != f.NearZero.Value {
				t.Errorf("flat fields %v %v %v differ from the fractions %+v", rep.Density.FractionPositive, rep.Density.NegativeMass, rep.Density.NearZero, f)
			}
			b, err := MarshalJSON(rep, "")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), ":-0,") || strings.Contains(string(b), ":-0}") {
				t.Errorf("negative zero in %s", b)
			}
			t.Logf("%d parameters: + %.3f±%.3f (%.3f), - %.3f±%.3f (%.3f), 0 %.3f±%.3f (%.3f); resolution %.2g, tol %.2g; %d warnings",
				p.NumParams(), f.Positive.Value, f.Positive.Err, ef.Positive.Value, f.Negative.Value, f.Negative.Err, ef.Negative.Value,
				f.NearZero.Value, f.NearZero.Err, ef.NearZero.Value, f.Resolution, f.ZeroTol, len(rep.Warnings))
		})
	}
}

// A clamped fraction is +0, never -0: the near-zero value, 1 minus the
// others, is clamped at 0, and its text is "0.0000", on a
// Gauss-Newton matrix (positive semidefinite: no negative eigenvalues) at
// few steps, where the brackets are wide and the midpoints may cross.
func TestFractionsNoNegativeZero(t *testing.T) {
	spec := models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, d := exactNet(t, spec, 37, 2)
	for _, steps := range []int{2, 5, 20} {
		rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{Density: true, Exact: ExactNever, Curvature: models.GaussNewton,
			SLQSteps: steps, SLQProbes: 3})
		if err != nil {
			t.Fatal(err)
		}
		f := rep.Density.Fractions
		for _, x := range []FractionReport{f.Positive, f.Negative, f.NearZero} {
			for _, v := range []float64{x.Value, x.Bias, x.StdErr, x.Err} {
				if math.Signbit(v) || strings.HasPrefix(fmt.Sprintf("%.4f", v), "-") {
					t.Errorf("%d steps: %+v", steps, f)
				}
			}
		}
	}
}

// Training probes with --probe-density log the three fractions with their
// error bars (fields near_zero, zero_tol, *_err in log.jsonl and log.csv)
// and write them, with the warning of an unresolved band, to the density
// file.
func TestProbeDensityFractions(t *testing.T) {
	cfg := &TrainConfig{
		Model:        models.Spec{Layers: []int{4, 12, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:         "synthetic:gaussian",
		Subset:       60,
		Optimizer:    models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:        4,
		ProbeEvery:   4,
		ProbeDensity: true,
		Seed:         1,
	}
	dir := t.TempDir()
	_, recs := trainCPU(t, dir, cfg)
	probed := probedRecords(recs)
	for _, r := range probed {
		if r.NearZero == nil || r.ZeroTol == nil || r.FractionPositiveErr == nil || r.NegativeMassErr == nil || r.NearZeroErr == nil {
			t.Fatalf("step %d: fractions without error bars: %+v", r.Step, r)
		}
		if s := *r.FractionPositive + *r.NegativeMass + *r.NearZero; *r.NearZero > 0 && math.Abs(s-1) > 1e-12 {
			t.Errorf("step %d: fractions sum to %v", r.Step, s)
		}
		var dr DensityReport
		readJSONFile(t, filepath.Join(dir, r.DensityFile), &dr)
		if dr.Fractions == nil || dr.Fractions.Positive.Err != *r.FractionPositiveErr || dr.Fractions.Method != "slq" {
			t.Errorf("density file %s: fractions %+v", r.DensityFile, dr.Fractions)
		}
	}
	if len(probed) != 2 {
		t.Fatalf("%d probed records, want 2", len(probed))
	}
	path, err := ExportCSV(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(string(b), "\n", 2)[0]
	for _, col := range []string{"fraction_positive", "near_zero", "zero_tol", "fraction_positive_err", "negative_mass_err", "near_zero_err"} {
		if !strings.Contains(","+header+",", ","+col+",") {
			t.Errorf("log.csv header %q lacks %s", header, col)
		}
	}
}

// taylor --saddle reports the fractions: exact counts below ExactThreshold
// (equal to Spectrum's exact mode), none with NoFractions.
func TestSaddleFractions(t *testing.T) {
	spec := models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, d := exactNet(t, spec, 37, 1)
	ctx := context.Background()
	rep, err := SaddleEscape(ctx, p, d, SaddleSettings{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	exact, err := Spectrum(ctx, p, d, SpectrumSettings{Density: true, Exact: ExactAlways})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Fractions == nil || rep.Fractions.Method != "exact" || *rep.Fractions != *exact.Density.Fractions {
		t.Errorf("saddle fractions %+v, want the exact %+v", rep.Fractions, exact.Density.Fractions)
	}
	rep, err = SaddleEscape(ctx, p, d, SaddleSettings{Seed: 1, NoFractions: true})
	if err != nil || rep.Fractions != nil {
		t.Errorf("NoFractions: %+v, %v", rep.Fractions, err)
	}
}
