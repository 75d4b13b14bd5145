package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"
)

// savedWeights writes the parameters of newProblem(spec, 1, seed) with
// SaveWeights to a new file name (its extension picks the format) and
// returns its path and the parameters.
func savedWeights(t *testing.T, spec Spec, seed uint64, name string) (string, []float64) {
	t.Helper()
	params := newProblem(spec, 1, seed).params
	path := filepath.Join(t.TempDir(), name)
	if err := SaveWeights(path, spec, params); err != nil {
		t.Fatal(err)
	}
	return path, params
}

// checkLoadWeights fails t unless LoadWeights reads path as spec's
// parameters want, bit for bit.
func checkLoadWeights(t *testing.T, path string, spec Spec, want []float64) {
	t.Helper()
	got, err := LoadWeights(path, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d parameters read, %d written", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("param %d: got %v, wrote %v", i, got[i], want[i])
		}
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	path, params := savedWeights(t, spec, 4, "w.npz")
	checkLoadWeights(t, path, spec, params)
	// W0 is stored [in, out]: element [1,2] is flat index 1*4+2.
	r, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var w0 mat.Dense
	if err := r.Read("W0.npy", &w0); err != nil {
		t.Fatal(err)
	}
	if rr, cc := w0.Dims(); rr != 3 || cc != 4 || w0.At(1, 2) != params[6] {
		t.Errorf("W0 stored as %dx%d with [1,2]=%v, want 3x4 with %v", rr, cc, w0.At(1, 2), params[6])
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	dir := t.TempDir()
	write := func(name string, arrays map[string]any) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := npz.NewWriter(f)
		for k, v := range arrays {
			if err := w.Write(k+".npy", v); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	good := map[string]any{
		"W0": mat.NewDense(3, 4, seq(12)), "b0": seq(4),
		"W1": mat.NewDense(4, 2, seq(8)), "b1": seq(2),
	}
	clone := func(drop string, set string, v any) map[string]any {
		m := map[string]any{}
		for k, x := range good {
			if k != drop {
				m[k] = x
			}
		}
		if set != "" {
			m[set] = v
		}
		return m
	}
	nan := seq(2)
	nan[1] = 0 / zero()
	for _, tc := range []struct {
		name   string
		arrays map[string]any
		want   []string
	}{
		{"missing.npz", clone("b1", "", nil), []string{"missing.npz", `no array "b1"`, "W0"}},
		{"transposed.npz", clone("", "W0", mat.NewDense(4, 3, seq(12))), []string{"transposed.npz", "W0", "[4 3]", "[3 4]"}},
		{"int.npz", clone("", "b0", []int64{1, 2, 3, 4}), []string{"int.npz", "b0", "dtype"}},
		{"nan.npz", clone("", "b1", nan), []string{"nan.npz", "b1", "NaN"}},
	} {
		_, err := LoadWeights(write(tc.name, tc.arrays), spec)
		errtest.Mentions(t, tc.name, err, tc.want...)
	}
	if _, err := LoadWeights(write("good.npz", good), spec); err != nil {
		t.Errorf("good file: %v", err)
	}
}

func zero() float64 { return 0 }

func seq(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 0.1*float64(i) - 0.35
	}
	return v
}

// Arrays far larger than a zip read (npyio v0.6.0 corrupted everything past
// ~32 KiB by ignoring short reads) survive a round trip exactly, both as
// checkpoint arrays and as weights.
func TestLargeArraysRoundTrip(t *testing.T) {
	for _, n := range []int{4085, 4096, 100003} {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i)*0.37 - 11
		}
		p := filepath.Join(t.TempDir(), "a.npz")
		if err := SaveArrays(p, map[string][]float64{"params": v, "eig": v[:n/2]}); err != nil {
			t.Fatal(err)
		}
		got, err := LoadArrays(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			if got["params"][i] != v[i] {
				t.Fatalf("n=%d: element %d read as %v, wrote %v", n, i, got["params"][i], v[i])
			}
		}
		if len(got["eig"]) != n/2 {
			t.Fatalf("n=%d: eig has %d values", n, len(got["eig"]))
		}
	}
	spec := Spec{Layers: []int{300, 200, 10}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	p, params := savedWeights(t, spec, 8, "w.npz")
	checkLoadWeights(t, p, spec, params)
}

// A weights file with arrays the model does not use is for another model:
// biases for a model without them, or an extra layer.
func TestLoadWeightsExtraArrays(t *testing.T) {
	withBias := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	path := filepath.Join(t.TempDir(), "w.npz")
	if err := SaveWeights(path, withBias, newProblem(withBias, 1, 4).params); err != nil {
		t.Fatal(err)
	}
	noBias := withBias
	noBias.Bias = false
	if _, err := LoadWeights(path, noBias); err == nil || !strings.Contains(err.Error(), "arrays b0 b1 are not parameters") {
		t.Errorf("biases for a model without them: %v", err)
	}
	deeper := Spec{Layers: []int{3, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	if _, err := LoadWeights(path, deeper); err == nil || !strings.Contains(err.Error(), "W1 b1") {
		t.Errorf("an extra layer: %v", err)
	}
}
