package run

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// divergentConfig is one run of issue 10's sweep: full-batch GD at lr 0.5
// on an unstandardised 64x32x10 tanh MSE net over 300 built-in digits. The
// loss explodes (6e4 at step 10, 6e11 at step 20), and at step 20 the
// Hessian's most negative eigenvalue dominates: power iteration alone
// logged lambda_max -33.7 with residual 1700 there.
func divergentConfig() *TrainConfig {
	return &TrainConfig{
		Model:      models.Spec{Layers: []int{64, 32, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
		Data:       "builtin:digits",
		Subset:     300,
		Optimizer:  models.OptimizerSettings{Kind: "gd", LR: 0.5},
		Steps:      20,
		ProbeEvery: 10,
		Seed:       1,
	}
}

// rawRecords returns the log's lines as JSON objects, to see which keys
// were written.
func rawRecords(t *testing.T, dir string) []map[string]any {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// On the diverging run every probe says whether its sharpness converged,
// a converged one has a small residual, and the last one (step 20, where
// the negative curvature dominates) is the largest eigenvalue that an
// independent, tight Lanczos run finds at the final weights.
func TestDivergentRunSharpness(t *testing.T) {
	cfg := divergentConfig()
	dir := t.TempDir()
	sum, err := Train[float64](context.Background(), cpu.New[float64](), dir, cfg, TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	probed := 0
	for _, m := range rawRecords(t, dir) {
		if _, ok := m["lambda_max"]; !ok {
			continue
		}
		probed++
		step, lmax, res := m["step"].(float64), m["lambda_max"].(float64), m["lambda_max_residual"].(float64)
		conv, ok := m["lambda_max_converged"].(bool)
		if !ok {
			t.Errorf("step %v: lambda_max %.6g (residual %.3g) without lambda_max_converged", step, lmax, res)
			continue
		}
		// power_tol 1e-5, relative to at most |λmax - λmin| <= 2|λ| + res
		// for the shifted stage: 1e-3 leaves room and still catches the
		// residual 1700 of -33.7.
		if conv && res > 1e-3*math.Abs(lmax) {
			t.Errorf("step %v: lambda_max %.6g flagged converged with residual %.3g", step, lmax, res)
		}
	}
	if probed != 3 {
		t.Fatalf("%d probed records, want 3", probed)
	}
	recs, err := ReadLog(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Step != 20 || last.LambdaMaxConverged == nil || !*last.LambdaMaxConverged {
		t.Fatalf("step %d: converged %v, want a converged probe at step 20", last.Step, last.LambdaMaxConverged)
	}
	// The independent estimate: Lanczos to 1e-10 at the weights after
	// step 20 (the last step takes no optimizer step).
	p, d := finalProblem(t, dir, cfg)
	rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 1, BottomK: 1, Tol: 1e-10})
	if err != nil {
		t.Fatal(err)
	}
	want := rep.TopEigenvalues[0]
	// The log's estimate is within its residual of an eigenvalue (and
	// power_tol 1e-5 relative); 1e-4 relative is ample.
	if got := *last.LambdaMax; math.Abs(got-want) > 1e-4*math.Abs(want) {
		t.Errorf("step 20: lambda_max %.8g, want λmax %.8g (λmin %.6g)", got, want, rep.BottomEigenvalues[0])
	}
	t.Logf("step 20: lambda_max %.8g, λmax %.8g, λmin %.6g, %d applications", *last.LambdaMax, want, rep.BottomEigenvalues[0], *last.LambdaMaxIters)
	if sum.UnconvergedProbes != 0 || sum.FinalSharpness == nil || *sum.FinalSharpness != *last.LambdaMax {
		t.Errorf("summary %+v", sum)
	}
}

// With too little work allowed per probe no estimate converges: each is
// flagged in the log (no margin), counted in summary.json and left out of
// its sharpness, and the sharpness figure draws none as a value.
func TestUnconvergedSharpnessIsFlagged(t *testing.T) {
	cfg := divergentConfig()
	cfg.PowerMaxIter = 2 // two power steps and a 2-step Lanczos space
	dir := t.TempDir()
	sum, recs := trainCPUOpts(t, dir, cfg, TrainOptions{Plot: true})
	flagged := 0
	for _, r := range probedRecords(recs) {
		if r.LambdaMaxConverged == nil {
			t.Fatalf("step %d: no lambda_max_converged", r.Step)
		}
		if !*r.LambdaMaxConverged {
			flagged++
			if r.Margin != nil {
				t.Errorf("step %d: margin %v from an unconverged sharpness", r.Step, *r.Margin)
			}
			if r.StabilityBound == nil {
				t.Errorf("step %d: no stability bound", r.Step)
			}
		}
	}
	if flagged == 0 {
		t.Fatal("no probe was flagged unconverged: the test needs some")
	}
	var js map[string]any
	b := readJSONFile(t, filepath.Join(dir, SummaryFile), &js)
	if js["unconverged_probes"] != float64(flagged) || sum.Probes != 3 {
		t.Errorf("summary.json unconverged_probes %v, want %d:\n%s", js["unconverged_probes"], flagged, b)
	}
	if flagged == 3 && (sum.FinalSharpness != nil || sum.MaxSharpness != nil || sum.FinalEtaLambda != nil) {
		t.Errorf("summary takes a sharpness from unconverged probes: %s", b)
	}
	plain, precond, unconv := sharpnessPoints(recs)
	if len(plain)+len(precond) != 3-flagged || len(unconv) != flagged {
		t.Errorf("sharpness figure: %d values and %d unconverged marks, want %d and %d", len(plain)+len(precond), len(unconv), 3-flagged, flagged)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "eos.png")); err != nil {
		t.Errorf("eos figure: %v", err)
	}
}

// sharpnessPoints draws converged estimates (and those of logs that
// predate the flag) as values, and unconverged ones, plain or
// preconditioned, only as marks.
func TestSharpnessPoints(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	b := func(v bool) *bool { return &v }
	recs := []Record{
		{Step: 0, LambdaMax: f(5), LambdaMaxConverged: b(true)},
		{Step: 1},
		{Step: 2, LambdaMax: f(-33.7), LambdaMaxConverged: b(false)},
		{Step: 3, LambdaMax: f(6)}, // an old log: no flag
		{Step: 4, LambdaMax: f(7), LambdaMaxConverged: b(false), PrecondLambdaMax: f(8), PrecondLambdaMaxConverged: b(true)},
		{Step: 5, LambdaMax: f(7), LambdaMaxConverged: b(true), PrecondLambdaMax: f(-9), PrecondLambdaMaxConverged: b(false)},
	}
	plain, precond, unconv := sharpnessPoints(recs)
	if len(plain) != 2 || plain[0].X != 0 || plain[1].X != 3 || plain[1].Y != 6 {
		t.Errorf("values %v", plain)
	}
	if len(precond) != 1 || precond[0].X != 4 || precond[0].Y != 8 {
		t.Errorf("preconditioned values %v", precond)
	}
	if len(unconv) != 2 || unconv[0].X != 2 || unconv[1].X != 5 {
		t.Errorf("unconverged marks %v", unconv)
	}
	if _, err := sharpnessPanel(recs); err != nil {
		t.Error(err)
	}
}

// finalProblem returns the float64 plan at the final weights of the run
// of cfg in dir, and its training set.
func finalProblem(t *testing.T, dir string, cfg *TrainConfig) (*models.Plan[float64], *models.Data) {
	t.Helper()
	p, err := models.Build(cpu.New[float64](), cfg.Model, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := models.LoadWeights(filepath.Join(dir, WeightsFile), cfg.Model)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetParams(w); err != nil {
		t.Fatal(err)
	}
	train, _, err := LoadTrainData(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Upload(p, train, cfg.Data)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}
