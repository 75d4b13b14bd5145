package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

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
	var dev deviceFlags
	dev.register(fs, "auto")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("demo: unexpected argument %q", fs.Arg(0))
	}
	f := &trainFlags{out: *out, device: dev, quiet: *quiet}
	f.cfg = run.DemoConfig(*lr, *steps)
	if err := f.cfg.Validate(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "curvprobe demo: gradient descent at lr %g (2/lr = %g) on 300 digits, probing the sharpness every 20 steps\n", *lr, 2 / *lr)
	b, err := dev.backends(stderr)
	if err != nil {
		return err
	}
	if err := train(ctx, f, run.TrainSettings{Dir: *out, Config: &f.cfg, Backends: b, ModelFrom: f.modelSource(&f.cfg), Options: run.TrainOptions{Plot: true, Notes: stderr}}, stdout, stderr); err != nil {
		return err
	}
	// The spectrum of the trained network, with its density.
	n, o, err := dev.settings(nil)
	if err != nil {
		return err
	}
	rep, err := run.DemoSpectrum(ctx, *out, &f.cfg, n, o)
	if errors.Is(err, probe.ErrNotConverged) {
		fmt.Fprintf(stderr, "curvprobe demo: warning: Lanczos stopped at %d steps short of its tolerance (residual bounds in the output)\n", rep.LanczosSteps)
	} else if err != nil {
		return flagError(err)
	}
	densPath := filepath.Join(*out, "plots", "density_final.png")
	if err := run.PlotDensity(densPath, rep.Density, "trained 64x64x64x10 tanh mse"); err != nil {
		return err
	}
	rep.WriteText(stdout, f.cfg.Model)
	fmt.Fprintf(stdout, "figures: %s (edge of stability), %s\n", filepath.Join(*out, "plots", "eos.png"), densPath)
	return nil
}
