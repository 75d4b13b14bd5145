package run

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
)

// TrainSettings say which run to train, where and on what device: what
// TrainRun takes. Zero values mean the defaults noted.
type TrainSettings struct {
	// Dir is the run directory.
	Dir string
	// Config is the run's configuration; its DType, when unset, becomes
	// float32. With Options.Resume it is not used: the run's config.json,
	// read once, decides.
	Config *TrainConfig
	// ModelFrom, when set, names what gave the model (a flag and its
	// value, a file) in the error refusing a model that does not fit the
	// device before anything is loaded; unset leaves the check to Train,
	// which names config.json's fields.
	ModelFrom string
	// Backends open the backend of the run's float type: device.On's,
	// or a test's.
	Backends device.Backends
	// Options are Train's.
	Options TrainOptions
}

// TrainRun trains (or resumes) the run of s on a backend of its float
// type (Train); it is not generic: the float type is chosen here, once.
// The error opening the backend is a *device.OpenError; with Resume, the
// error reading config.json a *SettingError of "resume".
func TrainRun(ctx context.Context, s TrainSettings) (*Summary, error) {
	cfg, opts := s.Config, s.Options
	if opts.Resume {
		saved, err := LoadTrainConfig(filepath.Join(s.Dir, ConfigFile))
		if err != nil {
			return nil, &SettingError{Setting: "resume", Err: err}
		}
		cfg, opts.saved = saved, saved
	} else {
		cfg.DType = cfg.DType.Or(kernels.Float32)
	}
	j := &trainJob{s: &s, cfg: cfg, opts: opts, ctx: ctx}
	err := device.Run(cfg.DType.Or(kernels.Float32), s.Backends, j)
	return j.sum, err
}

// trainJob is TrainRun's device.Job.
type trainJob struct {
	ctx  context.Context
	s    *TrainSettings
	cfg  *TrainConfig
	opts TrainOptions
	sum  *Summary
}

// Float32 implements device.Job.
func (j *trainJob) Float32(be kernels.Backend[float32]) (err error) {
	j.sum, err = trainOn(j, be)
	return err
}

// Float64 implements device.Job.
func (j *trainJob) Float64(be kernels.Backend[float64]) (err error) {
	j.sum, err = trainOn(j, be)
	return err
}

func trainOn[T kernels.Float](j *trainJob, be kernels.Backend[T]) (*Summary, error) {
	if j.s.ModelFrom != "" {
		// The model alone, before anything is loaded, naming what gave
		// it; Train checks the whole run, naming config.json's fields.
		if err := CheckModelMemory(be, j.cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", j.s.ModelFrom, err)
		}
	}
	return Train(j.ctx, be, j.s.Dir, j.cfg, j.opts)
}
