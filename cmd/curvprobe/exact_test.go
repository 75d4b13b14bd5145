package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// exactFiles writes a model of the given layers with random nonzero
// weights and 30 Gaussian-class samples, and returns the paths.
func exactFiles(t *testing.T, layers []int) (model, weights, dataPath string) {
	t.Helper()
	dir := t.TempDir()
	spec := models.Spec{Layers: layers, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	b, err := spec.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	model, weights, dataPath = filepath.Join(dir, "m.json"), filepath.Join(dir, "w.npz"), filepath.Join(dir, "d.npz")
	if err := os.WriteFile(model, b, 0o644); err != nil {
		t.Fatal(err)
	}
	params := make([]float64, spec.NumParams())
	for i := range params {
		params[i] = 0.3 * math.Sin(float64(3*i+1)) // nonzero, deterministic
	}
	writeWeights(t, weights, spec, params)
	ds, err := data.GaussianClasses(30, layers[0], layers[len(layers)-1], 1.5, 2)
	writeData(t, dataPath, ds, err)
	return model, weights, dataPath
}

// negZero matches a printed negative zero: -0, -0.000, -0e+00.
var negZero = regexp.MustCompile(`-0(\.0*)?([^0-9.]|$)|-0(\.0*)?e`)

// Below ExactThreshold `spectrum` is exact by itself and says so, in the
// text and in the JSON ("method": "exact"); its eigenvalues agree with
// Lanczos' (--exact=false) to Lanczos' tolerance; nothing prints -0.
func TestSpectrumExactAuto(t *testing.T) {
	model, weights, dataPath := taylorFiles(t) // 4x8x2: 58 parameters
	base := []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet", "--trace", "--density"}
	var text, stderr bytes.Buffer
	if err := execute(context.Background(), base, &text, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(text.String(), "exact       dense Hessian of 58 parameters, gonum EigenSym") ||
		!strings.Contains(text.String(), "density     exact counts") || !strings.Contains(text.String(), "(exact)") {
		t.Errorf("text does not say exact:\n%s", text.String())
	}
	if m := negZero.FindString(text.String()); m != "" {
		t.Errorf("negative zero %q in\n%s", m, text.String())
	}
	var js bytes.Buffer
	if err := execute(context.Background(), append(base, "--json"), &js, &stderr); err != nil {
		t.Fatal(err)
	}
	var exact, lz run.SpectrumReport
	if err := json.Unmarshal(js.Bytes(), &exact); err != nil {
		t.Fatal(err)
	}
	if exact.Method != "exact" || exact.Exact == nil || exact.Trace.Method != "exact" || exact.HVPs != 58 {
		t.Errorf("JSON method %q, exact %+v, trace %+v, %d products", exact.Method, exact.Exact, exact.Trace, exact.HVPs)
	}
	if m := negZero.FindString(js.String()); m != "" {
		t.Errorf("negative zero %q in the JSON", m)
	}
	js.Reset()
	if err := execute(context.Background(), []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath,
		"--device", "cpu", "--quiet", "--json", "--exact=false"}, &js, &stderr); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js.Bytes(), &lz); err != nil {
		t.Fatal(err)
	}
	if lz.Method != "" || lz.Exact != nil || strings.Contains(js.String(), `"method":"exact"`) {
		t.Errorf("--exact=false: method %q", lz.Method)
	}
	// Lanczos' tolerance 1e-8 relative bounds its error; 1e-7 of max|λ| is ample.
	scale := math.Abs(exact.TopEigenvalues[0])
	if math.Abs(lz.TopEigenvalues[0]-exact.TopEigenvalues[0]) > 1e-7*scale || math.Abs(lz.BottomEigenvalues[0]-exact.BottomEigenvalues[0]) > 1e-7*scale {
		t.Errorf("Lanczos %v %v, exact %v %v", lz.TopEigenvalues, lz.BottomEigenvalues, exact.TopEigenvalues, exact.BottomEigenvalues)
	}
}

// --exact forces exact mode above ExactThreshold; it is refused with an
// error naming --exact above the memory bound, and with the estimators'
// flags, which it would ignore.
func TestSpectrumExactFlag(t *testing.T) {
	model, weights, dataPath := exactFiles(t, []int{20, 40, 5}) // 1,045 parameters
	args := []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet", "--json"}
	var stdout, stderr bytes.Buffer
	if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stdout.String(), `"method":"exact"`) {
		t.Errorf("1,045 parameters (threshold %d): exact without --exact", run.ExactThreshold)
	}
	stdout.Reset()
	if err := execute(context.Background(), append(args, "--exact"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), `"method":"exact"`) {
		t.Errorf("--exact at 1,045 parameters is not exact")
	}
	err := execute(context.Background(), append(args, "--exact", "--slq-steps", "10", "--density"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--slq-steps") || !strings.Contains(err.Error(), "--exact") {
		t.Errorf("--exact --slq-steps: error %v", err)
	}
	// 8x1500x3: 18,003 parameters, a 2.4 GiB matrix, above the 1 GiB bound.
	model, weights, dataPath = exactFiles(t, []int{8, 1500, 3})
	err = execute(context.Background(), []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet", "--exact"}, &stdout, &stderr)
	if err == nil || !strings.HasPrefix(err.Error(), "spectrum: --exact: ") || !strings.Contains(err.Error(), "18003 parameters") {
		t.Errorf("--exact above the memory bound: error %v", err)
	}
}
