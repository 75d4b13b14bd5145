package run

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// A probe set too large for the machine is blamed on --data when it is held
// whole, but on --batch when it is read a batch at a time: there only a
// smaller batch can make it fit. The model has 4,000,000 inputs, so 1,000
// samples take 16 GB in float32 on a machine with 12 GiB available.
func TestBuildProblemBlamesBatchWhenStreamed(t *testing.T) {
	small := &data.Dataset{N: 2, D: 3, X: []float64{0.1, -0.2, 0.3, 0.4, 0.5, -0.6}, Labels: []int{0, 2}, Classes: 3}
	path := filepath.Join(t.TempDir(), "d.npz")
	if err := data.SaveNPZ(path, small); err != nil {
		t.Fatal(err)
	}
	src, err := data.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Streamed() {
		t.Fatal("NPZ not read on demand")
	}
	// Both claim 1,000 samples: the memory check refuses before any read.
	mem := data.FromDataset(small)
	mem.N, src.N = 1000, 1000
	spec := models.Spec{Layers: []int{4000000, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	for _, c := range []struct {
		src  *data.Source
		want string
	}{
		{mem, "data d.npz (1000 samples): "},
		{src, "batch 1000: "},
	} {
		b := &problemBuilder{s: ProblemSettings{Batch: 1000}, spec: spec, src: c.src, dataPath: "d.npz",
			modelFrom: &SettingError{"model", "m.json", nil}}
		_, err := buildProblem[float32](&smallMachine{Backend: cpu.New[float32]()}, b)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("streamed %v: error %v, want it to start %q", c.src.Streamed(), err, c.want)
		}
	}
}
