package run

import (
	"errors"
	"fmt"
	"math"

	"github.com/curvprobe/curvprobe/models"
)

// Validate reports settings that the estimators would reject (probe panics
// on them) or that make no sense, before anything is loaded: each error is
// a *SettingError naming the setting as the command line spells it
// (top-k, bottom-k, max-steps, tol, trace-probes, sigma, lr).
func (s SpectrumSettings) Validate() error {
	if err := nonFinite(named{"tol", s.Tol}, named{"sigma", s.SLQSigma}, named{"lr", s.LearningRate}); err != nil {
		return err
	}
	bad := func(name string, v any, format string, a ...any) error {
		return &SettingError{name, fmt.Sprint(v), fmt.Errorf(format, a...)}
	}
	switch {
	case s.TopK < 0:
		return bad("top-k", s.TopK, "want 0 or more")
	case s.BottomK < 0:
		return bad("bottom-k", s.BottomK, "want 0 or more")
	case s.MaxSteps != 0 && s.MaxSteps < s.Wanted():
		return bad("max-steps", s.MaxSteps, "want 0 (automatic) or at least %d (--top-k + --bottom-k)", s.Wanted())
	case s.Tol < 0 || s.Tol >= 1:
		return bad("tol", s.Tol, "want 0 (automatic) or a relative residual in (0, 1)")
	case s.TraceProbes < 0:
		return bad("trace-probes", s.TraceProbes, "want 0 (automatic) or more")
	case s.HutchPP && s.TraceProbes > 0 && s.TraceProbes < 3:
		return bad("trace-probes", s.TraceProbes, "Hutch++ needs at least 3 (0: 99)")
	case s.SLQProbes < 0:
		return bad("slq-probes", s.SLQProbes, "want 0 (10) or more")
	case s.SLQSteps < 0:
		return bad("slq-steps", s.SLQSteps, "want 0 (80) or more")
	case s.SLQSigma < 0:
		return bad("sigma", s.SLQSigma, "want 0 (1%% of the spectral range) or a positive width")
	case s.LearningRate < 0:
		return bad("lr", s.LearningRate, "want 0 (no stability verdict) or a positive step")
	}
	return nil
}

// CheckGiven is Validate for settings a command gave, every one set,
// given reporting whether a setting was given on its command line, by its
// flag's name. Besides Validate's ranges it refuses what only the flags
// show: a zero SLQ probe or step count (which the settings would read as
// the default), and the options of an estimator that was not asked for:
// Lanczos', SLQ's and the trace's with Exact set to ExactAlways, SLQ's
// without Density, trace-probes without Trace. Errors of a value are
// *SettingError; those of a flag given in vain name it with its dashes,
// e.g. "--sigma applies only with --density".
func (s SpectrumSettings) CheckGiven(given func(name string) bool) error {
	switch {
	case s.SLQProbes < 1:
		return &SettingError{"slq-probes", fmt.Sprint(s.SLQProbes), errors.New("want at least 1")}
	case s.SLQSteps < 1:
		return &SettingError{"slq-steps", fmt.Sprint(s.SLQSteps), errors.New("want at least 1")}
	}
	if err := s.Validate(); err != nil {
		return err
	}
	estimator := map[string]bool{"tol": true, "max-steps": true, "slq-probes": true, "slq-steps": true, "trace-probes": true, "hutchpp": true}
	density := map[string]bool{"slq-probes": true, "slq-steps": true, "sigma": true, "density-plot": true}
	// In the order of the flags' names, as flag.FlagSet.Visit gives them.
	for _, name := range []string{"density-plot", "hutchpp", "max-steps", "sigma", "slq-probes", "slq-steps", "tol", "trace-probes"} {
		switch {
		case !given(name):
		case s.Exact == ExactAlways && estimator[name]:
			return fmt.Errorf("--%s applies only to the estimates; --exact computes the spectrum of the dense matrix", name)
		case !s.Density && density[name]:
			return fmt.Errorf("--%s applies only with --density", name)
		case !s.Trace && name == "trace-probes":
			return fmt.Errorf("--%s applies only with --trace or --hutchpp", name)
		}
	}
	return nil
}

// named is a setting's value with its name as the command line spells it.
type named struct {
	name string
	v    float64
}

// nonFinite returns a *SettingError for the first of the settings that is
// NaN or infinite.
func nonFinite(settings ...named) error {
	for _, f := range settings {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return &SettingError{f.name, fmt.Sprint(f.v), errors.New("want a finite number")}
		}
	}
	return nil
}

// Wanted returns the number of eigenvalues Lanczos is asked for: TopK +
// BottomK, and 1 when both are zero.
func (s SpectrumSettings) Wanted() int {
	return max(s.TopK+s.BottomK, 1)
}

// CheckSpectrum reports eigenvalue counts and Krylov bases of s that do not
// fit the model of p (its memory, for what is still to be allocated), each
// as a *SettingError naming the setting at fault.
func (p *Problem) CheckSpectrum(s SpectrumSettings) error {
	n := p.NumParams()
	if s.TopK+s.BottomK > n {
		return &SettingError{"top-k", fmt.Sprintf("%d + --bottom-k %d = %d eigenvalues", s.TopK, s.BottomK, s.TopK+s.BottomK),
			fmt.Errorf("the model has only %d parameters", n)}
	}
	exact, err := UseExact(s.Exact, n, s.MaxExactBytes)
	if err != nil {
		return &SettingError{"exact", "", err}
	}
	if exact {
		return nil // no Krylov basis; the dense matrix is within its bound
	}
	basis := func(name string, steps int) error {
		if err := p.CheckMemory(models.Usage{Vectors: min(steps, n)}); err != nil {
			return &SettingError{name, fmt.Sprint(steps), fmt.Errorf("a Krylov basis of %d vectors of %d parameters: %w", min(steps, n), n, err)}
		}
		return nil
	}
	if err := basis("max-steps", s.MaxSteps); err != nil {
		return err
	}
	if s.Density {
		return basis("slq-steps", s.SLQSteps)
	}
	return nil
}
