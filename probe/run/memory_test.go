package run

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// smallMachine is a CPU backend that reports 12 GiB available of 16 and
// counts what it is asked to allocate.
type smallMachine struct {
	*cpu.Backend[float32]
	allocs int
}

func (*smallMachine) MemInfo() (kernels.MemInfo, error) {
	return kernels.MemInfo{Available: 12 << 30, Total: 16 << 30, Host: true, Where: "this machine"}, nil
}

func (b *smallMachine) Alloc(n int) kernels.Buffer {
	b.allocs += n
	return b.Backend.Alloc(n)
}

// A run too large for the machine is refused before anything is allocated
// or generated, with the estimate, the memory available and the field to
// blame (issue 10: train on an 8x1000000000x3 model died of out-of-memory
// with a stack dump; sweep runs go through Train too).
func TestTrainRefusesWhatDoesNotFit(t *testing.T) {
	figure := regexp.MustCompile(`needs about [0-9.]+ [KMGTPE]iB of memory .*this machine has 12 GiB available \(16 GiB in all\)`)
	base := TrainConfig{
		Model:     models.Spec{Layers: []int{8, 30, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "synthetic:gaussian",
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:     2,
		Seed:      1,
	}
	for _, c := range []struct {
		edit func(*TrainConfig)
		want string
	}{
		{func(c *TrainConfig) { c.Model.Layers = []int{8, 1000000000, 3} }, "model 8x1000000000x3: "},
		{func(c *TrainConfig) { c.Model.Layers = []int{100000, 100000, 100000, 3} }, "model 100000x100000x100000x3: "},
		{func(c *TrainConfig) { c.Subset = 4000000000 }, "subset 4000000000 of synthetic:gaussian: "},
		{func(c *TrainConfig) { c.PlanBatch = 4000000000000 }, "plan_batch 4000000000000: "},
	} {
		cfg := base
		c.edit(&cfg)
		be := &smallMachine{Backend: cpu.New[float32]()}
		_, err := Train[float32](context.Background(), be, filepath.Join(t.TempDir(), "run"), &cfg, TrainOptions{})
		if !errors.Is(err, models.ErrTooLarge) || !strings.HasPrefix(err.Error(), c.want) || !figure.MatchString(err.Error()) {
			t.Errorf("%s: error %v", c.want, err)
		}
		if be.allocs != 0 {
			t.Errorf("%s: %d elements allocated", c.want, be.allocs)
		}
		if c.want[0] == 'm' {
			if err := CheckModelMemory[float32](be, &cfg); !errors.Is(err, models.ErrTooLarge) {
				t.Errorf("CheckModelMemory: %v", err)
			}
		}
	}
	if err := CheckModelMemory[float32](&smallMachine{Backend: cpu.New[float32]()}, &base); err != nil {
		t.Error(err)
	}
}
