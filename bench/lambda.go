package bench

import (
	"context"
	"errors"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// LambdaSettings configure TopEigenvalue.
type LambdaSettings struct {
	Spec    models.Spec
	Samples int     // data set size; 0 means 4096
	Batch   int     // samples per backend pass; 0 means 1024
	Tol     float64 // power iteration's relative residual; 0 means 1e-3
	MaxIter int     // 0 means 100
	Seed    uint64
	// CacheBytes bounds the memory for keeping the forward passes between
	// products (models.Settings.CacheBytes); 0 means models' default.
	CacheBytes int64
}

// LambdaResult reports the top Hessian eigenvalue of a randomly initialised
// network on random data, with the cost of finding it.
type LambdaResult struct {
	Backend    string  `json:"backend"`
	Arch       string  `json:"arch"`
	DType      string  `json:"dtype"`
	Params     int     `json:"n_params"`
	Samples    int     `json:"n_samples"`
	LambdaMax  float64 `json:"lambda_max"`
	Residual   float64 `json:"residual"`
	Iterations int     `json:"iterations"`
	Converged  bool    `json:"converged"`
	Seconds    float64 `json:"seconds"`
	MSPerHVP   float64 `json:"ms_per_hvp"`
}

// TopEigenvalue measures λmax of s.Spec's loss Hessian at a random
// initialisation on s.Samples random samples, by power iteration: the scale
// test of how large a network the backend can probe.
func TopEigenvalue[T kernels.Float](ctx context.Context, be kernels.Backend[T], s LambdaSettings) (*LambdaResult, error) {
	if s.Samples <= 0 {
		s.Samples = 4096
	}
	if s.Batch <= 0 {
		s.Batch = 1024
	}
	if s.Tol == 0 {
		s.Tol = 1e-3
	}
	if s.MaxIter == 0 {
		s.MaxIter = 100
	}
	spec := s.Spec
	p, err := models.Build(be, spec, models.Settings{Batch: s.Batch, CacheBytes: s.CacheBytes})
	if err != nil {
		return nil, err
	}
	p.Init(s.Seed)
	n := s.Samples
	d, err := randomData(p, n, s.Seed+1)
	if err != nil {
		return nil, err
	}
	defer p.FreeData(d)
	start := time.Now()
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	res, err := probe.PowerIteration[kernels.Buffer](ctx, op, be, probe.PowerSettings[kernels.Buffer]{Tol: s.Tol, MaxIter: s.MaxIter, Seed: s.Seed + 1})
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return nil, err
	}
	if err := be.Sync(); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	be.Free(res.Vector)
	out := &LambdaResult{Backend: be.Name(), Arch: spec.Arch(), DType: kernels.DTypeName[T](), Params: p.NumParams(), Samples: n,
		LambdaMax: res.Value, Residual: res.Residual, Iterations: res.Stats.Iterations, Converged: err == nil, Seconds: secs}
	if op.Applies > 0 {
		out.MSPerHVP = 1000 * secs / float64(op.Applies)
	}
	return out, nil
}
