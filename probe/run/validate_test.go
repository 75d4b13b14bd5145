package run

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/models"
)

// TestCheckGiven checks that an option given without the setting it
// qualifies is refused, naming both flags, and accepted with it.
func TestCheckGiven(t *testing.T) {
	for _, c := range []struct {
		kind  models.OptimizerKind
		given string
		want  string // "" means accepted
	}{
		{models.GD, "momentum", "--momentum applies only with --optimizer sgd (heavy ball) or nesterov, not --optimizer gd"},
		{models.Adam, "momentum", "--momentum applies only with --optimizer sgd (heavy ball) or nesterov, not --optimizer adam"},
		{models.SGD, "beta2", "--beta2 applies only with --optimizer adam, not --optimizer sgd"},
		{models.GD, "beta1", "--beta1 applies only with --optimizer adam, not --optimizer gd"},
		{models.GD, "trace-probes", "--trace-probes applies only with --probe-trace"},
		{models.GD, "test-subset", "--test-subset applies only with --test"},
		{models.Nesterov, "momentum", ""},
		{models.Adam, "beta1", ""},
		{models.GD, "lr", ""},
	} {
		cfg := TrainConfig{Optimizer: models.OptimizerSettings{Kind: c.kind}}
		err := cfg.CheckGiven(func(name string) bool { return name == c.given })
		if got := errText(err); got != c.want {
			t.Errorf("%s with --%s: got %q, want %q", c.kind, c.given, got, c.want)
		}
	}
	cfg := TrainConfig{ProbeTrace: true, Test: "t.npz"}
	if err := cfg.CheckGiven(func(name string) bool { return name == "trace-probes" || name == "test-subset" }); err != nil {
		t.Errorf("with --probe-trace and --test: %v", err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestTaylorValidate checks that Validate refuses what a command must not
// pass on (a zero Taylor would read as its default, non-finite steps, too
// many points), naming the flag, and accepts Taylor's defaults written out.
func TestTaylorValidate(t *testing.T) {
	ok := TaylorSettings{EpsMin: 1e-4, EpsMax: 1, Points: 25, Tol: 0.1}
	for _, c := range []struct {
		set  func(*TaylorSettings)
		want string
	}{
		{func(s *TaylorSettings) {}, ""},
		{func(s *TaylorSettings) { s.EpsMax = math.Inf(1) }, "eps-max +Inf: want a finite number"},
		{func(s *TaylorSettings) { s.Tol = math.NaN() }, "tol NaN: want a finite number"},
		{func(s *TaylorSettings) { s.EpsMin = 0 }, "want 0 < --eps-min <= --eps-max, have 0 and 1"},
		{func(s *TaylorSettings) { s.EpsMin = 2 }, "want 0 < --eps-min <= --eps-max, have 2 and 1"},
		{func(s *TaylorSettings) { s.Points = 0 }, "points 0: want 1 to 10000"},
		{func(s *TaylorSettings) { s.Points = MaxTaylorPoints + 1 }, "points 10001: want 1 to 10000"},
		{func(s *TaylorSettings) { s.Tol = 0 }, "tol 0: want a positive relative error"},
	} {
		s := ok
		c.set(&s)
		if got := errText(s.Validate()); got != c.want {
			t.Errorf("%+v: got %q, want %q", s, got, c.want)
		}
	}
}

// TestSpectrumCheckGiven checks that CheckGiven refuses a zero SLQ count
// and options of an estimator not asked for, the first by flag name, and
// accepts them with their estimator.
func TestSpectrumCheckGiven(t *testing.T) {
	ok := SpectrumSettings{TopK: 1, BottomK: 1, SLQProbes: 10, SLQSteps: 80}
	for _, c := range []struct {
		set   func(*SpectrumSettings)
		given string // space-separated flag names
		want  string
	}{
		{func(s *SpectrumSettings) {}, "top-k", ""},
		{func(s *SpectrumSettings) { s.SLQProbes = 0 }, "", "slq-probes 0: want at least 1"},
		{func(s *SpectrumSettings) { s.SLQSteps = 0 }, "", "slq-steps 0: want at least 1"},
		{func(s *SpectrumSettings) { s.MaxSteps = 1 }, "max-steps", "max-steps 1: want 0 (automatic) or at least 2 (--top-k + --bottom-k)"},
		{func(s *SpectrumSettings) { s.Exact = ExactAlways; s.Density = true }, "slq-probes tol", "--slq-probes applies only to the estimates; --exact computes the spectrum of the dense matrix"},
		{func(s *SpectrumSettings) {}, "trace-probes density-plot", "--density-plot applies only with --density"},
		{func(s *SpectrumSettings) {}, "sigma", "--sigma applies only with --density"},
		{func(s *SpectrumSettings) {}, "trace-probes", "--trace-probes applies only with --trace or --hutchpp"},
		{func(s *SpectrumSettings) { s.Trace, s.Density = true, true }, "trace-probes sigma slq-steps", ""},
	} {
		s := ok
		c.set(&s)
		given := func(name string) bool { return strings.Contains(" "+c.given+" ", " "+name+" ") }
		if got := errText(s.CheckGiven(given)); got != c.want {
			t.Errorf("%+v given %q: got %q, want %q", s, c.given, got, c.want)
		}
	}
}

// TestProblemCheckGiven checks the shared flags of spectrum and taylor:
// required files, data options --run alone would ignore, and the model
// read from the weights standing for --model.
func TestProblemCheckGiven(t *testing.T) {
	files := ProblemSettings{Model: "m.json", Weights: "w.npz", Data: "d.npz", Batch: 512}
	for _, c := range []struct {
		s        ProblemSettings
		inferred bool
		want     string
	}{
		{files, false, ""},
		{ProblemSettings{Weights: "w.npz", Data: "d.npz", Batch: 1}, true, ""},
		{ProblemSettings{RunDir: "r", Batch: 1}, false, ""},
		{ProblemSettings{RunDir: "r", Data: "d.npz", Subset: 10, Batch: 1}, false, ""},
		{ProblemSettings{RunDir: "r", Batch: 0}, false, "batch 0: want at least 1 sample per pass"},
		{ProblemSettings{RunDir: "r", Batch: 1, Subset: -1}, false, "subset -1: want 0 (all samples) or a positive count"},
		{ProblemSettings{RunDir: "r", Batch: 1, Subset: 10}, false, "--subset applies to --data; with --run alone the run's own data settings are used"},
		{ProblemSettings{RunDir: "r", Batch: 1, Standardize: true}, false, "--standardize applies to --data; with --run alone the run's own data settings are used"},
		{ProblemSettings{RunDir: "r", Batch: 1, DataFormat: "npz"}, false, "--data-format applies to --data; with --run alone the run's own data settings are used"},
		{ProblemSettings{Weights: "w.npz", Data: "d.npz", Batch: 1}, false, "--model is required (or --act and --loss, the widths read from --weights; or --run DIR)"},
		{ProblemSettings{Model: "m.json", Data: "d.npz", Batch: 1}, false, "--weights is required (or --run DIR)"},
		{ProblemSettings{Model: "m.json", Weights: "w.npz", Batch: 1}, false, "--data is required (or --run DIR)"},
		{files, true, "--act and --loss apply without --model (the model file names them)"},
	} {
		if got := errText(c.s.CheckGiven(c.inferred)); got != c.want {
			t.Errorf("%+v inferred %v: got %q, want %q", c.s, c.inferred, got, c.want)
		}
	}
}

// TestParsePlotFormats checks --format's list: blanks ignored, unknown
// formats and empty lists refused, naming the flag.
func TestParsePlotFormats(t *testing.T) {
	for _, c := range []struct{ list, got, err string }{
		{"png,svg", "[png svg]", ""},
		{" svg ,", "[svg]", ""},
		{"gif", "[]", `format "gif": want png or svg`},
		{",", "[]", `--format "," names no format`},
	} {
		f, err := ParsePlotFormats(c.list)
		if got := fmt.Sprint(f); got != c.got || errText(err) != c.err {
			t.Errorf("%q: got %s, %q; want %s, %q", c.list, got, errText(err), c.got, c.err)
		}
	}
}
