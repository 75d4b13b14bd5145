package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/run"
)

// cmdDemo runs the built-in default: the edge of stability on 300 of the
// embedded 8x8 digits, full-batch GD on a 64x64x64x10 tanh MLP with MSE at
// lr 1 (2/η = 2), probing the sharpness every 20 steps, then the spectral
// density at the end; figures under OUT/plots.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out/demo", "run directory")
	lr := fs.Float64("lr", 1, "learning rate (2/lr is the edge of stability)")
	steps := fs.Int("steps", 1200, "gradient-descent steps")
	device := new(string)
	deviceFlag(fs, device, "auto")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	f := &trainFlags{out: *out, device: *device, quiet: *quiet}
	f.cfg = run.TrainConfig{
		Model:       models.Spec{Layers: []int{64, 64, 64, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
		Data:        "builtin:digits",
		Subset:      300,
		Standardize: true,
		Optimizer:   models.OptimizerSettings{Kind: "gd", LR: *lr},
		Steps:       *steps,
		ProbeEvery:  20,
		ProbeTopK:   3,
		ProbeBottom: true,
		PowerTol:    1e-3,
		Seed:        1,
		DType:       kernels.Float64,
	}
	if err := f.cfg.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "curvprobe demo: gradient descent at lr %g (2/lr = %g) on 300 digits, probing the sharpness every 20 steps\n", *lr, 2 / *lr)
	if err := train[float64](ctx, f, &f.cfg, stdout, stderr); err != nil {
		return err
	}
	// The spectrum of the trained network, with its density.
	dataPath := "builtin:digits"
	be, err := openBackend[float64](*device, io.Discard)
	if err != nil {
		return err
	}
	train, _, err := run.LoadTrainData(&f.cfg)
	if err != nil {
		return err
	}
	p, err := models.Build(be, f.cfg.Model, models.Settings{})
	if err != nil {
		return err
	}
	params, err := models.LoadWeights(filepath.Join(*out, run.WeightsFile), f.cfg.Model)
	if err != nil {
		return err
	}
	if err := p.SetParams(params); err != nil {
		return err
	}
	d, err := run.Upload(p, train, dataPath)
	if err != nil {
		return err
	}
	rep, err := run.Spectrum(ctx, p, d, run.SpectrumSettings{TopK: 5, BottomK: 5, Density: true, Trace: true, Seed: 1, LearningRate: *lr})
	if errors.Is(err, probe.ErrNotConverged) {
		fmt.Fprintf(stderr, "curvprobe demo: warning: Lanczos stopped at %d steps short of its tolerance (residual bounds in the output)\n", rep.LanczosSteps)
	} else if err != nil {
		return err
	}
	densPath := filepath.Join(*out, "plots", "density_final.png")
	if err := run.PlotDensity(densPath, rep.Density, "trained 64x64x64x10 tanh mse"); err != nil {
		return err
	}
	printSpectrum(stdout, f.cfg.Model, rep)
	fmt.Fprintf(stdout, "figures: %s (edge of stability), %s\n", filepath.Join(*out, "plots", "eos.png"), densPath)
	return nil
}
