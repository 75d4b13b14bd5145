package run

import (
	"context"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
)

// DemoSpectrum is the end of `curvprobe demo`: the spectrum of the network
// trained by the run of cfg (DemoConfig) in dir, on its data, in float64
// on the device n opened with o: the top and bottom 5 eigenvalues, the
// trace and the density, with the stability verdict of cfg's learning
// rate. A Lanczos short of its tolerance returns the report with
// probe.ErrNotConverged. Errors of a setting are *SettingError.
func DemoSpectrum(ctx context.Context, dir string, cfg *TrainConfig, n device.Name, o device.Options) (*SpectrumReport, error) {
	p, err := OpenProblem(ProblemSettings{RunDir: dir, Run: cfg, Batch: models.DefaultBatch, DType: kernels.Float64, Device: n, DeviceOptions: o})
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Spectrum(ctx, SpectrumSettings{TopK: 5, BottomK: 5, Density: true, Trace: true, Seed: 1, LearningRate: cfg.Optimizer.LR})
}
