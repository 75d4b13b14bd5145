package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// HVPSettings configure HVP. Zero values mean the defaults noted.
type HVPSettings struct {
	Spec    models.Spec
	Batch   int    // samples in the one batch timed; 0 means 512
	Repeats int    // timed repetitions after Warmup; 0 means 20
	Warmup  int    // untimed repetitions first; 0 means 3
	Seed    uint64 // parameters and data
}

// Validate reports settings a command gave that HVP would read as its
// defaults or cannot run, as a *run.SettingError naming the flag (batch,
// repeats): a zero is refused here, since a command gives every setting.
func (s HVPSettings) Validate() error {
	switch {
	case s.Batch < 1:
		return &run.SettingError{Setting: "batch", Value: fmt.Sprint(s.Batch), Err: errors.New("want at least 1")}
	case s.Repeats < 1:
		return &run.SettingError{Setting: "repeats", Value: fmt.Sprint(s.Repeats), Err: errors.New("want at least 1")}
	}
	return nil
}

// HVPResult holds median times in milliseconds of one gradient, one exact
// HVP recomputing the forward pass (what a peer's double backward does), and
// one HVP reusing a kept forward pass (what repeated products in a probe
// cost), and, for each, of its GEMMs alone: the same calls, shapes,
// transposes and operands replayed on the backend without the rest of the
// work (the ceiling; for the GPU, cuBLAS alone).
type HVPResult struct {
	Backend     string  `json:"backend"`
	Arch        string  `json:"arch"`
	Activation  string  `json:"act"`
	Loss        string  `json:"loss"`
	Batch       int     `json:"batch"`
	DType       string  `json:"dtype"`
	Params      int     `json:"n_params"`
	Repeats     int     `json:"repeats"`
	Threads     int     `json:"threads"`
	GradMS      float64 `json:"grad_ms"`
	HVPMS       float64 `json:"hvp_ms"`
	HVPCachedMS float64 `json:"hvp_cached_ms"`
	HVPPerGrad  float64 `json:"hvp_per_grad"`
	GFLOPS      float64 `json:"hvp_gflops"`

	GemmGradMS      float64 `json:"gemm_grad_ms"`        // the gradient's GEMMs alone
	GemmMS          float64 `json:"gemm_ms"`             // the HVP's GEMMs alone
	GemmCachedMS    float64 `json:"gemm_cached_ms"`      // the kept-forward HVP's GEMMs alone
	GemmGradCount   int     `json:"gemm_grad_count"`     // GEMM calls in one gradient
	GemmCount       int     `json:"gemm_count"`          // GEMM calls in one HVP
	GemmCachedCount int     `json:"gemm_cached_count"`   // GEMM calls in one kept-forward HVP
	GemmGFLOPS      float64 `json:"gemm_gflops"`         // the HVP's GEMM flops / GemmMS
	HVPPerGemm      float64 `json:"hvp_per_gemm"`        // HVPMS / GemmMS: 1 is the ceiling
	CachedPerGemm   float64 `json:"hvp_cached_per_gemm"` // HVPCachedMS / GemmCachedMS
}

// WriteText writes r as `curvprobe bench hvp` prints it: a header, then
// the gradient, the HVP and the kept-forward HVP, each beside its GEMMs
// alone.
func (r *HVPResult) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s %s %s batch %d %s on %s (%d threads), %d parameters\n", r.Arch, r.Activation, r.Loss, r.Batch, r.DType, r.Backend, r.Threads, r.Params)
	fmt.Fprintf(w, "                      time    its GEMMs alone (the ceiling)\n")
	fmt.Fprintf(w, "gradient           %8.3f ms  %8.3f ms (%d GEMMs)\n", r.GradMS, r.GemmGradMS, r.GemmGradCount)
	fmt.Fprintf(w, "HVP                %8.3f ms  %8.3f ms (%d GEMMs, %.1f GFLOP/s): %.2f gradients, %.2fx the ceiling\n",
		r.HVPMS, r.GemmMS, r.GemmCount, r.GemmGFLOPS, r.HVPPerGrad, r.HVPPerGemm)
	_, err := fmt.Fprintf(w, "HVP, forward kept  %8.3f ms  %8.3f ms (%d GEMMs): %.2fx the ceiling\n",
		r.HVPCachedMS, r.GemmCachedMS, r.GemmCachedCount, r.CachedPerGemm)
	return err
}

// HVP times the gradient and the HVP of s.Spec on be for one batch of random
// data (inputs N(0,1), random labels or targets) at random parameters.
func HVP[T kernels.Float](ctx context.Context, be kernels.Backend[T], s HVPSettings) (*HVPResult, error) {
	if s.Batch <= 0 {
		s.Batch = 512
	}
	if s.Repeats <= 0 {
		s.Repeats = 20
	}
	if s.Warmup <= 0 {
		s.Warmup = 3
	}
	spec := s.Spec
	rec := &gemmRecorder[T]{Backend: be}
	p, err := models.Build[T](rec, spec, models.Settings{Batch: s.Batch})
	if err != nil {
		return nil, err
	}
	p.Init(s.Seed)
	n := s.Batch
	d, err := gaussianData(p, gaussian{seed: s.Seed, d: spec.Inputs(), c: spec.Outputs()}, n, n)
	if err != nil {
		return nil, err
	}
	defer p.FreeData(d)
	np := p.NumParams()
	g, v, hv := be.Alloc(np), be.Alloc(np), be.Alloc(np)
	defer func() { be.Free(g); be.Free(v); be.Free(hv) }()
	be.Normal(v, s.Seed+7)
	time1 := func(f func() error) (float64, error) {
		var ts []float64
		for i := 0; i < s.Warmup+s.Repeats; i++ {
			start := time.Now()
			if err := f(); err != nil {
				return 0, err
			}
			if err := be.Sync(); err != nil {
				return 0, err
			}
			if i >= s.Warmup {
				ts = append(ts, float64(time.Since(start).Nanoseconds())/1e6)
			}
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		return median(ts), nil
	}
	res := &HVPResult{Backend: be.Name(), Arch: spec.Arch(), Activation: models.ActivationName(spec.Activation),
		Loss: spec.Loss.String(), Batch: n, DType: kernels.DTypeName[T](), Params: np, Repeats: s.Repeats, Threads: cpu.Threads()}
	if res.GradMS, err = time1(func() error { _, err := p.Gradient(ctx, g, d); return err }); err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	if res.HVPMS, err = time1(func() error { return p.HVP(ctx, hv, v, d) }); err != nil {
		return nil, fmt.Errorf("hvp: %w", err)
	}
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	if res.HVPCachedMS, err = time1(func() error { return op.Apply(ctx, hv, v) }); err != nil {
		return nil, fmt.Errorf("hvp (kept forward): %w", err)
	}
	res.HVPPerGrad = res.HVPMS / res.GradMS
	res.GFLOPS = HVPFlops(spec, n) / (res.HVPMS * 1e6)

	// The ceilings: record each computation's GEMMs once, then time them alone.
	gradCalls, err := rec.record(func() error { _, err := p.Gradient(ctx, g, d); return err })
	if err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	hvpCalls, err := rec.record(func() error { return p.HVP(ctx, hv, v, d) })
	if err != nil {
		return nil, fmt.Errorf("hvp: %w", err)
	}
	cachedCalls, err := rec.record(func() error { return op.Apply(ctx, hv, v) })
	if err != nil {
		return nil, fmt.Errorf("hvp (kept forward): %w", err)
	}
	replay := func(calls []gemmCall) func() error {
		return func() error { rec.replay(calls); return nil }
	}
	if res.GemmGradMS, err = time1(replay(gradCalls)); err != nil {
		return nil, err
	}
	if res.GemmMS, err = time1(replay(hvpCalls)); err != nil {
		return nil, err
	}
	if res.GemmCachedMS, err = time1(replay(cachedCalls)); err != nil {
		return nil, err
	}
	res.GemmGradCount, res.GemmCount, res.GemmCachedCount = len(gradCalls), len(hvpCalls), len(cachedCalls)
	res.GemmGFLOPS = gemmFlops(hvpCalls) / (res.GemmMS * 1e6)
	res.HVPPerGemm = res.HVPMS / res.GemmMS
	res.CachedPerGemm = res.HVPCachedMS / res.GemmCachedMS
	return res, nil
}

// HVPFlops counts the GEMM flops of one R-operator HVP with the forward pass
// recomputed, as Plan does it: per layer l of in×out with batch B, the
// forward z (1 GEMM), the tangent forward (2, or 1 on the first layer), the
// backward d W^T and the tangent backward Rd W^T + d V^T (3, none on the
// first layer), and the weight products a^T Rd + Ra^T d (2, or 1 on the
// first layer); each GEMM costs 2*B*in*out.
func HVPFlops(spec models.Spec, batch int) float64 {
	var f float64
	for l := 0; l < spec.NumLayers(); l++ {
		gemm := 2 * float64(batch) * float64(spec.Layers[l]) * float64(spec.Layers[l+1])
		k := 8.0
		if l == 0 {
			k = 3
		}
		f += k * gemm
	}
	return f
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is sorted in place.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
