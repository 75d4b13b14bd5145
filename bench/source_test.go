package bench

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// A generated sample does not depend on the batch that reads it: rows 5-7
// read alone equal rows 5-7 of a read from 0, labels and targets included,
// and the values are not constant.
func TestGaussianReadsSameSamplesInAnyBatch(t *testing.T) {
	g := gaussian{seed: 3, d: 4, c: 3}
	x, l, y := make([]float64, 10*4), make([]int, 10), make([]float64, 10*3)
	xs, ls, ys := make([]float64, 3*4), make([]int, 3), make([]float64, 3*3)
	if err := g.ReadBatch(0, x, l, y); err != nil {
		t.Fatal(err)
	}
	if err := g.ReadBatch(5, xs, ls, ys); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(xs, x[20:32]) || !slices.Equal(ls, l[5:8]) || !slices.Equal(ys, y[15:24]) {
		t.Errorf("rows 5-7 read alone %v %v %v, from 0 %v %v %v", xs, ls, ys, x[20:32], l[5:8], y[15:24])
	}
	if slices.Min(x) == slices.Max(x) || slices.Min(l) == slices.Max(l) {
		t.Errorf("constant samples: x %v labels %v", x, l)
	}
}

// λmax of bench lambda's data is the same whatever the batch: the samples
// are generated a batch at a time from their index, not from the batch.
func TestLambdaIndependentOfBatch(t *testing.T) {
	spec := models.Spec{Layers: []int{12, 16, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	var got []float64
	for _, batch := range []int{7, 16, 64} {
		l, err := TopEigenvalue[float64](context.Background(), cpu.New[float64](), LambdaSettings{Spec: spec, Samples: 64, Batch: batch, Tol: 1e-10, MaxIter: 500, Seed: 2})
		if err != nil || !l.Converged {
			t.Fatalf("batch %d: %+v, %v", batch, l, err)
		}
		got = append(got, l.LambdaMax)
	}
	for _, v := range got[1:] {
		if math.Abs(v-got[0]) > 1e-9*math.Abs(got[0]) {
			t.Errorf("λmax by batch 7, 16, 64: %v", got)
		}
	}
}
