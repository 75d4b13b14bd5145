package bench

import (
	"context"
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// RunHVP runs HVP on a backend of float type dt opened by b (device.Run:
// the float type is chosen there, once). It first checks that the plan's
// parameters, the gradient, direction and product vectors and the batch
// (both the data and one pass) fit the backend's memory; a refusal is a
// *run.SettingError blaming the architecture when one sample does not fit,
// else the batch. A failure to open is a *device.OpenError.
func RunHVP(ctx context.Context, dt kernels.DType, b device.Backends, s HVPSettings) (*HVPResult, error) {
	j := &hvpJob{ctx: ctx, s: s}
	err := device.Run(dt, b, j)
	return j.res, err
}

type hvpJob struct {
	ctx context.Context
	s   HVPSettings
	res *HVPResult
}

// Float32 implements device.Job.
func (j *hvpJob) Float32(be kernels.Backend[float32]) (err error) {
	j.res, err = checkedHVP(j.ctx, be, j.s)
	return err
}

// Float64 implements device.Job.
func (j *hvpJob) Float64(be kernels.Backend[float64]) (err error) {
	j.res, err = checkedHVP(j.ctx, be, j.s)
	return err
}

func checkedHVP[T kernels.Float](ctx context.Context, be kernels.Backend[T], s HVPSettings) (*HVPResult, error) {
	if _, culprit, err := models.CheckMemoryCulprit(be, s.Spec, models.Usage{Vectors: 4, Samples: s.Batch, Rows: s.Batch}); err != nil {
		if culprit == models.CulpritModel {
			return nil, &run.SettingError{Setting: "arch", Value: s.Spec.Arch(), Err: err}
		}
		return nil, &run.SettingError{Setting: "batch", Value: fmt.Sprint(s.Batch), Err: err}
	}
	return HVP(ctx, be, s)
}

// RunTopEigenvalue runs TopEigenvalue on a backend of float type dt opened
// by b, with passes of s.Batch samples at most s.Samples (a pass never
// holds more samples than there are; the results do not depend on it),
// first checking that the plan's parameters, the method's vectors and one
// batch of samples (they are generated a batch at a time) fit the
// backend's memory; a refusal is a *run.SettingError blaming the batch, or
// the arch when passes of one sample would not fit either (batch is
// s.Batch as asked for, before it was capped at the number of samples).
// A failure to open is a *device.OpenError.
func RunTopEigenvalue(ctx context.Context, dt kernels.DType, b device.Backends, s LambdaSettings) (*LambdaResult, error) {
	batch := s.Batch
	s.Batch = min(s.Batch, s.Samples)
	j := &lambdaJob{ctx: ctx, s: s, batch: batch}
	err := device.Run(dt, b, j)
	return j.res, err
}

type lambdaJob struct {
	ctx   context.Context
	s     LambdaSettings
	batch int
	res   *LambdaResult
}

// Float32 implements device.Job.
func (j *lambdaJob) Float32(be kernels.Backend[float32]) (err error) {
	j.res, err = checkedLambda(j.ctx, be, j.s, j.batch)
	return err
}

// Float64 implements device.Job.
func (j *lambdaJob) Float64(be kernels.Backend[float64]) (err error) {
	j.res, err = checkedLambda(j.ctx, be, j.s, j.batch)
	return err
}

func checkedLambda[T kernels.Float](ctx context.Context, be kernels.Backend[T], s LambdaSettings, batch int) (*LambdaResult, error) {
	// The plan's parameters and the estimator's vectors, as many whatever
	// the number of products, and one batch of samples: they are generated
	// a batch at a time.
	u := models.Usage{Vectors: LambdaVectors(s.Method), Samples: s.Batch, Rows: s.Batch}
	if _, culprit, err := models.CheckMemoryCulprit(be, s.Spec, u); err != nil {
		if culprit == models.CulpritModel {
			return nil, &run.SettingError{Setting: "arch", Value: s.Spec.Arch(), Err: err}
		}
		return nil, &run.SettingError{Setting: "batch", Value: fmt.Sprint(batch), Err: err}
	}
	return TopEigenvalue(ctx, be, s)
}
