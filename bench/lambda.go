package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/run"
)

// LambdaSettings configure TopEigenvalue.
type LambdaSettings struct {
	Spec    models.Spec
	Samples int     // data set size; 0 means 4096
	Batch   int     // samples per backend pass; 0 means 1024
	Tol     float64 // relative residual (Lanczos: its bound); 0 means 1e-3
	MaxIter int     // products at most; 0 means 100
	Seed    uint64
	// Method is "lanczos" (probe.StreamLanczos: no stored basis, the
	// memory of power iteration) or "power" (probe.PowerIteration); ""
	// means "lanczos".
	Method string
	// Recorder, if not nil, receives the estimator's progress.
	Recorder probe.Recorder
	// CacheBytes bounds the memory for keeping the forward passes between
	// products (models.Settings.CacheBytes); 0 means models' default.
	CacheBytes int64
}

// Validate reports settings a command gave that TopEigenvalue would read
// as its defaults or refuse, as a *run.SettingError naming the flag (tol,
// samples, batch, max-iter, method): a zero is refused here, since a
// command gives every setting.
func (s LambdaSettings) Validate() error {
	bad := func(name string, v any, msg string) error {
		return &run.SettingError{Setting: name, Value: fmt.Sprint(v), Err: errors.New(msg)}
	}
	switch {
	case math.IsNaN(s.Tol) || math.IsInf(s.Tol, 0):
		return bad("tol", s.Tol, "want a finite number")
	case s.Samples < 1:
		return bad("samples", s.Samples, "want at least 1")
	case s.Batch < 1:
		return bad("batch", s.Batch, "want at least 1")
	case !(s.Tol > 0 && s.Tol < 1):
		return bad("tol", s.Tol, "want a relative residual in (0, 1)")
	case s.MaxIter < 1:
		return bad("max-iter", s.MaxIter, "want at least 1")
	case s.Method != "lanczos" && s.Method != "power":
		return bad("method", fmt.Sprintf("%q", s.Method), "want lanczos or power")
	}
	return nil
}

// CacheBytes returns LambdaSettings.CacheBytes for a size in MiB, 0 or -1
// meaning never (-1: models' 0 would mean its default), refusing other
// negative sizes and sizes beyond int64 bytes as a *run.SettingError
// naming cache-mib.
func CacheBytes(mib int64) (int64, error) {
	if mib < -1 || mib > math.MaxInt64>>20 {
		return 0, &run.SettingError{Setting: "cache-mib", Value: fmt.Sprint(mib), Err: errors.New("want 0 or -1 (never) or a positive size in MiB")}
	}
	if mib <= 0 {
		return -1, nil
	}
	return mib << 20, nil
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
	// Method is the estimator ("lanczos" or "power") and HVPs the
	// products it took. Residual is ‖Hv - λv‖ for power iteration and the
	// Lanczos bound |β_m y_m| (equal to it in exact arithmetic) for
	// Lanczos, which forms no eigenvector.
	Method string `json:"method"`
	HVPs   int    `json:"hvps"`
	// PeakRSS is the process's peak resident memory in bytes when the
	// estimate was done (0 where the system does not say).
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
}

// LambdaVectors returns the parameter-length vectors TopEigenvalue holds
// with method, the parameters included, for a memory estimate.
func LambdaVectors(method string) int {
	if method == "power" {
		return 4 // parameters, iterate, product, residual
	}
	return 1 + probe.StreamVectors
}

// TopEigenvalue measures λmax of s.Spec's loss Hessian at a random
// initialisation on s.Samples random samples (generated a batch at a time),
// by Lanczos without a stored basis or by power iteration (s.Method), both
// holding a few vectors whatever the number of products: the scale test of
// how large a network the backend can probe.
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
	if s.Method == "" {
		s.Method = "lanczos"
	}
	if s.Method != "lanczos" && s.Method != "power" {
		return nil, fmt.Errorf("bench: method %q: want lanczos or power", s.Method)
	}
	spec := s.Spec
	p, err := models.Build(be, spec, models.Settings{Batch: s.Batch, CacheBytes: s.CacheBytes})
	if err != nil {
		return nil, err
	}
	p.Init(s.Seed)
	n := s.Samples
	d, err := gaussianData(p, gaussian{seed: s.Seed + 1, d: spec.Inputs(), c: spec.Outputs()}, n, s.Batch)
	if err != nil {
		return nil, err
	}
	defer p.FreeData(d)
	start := time.Now()
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	var value, resid float64
	var iters int
	if s.Method == "power" {
		var res *probe.PowerResult[kernels.Buffer]
		res, err = probe.PowerIteration[kernels.Buffer](ctx, op, be, probe.PowerSettings[kernels.Buffer]{Tol: s.Tol, MaxIter: s.MaxIter, Seed: s.Seed + 1, Recorder: s.Recorder})
		if res != nil {
			be.Free(res.Vector)
			value, resid, iters = res.Value, res.Residual, res.Stats.Iterations
		}
	} else {
		var res *probe.LanczosResult[kernels.Buffer]
		res, err = probe.StreamLanczos[kernels.Buffer](ctx, op, be, probe.LanczosSettings{TopK: 1, Tol: s.Tol, MaxSteps: s.MaxIter, Seed: s.Seed + 1, Recorder: s.Recorder}, nil)
		value, resid, iters = math.NaN(), math.Inf(1), res.Steps
		if len(res.Top) > 0 {
			value, resid = res.Top[0], res.TopBounds[0]
		}
	}
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return nil, err
	}
	if err := be.Sync(); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	out := &LambdaResult{Backend: be.Name(), Arch: spec.Arch(), DType: kernels.DTypeName[T](), Params: p.NumParams(), Samples: n,
		LambdaMax: value, Residual: resid, Iterations: iters, Converged: err == nil, Seconds: secs,
		Method: s.Method, HVPs: op.Applies, PeakRSS: peakRSS()}
	if op.Applies > 0 {
		out.MSPerHVP = 1000 * secs / float64(op.Applies)
	}
	return out, nil
}
