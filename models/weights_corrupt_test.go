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
	for _, array := range []string{"W0", "b0", "b1"} {
		for _, c := range npytest.Corruptions {
			t.Run(array+"/"+c.Name, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "w.npz")
				npytest.RewriteMember(t, good, p, array+".npy", c.F)
				err := npytest.NoPanic(t, func() error { _, err := LoadWeights(p, spec); return err })
				npytest.CheckNamed(t, err, "weights "+p, "array "+array)
			})
		}
	}
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
	for _, array := range []string{"params", "eig"} {
		for _, c := range npytest.Corruptions {
			t.Run(array+"/"+c.Name, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "ckpt.npz")
				npytest.RewriteMember(t, good, p, array+".npy", c.F)
				err := npytest.NoPanic(t, func() error { _, err := LoadArrays(p); return err })
				npytest.CheckNamed(t, err, p, "array "+array)
			})
		}
	}
}
