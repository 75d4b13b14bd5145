package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/run"
)

type taylorFlags struct {
	problemFlags
	ts                     run.TaylorSettings
	dtype                  string
	jsonOut, saddle, quiet bool
}

func cmdTaylor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f taylorFlags
	fs := flag.NewFlagSet("taylor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.problemFlags.register(fs)
	fs.Float64Var(&f.ts.EpsMin, "eps-min", 1e-4, "smallest step along each unit direction")
	fs.Float64Var(&f.ts.EpsMax, "eps-max", 1, "largest step along each unit direction")
	fs.IntVar(&f.ts.Points, "points", 25, fmt.Sprintf("log-spaced steps from --eps-min to --eps-max (at most %d)", run.MaxTaylorPoints))
	fs.BoolVar(&f.ts.Signed, "signed", false, "also step backwards (-eps)")
	fs.Float64Var(&f.ts.Tol, "tol", 0.1, "relative error of the quadratic model's loss change at which it counts as broken down")
	fs.BoolVar(&f.saddle, "saddle", false, "also check the escape along the most negative curvature direction")
	fs.StringVar(&f.dtype, "dtype", "float64", "float64 or float32")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("taylor: unexpected argument %q", fs.Arg(0))
	}
	if err := f.problemFlags.check("taylor"); err != nil {
		return err
	}
	if err := f.ts.Validate(); err != nil {
		return fmt.Errorf("taylor: %w", flagError(err))
	}
	ps, err := f.problemFlags.settings("taylor", fs, f.dtype, stderr)
	if err != nil {
		return err
	}
	p, err := run.OpenProblem(ps)
	if err != nil {
		return flagError(err)
	}
	defer p.Close()
	spec := p.Spec()
	prog := run.NewProgress(stderr, f.quiet)
	dirs, sr, err := p.StandardDirections(ctx, run.SpectrumSettings{Seed: f.seed, Recorder: prog})
	prog.Done()
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return err
	}
	if errors.Is(err, probe.ErrNotConverged) {
		fmt.Fprintf(stderr, "curvprobe: warning: Lanczos stopped at %d steps before converging; the eigenvectors are approximate\n", sr.LanczosSteps)
	}
	rep, err := p.Taylor(ctx, dirs, f.ts)
	if err != nil {
		return err
	}
	out := run.NewTaylorOutput(rep, sr)
	if f.saddle {
		prog := run.NewProgress(stderr, f.quiet)
		sad, err := p.SaddleEscape(ctx, run.SaddleSettings{Seed: f.seed, Recorder: prog})
		prog.Done()
		if err != nil && !errors.Is(err, probe.ErrNotConverged) {
			return err
		}
		out.Saddle = sad
	}
	if f.jsonOut {
		return writeJSON(stdout, out)
	}
	out.WriteText(stdout, spec)
	return nil
}
