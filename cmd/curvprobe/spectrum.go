package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/run"
)

type spectrumFlags struct {
	problemFlags
	// s holds the flags that are settings as they are; settings adds the
	// rest.
	s              run.SpectrumSettings
	trace, ggn     bool
	jsonOut, quiet bool
	dtype          string
	densityPlot    string
	// exact is --exact; check sets s.Exact from it: ExactAlways when
	// given, ExactNever when given as --exact=false, ExactAuto when absent.
	exact bool
}

func cmdSpectrum(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f spectrumFlags
	fs := flag.NewFlagSet("spectrum", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.problemFlags.register(fs)
	fs.IntVar(&f.s.TopK, "top-k", 1, "number of largest eigenvalues")
	fs.IntVar(&f.s.BottomK, "bottom-k", 1, "number of smallest eigenvalues (default 1 without --top-k, 0 with it: only what is asked for is computed)")
	fs.BoolVar(&f.trace, "trace", false, "estimate the trace (Hutchinson)")
	fs.IntVar(&f.s.TraceProbes, "trace-probes", 0, "trace probes (0: 100 for Hutchinson, 99 for Hutch++)")
	fs.BoolVar(&f.s.HutchPP, "hutchpp", false, "estimate the trace by Hutch++ (low-rank part exact) instead of Hutchinson")
	fs.BoolVar(&f.s.Density, "density", false, "estimate the spectral density (stochastic Lanczos quadrature)")
	fs.IntVar(&f.s.SLQProbes, "slq-probes", 10, "SLQ probes (at least 1)")
	fs.IntVar(&f.s.SLQSteps, "slq-steps", 80, "Lanczos steps per SLQ probe (at least 1; at most the parameter count is used)")
	fs.Float64Var(&f.s.SLQSigma, "sigma", 0, "Gaussian broadening of the density (0: 1% of the spectral range)")
	fs.StringVar(&f.densityPlot, "density-plot", "", "write the density plot to this PNG or SVG file")
	fs.BoolVar(&f.ggn, "ggn", false, "use the Gauss-Newton matrix instead of the Hessian")
	fs.Float64Var(&f.s.Tol, "tol", 0, "Lanczos residual tolerance (0: 1e-8 in float64, 1e-3 in float32)")
	fs.IntVar(&f.s.MaxSteps, "max-steps", 0, "Lanczos Krylov dimension cap, at least --top-k + --bottom-k (0: 300, within 2 GiB of basis)")
	fs.Float64Var(&f.s.LearningRate, "lr", 0, "report whether gradient descent with this step is stable (lr < 2/lambda_max)")
	fs.StringVar(&f.dtype, "dtype", "float64", "float64 or float32")
	fs.BoolVar(&f.exact, "exact", false, fmt.Sprintf("assemble the dense Hessian (n products) and compute its full spectrum (gonum EigenSym): exact eigenvalues, fractions, moments and trace (default: automatic below %d parameters; --exact=false: never)", run.ExactThreshold))
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	fs.BoolVar(&f.s.PerLayer, "per-layer", false, fmt.Sprintf("also report each layer's diagonal Hessian block (W_l and b_l together): its top --top-k eigenvalues (at least 1), exact for blocks below %d parameters (as --exact decides for the whole matrix), else by Lanczos", run.ExactThreshold))
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("spectrum: unexpected argument %q", fs.Arg(0))
	}
	if err := f.problemFlags.check("spectrum"); err != nil {
		return err
	}
	f.defaultBottomK(fs)
	if err := f.check(fs); err != nil {
		return fmt.Errorf("spectrum: %w", err)
	}
	s, err := f.problemFlags.settings("spectrum", fs, f.dtype, stderr)
	if err != nil {
		return err
	}
	return spectrum(ctx, f, s, stdout, stderr)
}

// defaultBottomK makes --bottom-k default to 0 when --top-k is given: the
// smallest eigenvalue converges far more slowly than the largest ones (on a
// trained 784x200x200x10 MLP, --top-k 5 alone takes 15 products, with
// --bottom-k 1 70), so a user asking for the top of the spectrum gets only
// that. A plain `spectrum` still reports λmax and λmin, and with them the
// kind of critical point.
func (f *spectrumFlags) defaultBottomK(fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if set["top-k"] && !set["bottom-k"] {
		f.s.BottomK = 0
	}
}

// check reports invalid spectrum flags, naming them, before anything is
// loaded: the probe package panics on invalid settings. The rules are the
// settings' own (run.SpectrumSettings.CheckGiven): ranges, and what only
// the flags know: a zero that the settings would read as a default, and
// flags of an estimator that was not asked for.
func (f *spectrumFlags) check(fs *flag.FlagSet) error {
	if flagSet(fs, "exact") {
		f.s.Exact = run.ExactNever
		if f.exact {
			f.s.Exact = run.ExactAlways
		}
	}
	return flagError(f.settings().CheckGiven(func(name string) bool { return flagSet(fs, name) }))
}

// settings returns the run.SpectrumSettings of the flags.
func (f *spectrumFlags) settings() run.SpectrumSettings {
	s := f.s
	s.Trace = f.trace || s.HutchPP
	s.Seed = f.seed
	if f.ggn {
		s.Curvature = models.GaussNewton
	}
	return s
}

func spectrum(ctx context.Context, f spectrumFlags, ps run.ProblemSettings, stdout, stderr io.Writer) error {
	p, err := run.OpenProblem(ps)
	if err != nil {
		return flagError(err)
	}
	defer p.Close()
	s := f.settings()
	if err := p.CheckSpectrum(s); err != nil {
		return fmt.Errorf("spectrum: %w", flagError(err))
	}
	spec := p.Spec()
	prog := run.NewProgress(stderr, f.quiet)
	s.Recorder = prog
	rep, err := p.Spectrum(ctx, s)
	prog.Done()
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return err
	}
	if errors.Is(err, probe.ErrNotConverged) {
		rep.WriteWarnings(stderr)
	}
	if f.densityPlot != "" && rep.Density != nil {
		if err := run.PlotDensity(f.densityPlot, rep.Density, fmt.Sprintf("%s %s %s", spec.Arch(), models.ActivationName(spec.Activation), spec.Loss)); err != nil {
			return err
		}
	}
	if f.jsonOut {
		return writeJSON(stdout, rep)
	}
	rep.WriteText(stdout, spec)
	return nil
}
