package run

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// The preconditioned operator P^-1/2 H P^-1/2 behind Adam's sharpness has
// the spectrum of P^-1 H: its top eigenvalue by power iteration equals the
// largest eigenvalue of D H D assembled densely (D = P^-1/2), to power
// iteration's tolerance.
func TestPreconditionedOperator(t *testing.T) {
	be := cpu.New[float64]()
	spec := models.Spec{Layers: []int{4, 6, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, err := models.Build(be, spec, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	p.Init(3)
	r := rand.New(rand.NewPCG(1, 2))
	n, N := p.NumParams(), 25
	x := make([]float64, N*4)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	labels := make([]int, N)
	for i := range labels {
		labels[i] = r.IntN(3)
	}
	d, err := p.NewData(x, N, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	diag := make([]float64, n)
	for i := range diag {
		diag[i] = 0.2 + 3*r.Float64() // a preconditioner far from the identity
	}
	db := be.Alloc(n)
	be.Upload(db, diag)
	pre := &preconditioned[float64]{op: op, d: db, be: be, tmp: be.Alloc(n)}
	// Dense D H D from products with unit vectors.
	M := mat.NewSymDense(n, nil)
	e, col := be.Alloc(n), be.Alloc(n)
	for j := 0; j < n; j++ {
		be.Fill(e, 0)
		be.Fill(be.View(e, j, 1), 1)
		if err := op.Apply(context.Background(), col, e); err != nil {
			t.Fatal(err)
		}
		h := models.Download(be, col)
		for i := 0; i <= j; i++ {
			M.SetSym(i, j, diag[i]*h[i]*diag[j])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(M, false) {
		t.Fatal("eigendecomposition failed")
	}
	vals := eig.Values(nil)
	want := vals[n-1]
	if math.Abs(vals[0]) > math.Abs(want) {
		t.Fatalf("test needs a dominant positive eigenvalue; spectrum [%g, %g]", vals[0], want)
	}
	res, err := probe.PowerIteration[kernels.Buffer](context.Background(), pre, be, probe.PowerSettings[kernels.Buffer]{Tol: 1e-9, MaxIter: 5000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// A relative residual 1e-9 bounds the eigenvalue error by 1e-9·λ.
	if math.Abs(res.Value-want) > 1e-8*want {
		t.Errorf("λmax(P^-1 H) = %.12g by power iteration on the operator, %.12g densely", res.Value, want)
	}
}

// Adam runs log the preconditioned sharpness and compare it with Adam's
// bound (2+2β1)/((1-β1)η); momentum runs use (2+2β)/η.
func TestTrainOptimizersLogTheirBounds(t *testing.T) {
	for _, o := range []models.OptimizerSettings{
		{Kind: "adam", LR: 0.01},
		{Kind: "sgd", LR: 0.05, Momentum: 0.9},
		{Kind: "nesterov", LR: 0.05, Momentum: 0.5},
	} {
		cfg := &TrainConfig{
			Model:     models.Spec{Layers: []int{6, 12, 3}, Activation: kernels.Gelu, Loss: models.CrossEntropy, Bias: true},
			Data:      "synthetic:gaussian",
			Subset:    120,
			Optimizer: o,
			Steps:     30, Batch: 32, ProbeEvery: 10, ProbeSet: 60, Seed: 4,
		}
		dir := filepath.Join(t.TempDir(), string(o.Kind))
		sum, recs := trainCPU(t, dir, cfg)
		probes := probedRecords(recs)
		for _, r := range probes {
			if o.Kind == "adam" && r.Step == 0 {
				if r.StabilityBound != nil {
					t.Error("adam step 0: a stability bound without a preconditioner")
				}
				continue
			}
			want := o.StabilityBound(r.LR)
			if math.Abs(*r.StabilityBound-want) > 1e-12*want {
				t.Errorf("%s step %d: bound %v, want %v", o.Kind, r.Step, *r.StabilityBound, want)
			}
			sharp := *r.LambdaMax
			if o.Kind == "adam" {
				if r.PrecondLambdaMax == nil {
					t.Fatalf("adam step %d: no preconditioned sharpness", r.Step)
				}
				sharp = *r.PrecondLambdaMax
			}
			if math.Abs(*r.Margin-(want-sharp)) > 1e-9*want {
				t.Errorf("%s step %d: margin %v, want %v", o.Kind, r.Step, *r.Margin, want-sharp)
			}
			if r.ProbeLoss == nil || r.TrainAcc == nil {
				t.Errorf("%s step %d: probe loss or train accuracy missing", o.Kind, r.Step)
			}
		}
		if len(probes) != 4 || sum.Probes != 4 {
			t.Errorf("%s: %d probes in the log, %d in the summary; want 4 (steps 0, 10, 20, 30)", o.Kind, len(probes), sum.Probes)
		}
		if len(recs) != cfg.Steps+1 {
			t.Errorf("%s: %d records, want %d", o.Kind, len(recs), cfg.Steps+1)
		}
	}
}

// Epochs instead of steps: ceil(N/batch) steps per epoch, and the saved
// config keeps the epochs so a resumed run counts the same.
func TestTrainEpochs(t *testing.T) {
	cfg := &TrainConfig{
		Model:     models.Spec{Layers: []int{5, 7, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "synthetic:gaussian",
		Subset:    50,
		Optimizer: models.OptimizerSettings{Kind: "sgd", LR: 0.1},
		Epochs:    3, Batch: 16, ProbeEvery: 5, Seed: 2,
	}
	dir := t.TempDir()
	sum, recs := trainCPU(t, dir, cfg)
	// 50 samples in batches of 16: 4 steps an epoch, 12 steps, records 0..12.
	if sum.Steps != 12 || len(recs) != 13 || recs[12].Epoch != 3 {
		t.Errorf("summary steps %d, %d records, last epoch %v; want 12, 13, 3", sum.Steps, len(recs), recs[len(recs)-1].Epoch)
	}
	saved, err := LoadTrainConfig(filepath.Join(dir, ConfigFile))
	if err != nil || saved.Steps != 0 || saved.Epochs != 3 {
		t.Errorf("saved config %+v, %v", saved, err)
	}
	if err := (&TrainConfig{Model: cfg.Model, Data: "x", Optimizer: cfg.Optimizer}).Validate(); err == nil {
		t.Error("a config with neither steps nor epochs validated")
	}
}

// A float32 run that blows up is a divergence, whatever goes non-finite
// first: its float64-summed loss can stay finite (1e40) while the float32
// gradient overflows, or the probe's products do. Either way Train returns
// ErrDiverged, the summary says diverged with the last step reached, and
// every logged record is finite (the log stays valid JSON).
func TestTrainFloat32Divergence(t *testing.T) {
	for _, lr := range []float64{10, 5} {
		cfg := &TrainConfig{
			Model:     models.Spec{Layers: []int{64, 32, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
			Data:      "builtin:digits",
			Subset:    100,
			Optimizer: models.OptimizerSettings{Kind: "gd", LR: lr},
			Steps:     100, ProbeEvery: 5, Seed: 1,
		}
		dir := t.TempDir()
		sum, err := Train[float32](context.Background(), cpu.New[float32](), dir, cfg, TrainOptions{})
		if !errors.Is(err, ErrDiverged) {
			t.Fatalf("lr %v: Train error %v, want ErrDiverged", lr, err)
		}
		var s Summary
		readJSONFile(t, filepath.Join(dir, SummaryFile), &s)
		recs, rerr := ReadLog(filepath.Join(dir, LogFile))
		if rerr != nil {
			t.Fatalf("lr %v: log: %v", lr, rerr)
		}
		last := recs[len(recs)-1].Step
		if !s.Diverged || !sum.Diverged || s.Steps != 100 || s.StepsDone != last || last >= 100 || s.Error == "" {
			t.Errorf("lr %v: summary %+v, last logged step %d", lr, s, last)
		}
		// log.csv is written without figures too, and has every record.
		if csv, err := os.ReadFile(filepath.Join(dir, "log.csv")); err != nil || bytes.Count(csv, []byte("\n")) != len(recs)+1 {
			t.Errorf("lr %v: log.csv (%v) has %d lines for %d records", lr, err, bytes.Count(csv, []byte("\n")), len(recs))
		}
		for _, r := range recs {
			if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) || r.GradNorm == nil || math.IsNaN(*r.GradNorm) || math.IsInf(*r.GradNorm, 0) {
				t.Errorf("lr %v: non-finite record %+v", lr, r)
			}
		}
	}
}

// A summary's final values are the last finite ones logged, with the step
// they come from: a diverging run's probe whose training loss (or
// sharpness) overflowed does not leave its accuracy behind as "final", and
// a diverged run says how far back its final values are.
func TestSummaryFinalValuesAreFiniteWithTheirStep(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	var sum Summary
	for _, r := range []Record{
		{Step: 0, Loss: 1, LR: 0.1, TrainLoss: f(1), TrainAcc: f(0.2), LambdaMax: f(3)},
		{Step: 5, Loss: 0.5, LR: 0.1, TrainLoss: f(0.5), TrainAcc: f(0.6), LambdaMax: f(4)},
		{Step: 10, Loss: 9, LR: 0.1, TrainLoss: f(math.Inf(1)), TrainAcc: f(0.1), LambdaMax: f(math.NaN())},
		{Step: 11, Loss: 1e30, LR: 0.1},
	} {
		sum.add(&r)
	}
	if sum.FinalEvalStep == nil || *sum.FinalEvalStep != 5 || *sum.FinalTrainAcc != 0.6 || *sum.FinalTrainLoss != 0.5 {
		t.Errorf("final evaluation: step %v, acc %v, loss %v; want step 5's 0.6 and 0.5", derefInt(sum.FinalEvalStep), *sum.FinalTrainAcc, *sum.FinalTrainLoss)
	}
	if sum.FinalProbeStep == nil || *sum.FinalProbeStep != 5 || *sum.FinalSharpness != 4 || *sum.FinalEtaLambda != 0.4 || *sum.MaxSharpness != 4 {
		t.Errorf("final probe: step %v, sharpness %v, eta*lambda %v, max %v; want step 5's 4, 0.4, 4", derefInt(sum.FinalProbeStep), *sum.FinalSharpness, *sum.FinalEtaLambda, *sum.MaxSharpness)
	}
	if sum.Probes != 3 || sum.FinalLoss != 1e30 {
		t.Errorf("probes %d, final loss %v", sum.Probes, sum.FinalLoss)
	}

	// A real divergence (as in TestTrainFloat32Divergence).
	cfg := &TrainConfig{
		Model:     models.Spec{Layers: []int{64, 32, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
		Data:      "builtin:digits",
		Subset:    100,
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 10},
		Steps:     100, ProbeEvery: 5, Seed: 1,
	}
	dir := t.TempDir()
	if _, err := Train[float32](context.Background(), cpu.New[float32](), dir, cfg, TrainOptions{}); !errors.Is(err, ErrDiverged) {
		t.Fatalf("Train: %v, want ErrDiverged", err)
	}
	var s Summary
	b := readJSONFile(t, filepath.Join(dir, SummaryFile), &s)
	recs, err := ReadLog(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var eval, probed *Record
	for i := range recs {
		if r := &recs[i]; r.TrainLoss != nil {
			eval = r
		}
		if r := &recs[i]; r.LambdaMax != nil {
			probed = r
		}
	}
	if eval == nil || s.FinalEvalStep == nil || *s.FinalEvalStep != eval.Step || s.FinalTrainAcc == nil || *s.FinalTrainAcc != *eval.TrainAcc {
		t.Errorf("summary %s\nwant final_eval_step and final_train_acc of the last logged evaluation %+v", b, eval)
	}
	if probed == nil || s.FinalProbeStep == nil || *s.FinalProbeStep != probed.Step || *s.FinalSharpness != *probed.LambdaMax {
		t.Errorf("summary %s\nwant final_probe_step and final_sharpness of the last logged probe %+v", b, probed)
	}
	if s.FinalProbeStep != nil && *s.FinalProbeStep >= s.StepsDone {
		t.Errorf("final_probe_step %d not before steps_done %d", *s.FinalProbeStep, s.StepsDone)
	}
}

func derefInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// The log does not depend on the number of threads: the CPU backend splits
// elementwise work (activations, the Adam update) across GOMAXPROCS
// goroutines but computes every element by the same expression, and never
// splits a reduction; gonum's GEMM sums each element along k in one order
// whatever the number of workers. So a run resumed under another thread
// count ends with the same bytes. The sizes are chosen so that the splits
// happen (tanh of 300x256 elements, an Adam update of 19210 parameters,
// GEMMs of 8 or more 64x64 blocks).
func TestLogIndependentOfGOMAXPROCS(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four small runs")
	}
	cfg := func(kind models.OptimizerKind) *TrainConfig {
		return &TrainConfig{
			Model:       models.Spec{Layers: []int{64, 256, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
			Data:        "builtin:digits",
			Subset:      300,
			Standardize: true,
			Optimizer:   models.OptimizerSettings{Kind: kind, LR: 0.05},
			Steps:       12, ProbeEvery: 6, PowerMaxIter: 30, Seed: 1,
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, kind := range []models.OptimizerKind{models.GD, models.Adam} {
		var logs [2][]byte
		for i, procs := range []int{1, 3} {
			runtime.GOMAXPROCS(procs)
			dir := t.TempDir()
			if _, err := Train[float32](context.Background(), cpu.New[float32](), dir, cfg(kind), TrainOptions{}); err != nil {
				t.Fatal(err)
			}
			var err error
			if logs[i], err = os.ReadFile(filepath.Join(dir, LogFile)); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(logs[0], logs[1]) {
			t.Errorf("%s: the log under GOMAXPROCS 1 differs from the one under 3:\n%s\n%s", kind, logs[0], logs[1])
		}
	}
}

// trainCPU trains cfg in float64 on the CPU backend in dir and returns the
// summary and the log's records; any error fails t, naming dir.
func trainCPU(t *testing.T, dir string, cfg *TrainConfig) (*Summary, []Record) {
	t.Helper()
	return trainCPUOpts(t, dir, cfg, TrainOptions{})
}

// trainCPUOpts is trainCPU with options o.
func trainCPUOpts(t *testing.T, dir string, cfg *TrainConfig, o TrainOptions) (*Summary, []Record) {
	t.Helper()
	sum, err := Train[float64](context.Background(), cpu.New[float64](), dir, cfg, o)
	if err != nil {
		t.Fatalf("train %s: %v", dir, err)
	}
	recs, err := ReadLog(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	return sum, recs
}
