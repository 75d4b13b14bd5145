package run

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"gonum.org/v1/gonum/mat"
)

// denseBlockEigenvalues assembles the whole matrix of kind from full
// products with unit vectors (no layer operator involved) and returns the
// eigenvalues of the whole matrix and of each layer's diagonal block
// (models.Spec.LayerRange), symmetrised, by gonum's EigenSym, descending.
func denseBlockEigenvalues(t *testing.T, p *models.Plan[float64], d *models.Data, kind models.Curvature) (whole []float64, layers [][]float64) {
	t.Helper()
	op := p.CurvatureOperator(d, kind)
	defer op.Close()
	h, _, err := assemble(context.Background(), op, p.Backend())
	if err != nil {
		t.Fatal(err)
	}
	eig := func(off, m int) []float64 {
		var es mat.EigenSym
		if !es.Factorize(h.SliceSym(off, off+m).(*mat.SymDense), false) {
			t.Fatal("EigenSym failed")
		}
		v := es.Values(nil)
		slices.Reverse(v)
		return v
	}
	whole = eig(0, p.NumParams())
	for l := 0; l < p.Spec().NumLayers(); l++ {
		off, m := p.Spec().LayerRange(l)
		layers = append(layers, eig(off, m))
	}
	return whole, layers
}

// distinct returns the values of v (descending) with those within tol of
// the one before dropped.
func distinct(v []float64, tol float64) []float64 {
	out := v[:1:1]
	for _, x := range v[1:] {
		if out[len(out)-1]-x > tol {
			out = append(out, x)
		}
	}
	return out
}

// checkLayers compares the per-layer report with the dense blocks'
// eigenvalues: every reported top eigenvalue within rel of the block's
// spectral radius, the block's shape and size, its method, convergence,
// and Cauchy interlacing (no block's top eigenvalue above the whole
// matrix's). Lanczos from one start vector sees a multiple eigenvalue
// once, and further copies only as far as its restarts at invariant
// subspaces find them: where a block has exact multiplicities (mse's last
// layer, G ⊗ I_C) the top one must be the block's largest, each of the
// others one of the block's eigenvalues, and the report must warn.
func checkLayers(t *testing.T, spec models.Spec, rep *SpectrumReport, wantWhole float64, want [][]float64, k int, rel float64, exact bool) {
	t.Helper()
	if len(rep.PerLayer) != spec.NumLayers() {
		t.Fatalf("%d per-layer reports for %d layers", len(rep.PerLayer), spec.NumLayers())
	}
	for l, lr := range rep.PerLayer {
		_, n := spec.LayerRange(l)
		if lr.Layer != l || lr.NParams != n || !slices.Equal(lr.Shape, []int{spec.Layers[l], spec.Layers[l+1]}) || lr.Bias != spec.Bias {
			t.Errorf("layer %d: report %+v, want layer %d, %d params, shape [%d %d], bias %v", l, lr, l, n, spec.Layers[l], spec.Layers[l+1], spec.Bias)
		}
		if !lr.Converged || lr.HVPs == 0 || len(lr.TopResiduals) != len(lr.TopEigenvalues) {
			t.Errorf("layer %d: converged %v, %d products, %d residuals for %d eigenvalues", l, lr.Converged, lr.HVPs, len(lr.TopResiduals), len(lr.TopEigenvalues))
		}
		if len(lr.TopEigenvalues) != min(k, n) {
			t.Fatalf("layer %d: %d top eigenvalues, want %d", l, len(lr.TopEigenvalues), min(k, n))
		}
		if got := lr.Method == "exact"; got != exact || exact && lr.LanczosSteps != 0 || !exact && lr.LanczosSteps == 0 {
			t.Errorf("layer %d: method %q after %d Lanczos steps, want exact %v", l, lr.Method, lr.LanczosSteps, exact)
		}
		scale := max(math.Abs(want[l][0]), math.Abs(want[l][len(want[l])-1]))
		w := want[l]
		if !exact && spec.Loss == models.MSE && l == spec.NumLayers()-1 && k > 1 {
			d := distinct(w, 1e-10*scale)
			if len(d)*spec.Outputs() != len(w) {
				t.Errorf("mse's last layer: %d distinct eigenvalues of %d, want each %d times", len(d), len(w), spec.Outputs())
			}
			if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[len(rep.Warnings)-1], fmt.Sprintf("layer %d's block is G ⊗ I_%d", l, spec.Outputs())) {
				t.Errorf("no warning about the multiplicities of mse's last layer: %q", rep.Warnings)
			}
			// Compare each value with the nearest eigenvalue (the first
			// with the largest).
			w = make([]float64, len(lr.TopEigenvalues))
			for i, got := range lr.TopEigenvalues {
				w[i] = d[0]
				for _, x := range d[1:] {
					if i > 0 && math.Abs(x-got) < math.Abs(w[i]-got) {
						w[i] = x
					}
				}
			}
		}
		for i, got := range lr.TopEigenvalues {
			if d := math.Abs(got - w[i]); !(d <= rel*scale) {
				t.Errorf("layer %d: eigenvalue %d is %.17g, the dense block's %.17g: off by %.3g, %.3g of the block's spectral radius %.4g (tolerance %.1g)",
					l, i, got, w[i], d, d/scale, scale, rel)
			}
		}
		if want[l][0] > wantWhole*(1+1e-12) {
			t.Errorf("layer %d: the dense block's top eigenvalue %.17g exceeds the whole matrix's %.17g (Cauchy interlacing)", l, want[l][0], wantWhole)
		}
	}
}

// The "must show": each layer's top eigenvalues (top-3) from
// Spectrum with PerLayer equal the eigenvalues of the dense Hessian's
// diagonal blocks — the matrix assembled from full Hessian-vector products
// of unit vectors, gonum EigenSym — to 1e-8 of each block's spectral
// radius in float64, on a 3-layer MLP with biases, for tanh and relu with
// cross-entropy and MSE (and the Gauss-Newton matrix for one of them), at
// Spectrum's default tolerance, both ways: by Lanczos on the block
// operator (ExactNever) and exact, from the block assembled from the
// block operator's own products (ExactAuto, the blocks being small).
// Lanczos' residual bound (1e-8 relative) bounds each eigenvalue's error,
// and the error goes as its square over the gap, so 1e-8 leaves room; the
// exact blocks differ from the dense ones by rounding. A block taken at a
// wrong offset, a term of another layer or a missing second-derivative
// term is off by O(1).
func TestPerLayerMatchesDenseBlocks(t *testing.T) {
	const rel = 1e-8
	const k = 3
	// The dense oracle of each network, assembled once for both modes: the
	// network (seed 40+i) and so its matrix are the same in both.
	type oracle struct {
		whole  []float64
		blocks [][]float64
	}
	oracles := map[int]oracle{}
	for _, exact := range []bool{false, true} {
		mode := ExactNever
		if exact {
			mode = ExactAuto
		}
		for i, c := range []struct {
			act  kernels.Activation
			loss models.Loss
			kind models.Curvature
		}{
			{kernels.Tanh, models.CrossEntropy, models.Hessian},
			{kernels.Tanh, models.MSE, models.Hessian},
			{kernels.ReLU, models.CrossEntropy, models.Hessian},
			{kernels.ReLU, models.MSE, models.Hessian},
			{kernels.Tanh, models.CrossEntropy, models.GaussNewton},
		} {
			spec := models.Spec{Layers: []int{8, 10, 7, 4}, Activation: c.act, Loss: c.loss, Bias: true}
			t.Run(fmt.Sprintf("%s/%s/%s/exact=%v", models.ActivationName(c.act), c.loss, c.kind, exact), func(t *testing.T) {
				p, d := randomNet[float64](t, spec, 37, 1, uint64(40+i), 11)
				o, ok := oracles[i]
				if !ok {
					o.whole, o.blocks = denseBlockEigenvalues(t, p, d, c.kind)
					oracles[i] = o
				}
				whole, want := o.whole, o.blocks
				rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: k, PerLayer: true, Curvature: c.kind, Exact: mode, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				if d := math.Abs(rep.TopEigenvalues[0] - whole[0]); !(d <= rel*math.Abs(whole[0])) {
					t.Errorf("whole matrix: λmax %.17g, dense %.17g", rep.TopEigenvalues[0], whole[0])
				}
				checkLayers(t, spec, rep, whole[0], want, k, rel, exact)
				hvps := rep.LanczosSteps
				if exact {
					hvps = rep.NParams
				}
				for _, lr := range rep.PerLayer {
					hvps += lr.HVPs
				}
				if rep.HVPs != hvps {
					t.Errorf("report counts %d products; the whole matrix's and the blocks' add up to %d", rep.HVPs, hvps)
				}
			})
		}
	}
}

// In float32 the blocks' top eigenvalues (Lanczos, and exact: float32
// products, the eigensolve in float64) are within 1e-5 of each block's
// spectral radius of the float64 dense blocks'. That is about 80 ε32: the
// float32 products err by a few ε32 of the block's scale at these sizes,
// and Lanczos' eigenvalue error goes as the square of its residual bound
// (1e-3 by default in float32) over the gap, far below; measured worst
// 2e-7 (tanh and relu, both ways). A wrong block is off by O(1), and
// float32 products that lost a term by 1e-3 or more.
func TestPerLayerFloat32(t *testing.T) {
	const rel = 1e-5
	const k = 2
	for i, act := range []kernels.Activation{kernels.Tanh, kernels.ReLU} {
		// The float64 oracle, assembled once for both modes.
		var whole []float64
		var want [][]float64
		for _, exact := range []bool{false, true} {
			mode := ExactNever
			if exact {
				mode = ExactAuto
			}
			spec := models.Spec{Layers: []int{8, 10, 7, 4}, Activation: act, Loss: models.CrossEntropy, Bias: true}
			t.Run(fmt.Sprintf("%s/exact=%v", models.ActivationName(act), exact), func(t *testing.T) {
				if whole == nil {
					p64, d64 := randomNet[float64](t, spec, 37, 1, uint64(60+i), 11)
					whole, want = denseBlockEigenvalues(t, p64, d64, models.Hessian)
				}
				p, d := randomNet[float32](t, spec, 37, 1, uint64(60+i), 11)
				rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: k, PerLayer: true, Exact: mode, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				checkLayers(t, spec, rep, whole[0], want, k, rel, exact)
			})
		}
	}
}

// Without PerLayer the report has no per-layer part (its JSON omits it).
func TestPerLayerOff(t *testing.T) {
	spec := models.Spec{Layers: []int{4, 5, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, d := randomNet[float64](t, spec, 20, 1, 1, 11)
	rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalJSON(rep, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.PerLayer != nil || bytes.Contains(b, []byte("per_layer")) {
		t.Errorf("per-layer blocks without PerLayer: %s", b)
	}
}

// perLayerConfig is a small training run with per-layer probes.
func perLayerConfig(steps int) *TrainConfig {
	return &TrainConfig{
		Model:     models.Spec{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "synthetic:gaussian",
		Subset:    40,
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:     steps, ProbeEvery: 10, Seed: 3, ProbePerLayer: true,
	}
}

// Training probes with probe_per_layer log each layer's sharpness on every
// probed step (and only there), in log.jsonl and as layer_lambda_max_<l>
// columns of log.csv, and draw them in plots/layers.*. The last probe is
// taken at the final weights: its values equal the top eigenvalues of the
// dense blocks there within what power_tol (1e-5, a residual relative to
// the eigenvalue, which bounds the error) allows, 1e-4 relative; a run
// without the setting logs none of it and draws no layers figure.
func TestTrainProbesPerLayer(t *testing.T) {
	cfg := perLayerConfig(20)
	dir := t.TempDir()
	_, recs := trainCPUOpts(t, dir, cfg, TrainOptions{Plot: true})
	L := cfg.Model.NumLayers()
	for _, r := range recs {
		if r.Probed() != (r.LayerLambdaMax != nil) {
			t.Fatalf("step %d: probed %v but layer_lambda_max %v", r.Step, r.Probed(), r.LayerLambdaMax)
		}
		if !r.Probed() {
			continue
		}
		if len(r.LayerLambdaMax) != L || len(r.LayerLambdaMaxConverged) != L || len(r.LayerLambdaMaxIters) != L {
			t.Fatalf("step %d: %d/%d/%d per-layer values for %d layers", r.Step, len(r.LayerLambdaMax), len(r.LayerLambdaMaxConverged), len(r.LayerLambdaMaxIters), L)
		}
		for l := range L {
			if !r.LayerLambdaMaxConverged[l] || r.LayerLambdaMaxIters[l] <= 0 || r.LayerLambdaMax[l] > *r.LambdaMax*(1+1e-4) {
				t.Errorf("step %d layer %d: λ %.6g (whole %.6g), converged %v in %d products", r.Step, l, r.LayerLambdaMax[l], *r.LambdaMax, r.LayerLambdaMaxConverged[l], r.LayerLambdaMaxIters[l])
			}
		}
	}
	last := recs[len(recs)-1]
	if last.Step != cfg.Steps || last.LayerLambdaMax == nil {
		t.Fatalf("last record is step %d with layers %v", last.Step, last.LayerLambdaMax)
	}
	// The dense blocks at the final weights.
	p, d := finalProblem(t, dir, cfg)
	_, want := denseBlockEigenvalues(t, p, d, models.Hessian)
	for l := range L {
		if got := last.LayerLambdaMax[l]; !(math.Abs(got-want[l][0]) <= 1e-4*math.Abs(want[l][0])) {
			t.Errorf("final probe, layer %d: λmax %.10g, dense block's %.10g", l, got, want[l][0])
		}
	}
	// log.csv: one column per layer, numbered by layer.
	if _, err := ExportCSV(dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "log.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for l := range L {
		for _, name := range []string{"layer_lambda_max_", "layer_lambda_max_converged_", "layer_lambda_max_iters_"} {
			if !slices.Contains(rows[0], fmt.Sprint(name, l)) {
				t.Errorf("log.csv header %v lacks %s%d", rows[0], name, l)
			}
		}
	}
	if slices.Contains(rows[0], "layer_lambda_max_3") {
		t.Errorf("log.csv header %v has a column for a fourth layer", rows[0])
	}
	for _, format := range PlotFormats {
		if _, err := os.Stat(filepath.Join(dir, "plots", "layers."+format)); err != nil {
			t.Errorf("no layers figure: %v", err)
		}
	}
	// The same run without per-layer probes.
	off := perLayerConfig(20)
	off.ProbePerLayer = false
	dir2 := t.TempDir()
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir2, off, TrainOptions{Plot: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir2, LogFile))
	if bytes.Contains(b, []byte("layer_")) {
		t.Error("a run without probe_per_layer logs per-layer fields")
	}
	if _, err := os.Stat(filepath.Join(dir2, "plots", "layers.png")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a run without probe_per_layer drew a layers figure (%v)", err)
	}
}

// A run interrupted and resumed logs byte for byte what the uninterrupted
// run logs, per-layer probes included: the layers' warm starts are in the
// checkpoint (eig_layers) and restored, so the resumed probes start where
// the uninterrupted ones do.
func TestResumePerLayerByteIdentical(t *testing.T) {
	ref := t.TempDir()
	if _, err := Train[float64](context.Background(), cpu.New[float64](), ref, perLayerConfig(30), TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train[float64](ctx, cpu.New[float64](), dir, perLayerConfig(30), TrainOptions{Reporter: cancelAt{13, cancel}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	meta, err := readMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	arrays, err := models.LoadArrays(filepath.Join(dir, meta.File))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := arrays["eig_layers"]; !ok {
		t.Errorf("checkpoint %s has no eig_layers array", meta.File)
	}
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	checkSameLog(t, "resumed", dir, "uninterrupted", ref)
}

// The layers figure draws λmax and one line per layer at the probed steps,
// leaving out the estimates the log flags as unconverged (the whole
// sharpness's and each layer's), and is not drawn for a log without
// per-layer values.
func TestLayerSeries(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	b := func(v bool) *bool { return &v }
	recs := []Record{
		{Step: 0, LambdaMax: p(4), LambdaMaxConverged: b(true), LayerLambdaMax: []float64{3, 1}, LayerLambdaMaxConverged: []bool{true, true}},
		{Step: 1},
		{Step: 2, LambdaMax: p(5), LambdaMaxConverged: b(false), LayerLambdaMax: []float64{3.5, 9}, LayerLambdaMaxConverged: []bool{true, false}},
		{Step: 4, LambdaMax: p(6), LayerLambdaMax: []float64{math.NaN(), 2}},
	}
	got := layerSeries(recs)
	want := []struct {
		label string
		steps []float64
	}{
		{"λmax (whole Hessian)", []float64{0, 4}},
		{"layer 0", []float64{0, 2}},
		{"layer 1", []float64{0, 4}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d series, want %d", len(got), len(want))
	}
	for i, w := range want {
		var steps []float64
		for _, q := range got[i].pts {
			steps = append(steps, q.X)
		}
		if got[i].label != w.label || !slices.Equal(steps, w.steps) {
			t.Errorf("series %d: %q at steps %v, want %q at %v", i, got[i].label, steps, w.label, w.steps)
		}
	}
	if layerSeries(recs[1:2]) != nil {
		t.Error("series for a log without per-layer values")
	}
}
