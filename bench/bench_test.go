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

// The GEMMs replayed for the ceiling are the Plan's own: an L-layer HVP
// makes 8L-5 of them with HVPFlops' flops, a gradient 3L-1 and a product
// with the forward pass kept 6L-4 (no forward z, no backward d W^T).
func TestHVPGemmCeiling(t *testing.T) {
	spec := models.Spec{Layers: []int{13, 11, 7, 5}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	be := cpu.New[float64]()
	const batch = 9
	rec := &gemmRecorder[float64]{Backend: be}
	p, err := models.Build[float64](rec, spec, models.Settings{Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	p.Init(3)
	d, err := gaussianData(p, gaussian{seed: 5, d: spec.Inputs(), c: spec.Outputs()}, batch, batch)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	np := p.NumParams()
	g, v, hv := be.Alloc(np), be.Alloc(np), be.Alloc(np)
	be.Normal(v, 1)
	L := spec.NumLayers()
	grad, err := rec.record(func() error { _, err := p.Gradient(ctx, g, d); return err })
	if err != nil {
		t.Fatal(err)
	}
	hvp, err := rec.record(func() error { return p.HVP(ctx, hv, v, d) })
	if err != nil {
		t.Fatal(err)
	}
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	if err := op.Apply(ctx, hv, v); err != nil { // fills the kept forward pass
		t.Fatal(err)
	}
	cached, err := rec.record(func() error { return op.Apply(ctx, hv, v) })
	if err != nil {
		t.Fatal(err)
	}
	if len(grad) != 3*L-1 || len(hvp) != 8*L-5 || len(cached) != 6*L-4 {
		t.Errorf("GEMMs: gradient %d, HVP %d, kept-forward HVP %d; want %d, %d, %d", len(grad), len(hvp), len(cached), 3*L-1, 8*L-5, 6*L-4)
	}
	if got, want := gemmFlops(hvp), HVPFlops(spec, batch); got != want {
		t.Errorf("HVP GEMM flops %g, HVPFlops %g", got, want)
	}

	// A replay writes only the Plan's scratch buffers, never its parameters
	// or data: the HVP after one is unchanged.
	want := make([]float64, np)
	be.Download(want, hv)
	rec.replay(hvp)
	if err := p.HVP(ctx, hv, v, d); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, np)
	be.Download(got, hv)
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("HVP after a replay differs at %d: %g vs %g", i, got[i], want[i])
		}
	}

	r, err := HVP[float64](ctx, be, HVPSettings{Spec: spec, Batch: batch, Repeats: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.GemmCount != 8*L-5 || r.GemmGradCount != 3*L-1 || r.GemmCachedCount != 6*L-4 ||
		!(r.GemmMS > 0 && r.GemmGradMS > 0 && r.GemmCachedMS > 0 && r.HVPPerGemm > 0) {
		t.Errorf("HVP result %+v", r)
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3,1,2 = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4,1,3,2 = %v, want 2.5", m)
	}
}

// The GEMM recorder passes the wrapped backend's memory through, so that
// models' memory checks (Build, the operator's cache) see the real limit.
func TestGemmRecorderMemInfo(t *testing.T) {
	rec := &gemmRecorder[float64]{Backend: cpu.New[float64]()}
	want, werr := cpu.New[float64]().MemInfo()
	got, err := rec.MemInfo()
	if (err == nil) != (werr == nil) || got.Total != want.Total || got.Where != want.Where {
		t.Errorf("recorder: %+v, %v; backend: %+v, %v", got, err, want, werr)
	}
}

// TestLambdaMethods runs both methods of TopEigenvalue on the same model
// and data: the same λmax to the tolerance (each residual bounds its
// distance to an eigenvalue, and the top one is well separated here), with
// Lanczos taking fewer products, and the same memory (LambdaVectors).
func TestLambdaMethods(t *testing.T) {
	spec := models.Spec{Layers: []int{10, 24, 24, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	be := cpu.New[float64]()
	res := map[string]*LambdaResult{}
	for _, m := range []string{"lanczos", "power"} {
		l, err := TopEigenvalue[float64](context.Background(), be, LambdaSettings{Spec: spec, Samples: 200, Batch: 64, Tol: 1e-6, MaxIter: 3000, Method: m, Seed: 4})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if !l.Converged || l.Method != m || l.HVPs != l.Iterations || l.Residual > 1e-6*math.Abs(l.LambdaMax) {
			t.Errorf("%s: result %+v", m, l)
		}
		res[m] = l
		t.Logf("%s: λmax %.10g in %d products", m, l.LambdaMax, l.HVPs)
	}
	lz, pw := res["lanczos"], res["power"]
	if d := math.Abs(lz.LambdaMax - pw.LambdaMax); d > 2e-6*math.Abs(pw.LambdaMax) {
		t.Errorf("lanczos λmax %.10g, power %.10g", lz.LambdaMax, pw.LambdaMax)
	}
	if lz.HVPs >= pw.HVPs {
		t.Errorf("lanczos took %d products, power %d", lz.HVPs, pw.HVPs)
	}
	if LambdaVectors("lanczos") != LambdaVectors("power") {
		t.Errorf("lanczos holds %d vectors, power %d", LambdaVectors("lanczos"), LambdaVectors("power"))
	}
	if _, err := TopEigenvalue[float64](context.Background(), be, LambdaSettings{Spec: spec, Method: "arnoldi"}); err == nil {
		t.Errorf("method arnoldi: no error")
	}
}
