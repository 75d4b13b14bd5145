package bench

import (
	"context"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// HVPFlops counts the GEMMs of the R-operator as torch_hvp.py does for its
// GEMM ceiling: 19 GEMMs, 3.42 GFLOP for 784x512x512x10 at batch 512.
func TestHVPFlops(t *testing.T) {
	spec := models.Spec{Layers: []int{784, 512, 512, 10}}
	const b = 512.0
	want := 2 * b * (3*784*512 + 8*512*512 + 8*512*10)
	if got := HVPFlops(spec, 512); got != want || math.Abs(got/1e9-3.42) > 0.01 {
		t.Errorf("HVPFlops = %.4g, want %.4g (3.42 GFLOP)", got, want)
	}
}

func TestHVPAndLambdaRun(t *testing.T) {
	spec := models.Spec{Layers: []int{12, 16, 4}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	be := cpu.New[float64]()
	r, err := HVP[float64](context.Background(), be, HVPSettings{Spec: spec, Batch: 32, Repeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !(r.GradMS > 0 && r.HVPMS > 0 && r.HVPCachedMS > 0) || r.Params != 12*16+16+16*4+4 {
		t.Errorf("HVP result %+v", r)
	}
	l, err := TopEigenvalue[float64](context.Background(), be, LambdaSettings{Spec: spec, Samples: 64, Batch: 16, Tol: 1e-8, MaxIter: 2000})
	if err != nil {
		t.Fatal(err)
	}
	// The residual bounds the error of the eigenvalue; a converged λmax of
	// an MSE Hessian at a random point is positive here.
	if !l.Converged || !(l.LambdaMax > 0) || l.Residual > 1e-8*l.LambdaMax*1.0001 {
		t.Errorf("lambda result %+v", l)
	}
}
