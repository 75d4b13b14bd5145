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
	points                         int
	epsMin, epsMax, tol            float64
	dtype                          string
	jsonOut, saddle, signed, quiet bool
}

// maxTaylorPoints caps --points: each point costs one or two loss
// evaluations per direction over the whole data set, and a curve of this
// many steps is already far finer than the quadratic model's breakdown
// needs.
const maxTaylorPoints = 10000

func cmdTaylor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f taylorFlags
	fs := flag.NewFlagSet("taylor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.problemFlags.register(fs)
	fs.Float64Var(&f.epsMin, "eps-min", 1e-4, "smallest step along each unit direction")
	fs.Float64Var(&f.epsMax, "eps-max", 1, "largest step along each unit direction")
	fs.IntVar(&f.points, "points", 25, fmt.Sprintf("log-spaced steps from --eps-min to --eps-max (at most %d)", maxTaylorPoints))
	fs.BoolVar(&f.signed, "signed", false, "also step backwards (-eps)")
	fs.Float64Var(&f.tol, "tol", 0.1, "relative error of the quadratic model's loss change at which it counts as broken down")
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
	for _, fl := range []struct {
		name string
		v    float64
	}{{"--eps-min", f.epsMin}, {"--eps-max", f.epsMax}, {"--tol", f.tol}} {
		if err := checkFinite(fl.name, fl.v); err != nil {
			return fmt.Errorf("taylor: %w", err)
		}
	}
	switch {
	case !(f.epsMin > 0) || !(f.epsMax >= f.epsMin):
		return fmt.Errorf("taylor: want 0 < --eps-min <= --eps-max, have %g and %g", f.epsMin, f.epsMax)
	case f.points < 1 || f.points > maxTaylorPoints:
		return fmt.Errorf("taylor: --points %d: want 1 to %d", f.points, maxTaylorPoints)
	case !(f.tol > 0):
		return fmt.Errorf("taylor: --tol %g: want a positive relative error", f.tol)
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
	rep, err := p.Taylor(ctx, dirs, run.TaylorSettings{EpsMin: f.epsMin, EpsMax: f.epsMax, Points: f.points, Signed: f.signed, Tol: f.tol})
	if err != nil {
		return err
	}
	out := run.TaylorOutput{TaylorReport: rep, Converged: sr.Converged}
	if len(sr.TopEigenvalues) > 0 {
		out.LambdaMax = sr.TopEigenvalues[0]
	}
	if len(sr.BottomEigenvalues) > 0 {
		out.LambdaMin = sr.BottomEigenvalues[0]
	}
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
