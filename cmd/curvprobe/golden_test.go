package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The human-readable spectrum report is checked against a golden file
// (regenerate with go test -run TestSpectrumGolden -update). The backend's
// name, the timing and the rounding-level residual bounds are masked; eigenvalues print to 10 significant
// digits, far above the 1e-15 by which BLAS implementations differ here.
func TestSpectrumGolden(t *testing.T) {
	dir := t.TempDir()
	spec := models.Spec{Layers: []int{6, 8, 3}, Activation: kernels.Softplus, Loss: models.CrossEntropy, Bias: true}
	p, err := models.Build(cpu.New[float64](), spec, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	p.Init(11)
	b, _ := spec.MarshalJSON()
	model, weights, dataPath := filepath.Join(dir, "m.json"), filepath.Join(dir, "w.npz"), filepath.Join(dir, "d.npz")
	os.WriteFile(model, b, 0o644)
	writeWeights(t, weights, spec, p.ParamsHost())
	ds, err := data.GaussianClasses(45, 6, 3, 1.5, 2)
	writeData(t, dataPath, ds, err)
	var stdout, stderr bytes.Buffer
	err = execute(context.Background(), []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath,
		"--top-k", "3", "--bottom-k", "2", "--trace", "--density", "--lr", "0.5", "--device", "cpu", "--quiet", "--exact=false"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	// The backend's name says which BLAS was found and, without one, how to
	// install it: it depends on the machine, so it is replaced whole, as the
	// program printed it, never matched by a pattern that a name could outgrow.
	got := bytes.ReplaceAll(stdout.Bytes(), []byte(cpu.New[float64]().Name()), []byte("cpu (BLAS)"))
	if bytes.Equal(got, stdout.Bytes()) {
		t.Fatalf("the backend's name %q is not in the output:\n%s", cpu.New[float64]().Name(), stdout.String())
	}
	got = regexp.MustCompile(`in [0-9.]+s`).ReplaceAll(got, []byte("in Ts"))
	// Residual bounds at rounding level depend on the BLAS kernels' summation order.
	got = regexp.MustCompile(`<= [0-9.e+-]+`).ReplaceAll(got, []byte("<= R"))
	golden := filepath.Join("testdata", "spectrum.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("spectrum output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
	}
}
