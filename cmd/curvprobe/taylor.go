package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
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

// taylorOutput is the JSON object `curvprobe taylor --json` prints: the
// Taylor report's fields, the extreme eigenvalues whose eigenvectors were
// scanned, and the saddle report with --saddle.
type taylorOutput struct {
	*run.TaylorReport
	LambdaMax float64           `json:"lambda_max"`
	LambdaMin float64           `json:"lambda_min"`
	Converged bool              `json:"converged"`
	Saddle    *run.SaddleReport `json:"saddle,omitempty"`
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
	f.dtype = f.problemFlags.dtypeFor(fs, f.dtype, "float64")
	switch f.dtype {
	case "float64":
		return taylor[float64](ctx, f, stdout, stderr)
	case "float32":
		return taylor[float32](ctx, f, stdout, stderr)
	}
	return fmt.Errorf("taylor: --dtype %q: want float64 or float32", f.dtype)
}

func taylor[T kernels.Float](ctx context.Context, f taylorFlags, stdout, stderr io.Writer) error {
	p, d, err := loadProblem[T](f.problemFlags, stderr)
	if err != nil {
		return err
	}
	spec := p.Spec()
	prog := newProgress(stderr, f.quiet)
	dirs, sr, err := run.StandardDirections(ctx, p, d, run.SpectrumSettings{Seed: f.seed, Recorder: prog})
	prog.Done()
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return err
	}
	if errors.Is(err, probe.ErrNotConverged) {
		fmt.Fprintf(stderr, "curvprobe: warning: Lanczos stopped at %d steps before converging; the eigenvectors are approximate\n", sr.LanczosSteps)
	}
	rep, err := run.Taylor(ctx, p, d, dirs, run.TaylorSettings{EpsMin: f.epsMin, EpsMax: f.epsMax, Points: f.points, Signed: f.signed, Tol: f.tol})
	if err != nil {
		return err
	}
	out := taylorOutput{TaylorReport: rep, Converged: sr.Converged}
	if len(sr.TopEigenvalues) > 0 {
		out.LambdaMax = sr.TopEigenvalues[0]
	}
	if len(sr.BottomEigenvalues) > 0 {
		out.LambdaMin = sr.BottomEigenvalues[0]
	}
	if f.saddle {
		prog := newProgress(stderr, f.quiet)
		sad, err := run.SaddleEscape(ctx, p, d, run.SaddleSettings{Seed: f.seed, Recorder: prog})
		prog.Done()
		if err != nil && !errors.Is(err, probe.ErrNotConverged) {
			return err
		}
		out.Saddle = sad
	}
	if f.jsonOut {
		return writeJSON(stdout, out)
	}
	printTaylor(stdout, spec, out)
	return nil
}

func printTaylor(w io.Writer, spec models.Spec, out taylorOutput) {
	r := out.TaylorReport
	fmt.Fprintf(w, "model       %s %s %s, bias %v: %d parameters\n", spec.Arch(), models.ActivationName(spec.Activation), spec.Loss, spec.Bias, r.NParams)
	fmt.Fprintf(w, "data        %d samples; %s on %s\n", r.Samples, r.DType, r.Backend)
	fmt.Fprintf(w, "loss        %.10g   |grad| %.4g   lambda_max %.6g   lambda_min %.6g\n", r.Loss, r.GradNorm, out.LambdaMax, out.LambdaMin)
	for _, td := range r.Directions {
		fmt.Fprintf(w, "\ndirection %s: g·u = %.6g, u·Hu = %.6g\n", td.Name, td.Slope, td.Curvature)
		fmt.Fprintf(w, "  %11s  %14s  %14s  %14s  %9s\n", "eps", "measured dL", "linear dL", "quadratic dL", "rel.err")
		for _, tp := range td.Points {
			if tp.NonFinite {
				fmt.Fprintf(w, "  %11.4g  %14s\n", tp.Eps, "non-finite")
				continue
			}
			fmt.Fprintf(w, "  %11.4g  %14.6e  %14.6e  %14.6e  %9.2e\n", tp.Eps, tp.Delta, tp.Linear, tp.Quadratic, tp.RelErr)
		}
		if td.Broken {
			fmt.Fprintf(w, "  breakdown   eps = %.4g: the smallest step where the quadratic model's loss change errs by more than %g%%\n", td.Breakdown, 100*r.Tol)
		} else {
			fmt.Fprintf(w, "  breakdown   none: the quadratic model is within %g%% at every step\n", 100*r.Tol)
		}
		if td.CubicExponent != nil {
			fmt.Fprintf(w, "  error order |measured - quadratic| ~ eps^%.3f over the %d smallest steps above rounding (3 expected)\n", *td.CubicExponent, td.CubicFitPoints)
		} else {
			fmt.Fprintf(w, "  error order no fit: %d steps above rounding (the loss may be quadratic along u)\n", td.CubicFitPoints)
		}
	}
	if s := out.Saddle; s != nil {
		crit := "not near-critical"
		if s.NearCritical {
			crit = "near-critical"
		}
		fmt.Fprintf(w, "\nsaddle      |grad| %.4g vs tolerance %.4g (%s); lambda_min %.6g\n", s.GradNorm, s.GradTol, crit, s.LambdaMin)
		if s.Fractions != nil {
			printFractions(w, "            ", s.Fractions)
			if s.Fractions.Warning != "" {
				fmt.Fprintf(w, "warning     %s\n", s.Fractions.Warning)
			}
		}
		if !s.Saddle {
			fmt.Fprintln(w, "            not a saddle: no negative curvature")
		} else {
			fmt.Fprintf(w, "            escape along the bottom eigenvector v: g·v = %.6g, crossover eps = %.4g\n", s.Slope, s.Crossover)
			fmt.Fprintf(w, "  %11s  %14s  %14s  %9s\n", "eps", "predicted dL", "measured dL", "rel.err")
			for _, st := range s.Steps {
				mark := ""
				if st.Crossover {
					mark = "  (crossover)"
				}
				if st.NonFinite {
					fmt.Fprintf(w, "  %11.4g  %14.6e  %14s%s\n", st.Eps, st.Predicted, "non-finite", mark)
					continue
				}
				fmt.Fprintf(w, "  %11.4g  %14.6e  %14.6e  %9.2e%s\n", st.Eps, st.Predicted, st.Measured, st.RelErr, mark)
			}
		}
	}
	fmt.Fprintf(w, "\nwork        %d Hessian-vector products, %d loss evaluations in %.2fs\n", r.HVPs, r.Evaluations, r.Seconds)
}
