package models

import (
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/internal/npytest"
	"github.com/curvprobe/curvprobe/kernels"
)

func TestLoadWeightsCorrupt(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	good, _ := savedWeights(t, spec, 4, "w.npz")
	if _, err := LoadWeights(good, spec); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	npytest.CheckCorrupt(t, good, "w.npz", []string{"W0", "b0", "b1"},
		func(p string) error { _, err := LoadWeights(p, spec); return err },
		func(p, array string) []string { return []string{"weights " + p, "array " + array} })
}

func TestLoadArraysCorrupt(t *testing.T) {
	params := make([]float64, 5000) // larger than one zip read
	for i := range params {
		params[i] = float64(i)*0.25 - 3
	}
	good := filepath.Join(t.TempDir(), "ckpt.npz")
	if err := SaveArrays(good, map[string][]float64{"params": params, "eig": params[:7]}); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadArrays(good); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	npytest.CheckCorrupt(t, good, "ckpt.npz", []string{"params", "eig"},
		func(p string) error { _, err := LoadArrays(p); return err },
		func(p, array string) []string { return []string{p, "array " + array} })
}
