package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
)

// cpuOnly opens the CPU backend.
var cpuOnly = device.On(device.Name{Kind: device.CPU}, device.Options{})

// tinyRun trains a few steps of a small run in a new directory with
// TrainRun and returns the directory and its configuration.
func tinyRun(t *testing.T, dt kernels.DType) (string, *TrainConfig) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	cfg := &TrainConfig{
		Model:     models.Spec{Layers: []int{4, 5, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "synthetic:gaussian",
		Subset:    30,
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:     2, ProbeEvery: 2, Seed: 1, DType: dt,
	}
	if _, err := TrainRun(context.Background(), TrainSettings{Dir: dir, Config: cfg, Backends: cpuOnly}); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

// OpenProblem takes the float type from the settings, else the run's
// (TrainRun's default float32 when unset), and the Problem it returns
// computes in it; a configuration given is not read again.
func TestOpenProblemDType(t *testing.T) {
	dir, cfg := tinyRun(t, kernels.DTypeUnset)
	if cfg.DType != kernels.Float32 {
		t.Fatalf("TrainRun left dtype %v, want float32", cfg.DType)
	}
	for _, tc := range []struct {
		asked, want kernels.DType
	}{{kernels.DTypeUnset, kernels.Float32}, {kernels.Float64, kernels.Float64}} {
		p, err := OpenProblem(ProblemSettings{RunDir: dir, Batch: 7, DType: tc.asked, Device: device.Name{Kind: device.CPU}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.Spectrum(context.Background(), SpectrumSettings{TopK: 1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if p.DType() != tc.want || rep.DType != tc.want.String() || p.NumParams() != 4*5+5+5*3+3 || p.Samples() != 30 {
			t.Errorf("dtype %v asked: problem %v, report %s, %d parameters, %d samples", tc.asked, p.DType(), rep.DType, p.NumParams(), p.Samples())
		}
	}
	// With the configuration given, config.json is not read.
	if err := os.Remove(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenProblem(ProblemSettings{RunDir: dir, Run: cfg, Batch: 7, Device: device.Name{Kind: device.CPU}}); err != nil {
		t.Errorf("with Run given: %v", err)
	}
	if _, err := OpenProblem(ProblemSettings{RunDir: dir, Batch: 7, Device: device.Name{Kind: device.CPU}}); !isSetting(err, "run") {
		t.Errorf("without config.json: %v; want a run setting error", err)
	}
}

// Errors name the setting at fault.
func TestOpenProblemErrors(t *testing.T) {
	dir, _ := tinyRun(t, kernels.Float64)
	cpu := device.Name{Kind: device.CPU}
	model := filepath.Join(t.TempDir(), "m.json")
	if err := os.WriteFile(model, []byte(`{"layers":[4,5,3],"activation":"tanh","loss":"cross_entropy"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    ProblemSettings
		want string
	}{
		{ProblemSettings{Model: filepath.Join(dir, "missing.json"), Batch: 1, Device: cpu}, "model"},
		{ProblemSettings{Model: model, Weights: filepath.Join(dir, WeightsFile), Data: filepath.Join(dir, "missing.npz"), Batch: 1, Device: cpu}, "data"},
		{ProblemSettings{Model: model, Weights: filepath.Join(dir, "missing.npz"), RunDir: dir, Batch: 1, Device: cpu}, "weights"},
		{ProblemSettings{RunDir: filepath.Join(dir, "nothing"), Batch: 1, Device: cpu}, "run"},
	} {
		if _, err := OpenProblem(tc.s); !isSetting(err, tc.want) {
			t.Errorf("%+v: %v; want an error of setting %q", tc.s, err, tc.want)
		}
	}
	if _, err := TrainRun(context.Background(), TrainSettings{Dir: filepath.Join(dir, "nothing"), Backends: cpuOnly, Options: TrainOptions{Resume: true}}); !isSetting(err, "resume") {
		t.Errorf("resume without a run: %v", err)
	}
}

func isSetting(err error, name string) bool {
	var se *SettingError
	return errors.As(err, &se) && se.Setting == name
}
