package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// Invalid flag values and stray arguments are errors that name the flag
// (or the argument), returned before any work is done: never a panic from
// the probe package, an out-of-memory crash, a silent default or a run of
// minutes. Each case is one the fuzzing audit found accepted or crashing.
func TestFlagErrors(t *testing.T) {
	model, weights, dataPath := taylorFiles(t) // 4x8x2: 58 parameters, 40 samples
	dir := t.TempDir()
	spectrum := func(extra ...string) []string {
		return append([]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet"}, extra...)
	}
	taylor := func(extra ...string) []string {
		return append([]string{"taylor", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet"}, extra...)
	}
	hvp := func(extra ...string) []string {
		return append([]string{"bench", "hvp", "--arch", "8x6x3", "--batch", "16", "--repeats", "1", "--device", "cpu"}, extra...)
	}
	lambda := func(extra ...string) []string {
		return append([]string{"bench", "lambda", "--arch", "8x6x3", "--samples", "32", "--batch", "16", "--device", "cpu"}, extra...)
	}
	// Subtests are named by the command and the flags under test.
	short := strings.NewReplacer(
		strings.Join(spectrum(), " "), "spectrum", strings.Join(taylor(), " "), "taylor",
		strings.Join(hvp(), " "), "bench hvp", strings.Join(lambda(), " "), "bench lambda",
		filepath.Dir(model)+string(filepath.Separator), "", dir+string(filepath.Separator), "")
	for _, c := range []struct {
		args []string
		want []string // substrings of the error
	}{
		// Settings the probe package panics on.
		{spectrum("--max-steps", "-1"), []string{"--max-steps -1", "at least 2"}},
		{spectrum("--max-steps", "1"), []string{"--max-steps 1", "at least 2"}},
		{spectrum("--top-k", "5", "--bottom-k", "0", "--max-steps", "4"), []string{"--max-steps 4", "at least 5"}},
		{spectrum("--tol", "-1"), []string{"--tol"}},
		{spectrum("--slq-probes", "-1", "--density"), []string{"--slq-probes"}},
		{spectrum("--slq-steps", "-1", "--density"), []string{"--slq-steps"}},
		{spectrum("--trace-probes", "-1", "--trace"), []string{"--trace-probes"}},
		{spectrum("--trace-probes", "1", "--hutchpp"), []string{"--trace-probes", "at least 3"}},
		{spectrum("--trace-probes", "2", "--hutchpp"), []string{"--trace-probes", "at least 3"}},
		{lambda("--max-iter", "-1"), []string{"--max-iter"}},
		{lambda("--tol", "-1"), []string{"--tol"}},

		// Values that were silently accepted, defaulted or clamped.
		{spectrum("--batch", "0"), []string{"--batch"}},
		{spectrum("--batch", "-1"), []string{"--batch"}},
		{spectrum("--lr", "-1"), []string{"--lr"}},
		{spectrum("--lr", "NaN"), []string{"--lr"}},
		{spectrum("--tol", "NaN"), []string{"--tol"}},
		{spectrum("--tol", "1"), []string{"--tol"}},
		{spectrum("--sigma", "-1", "--density"), []string{"--sigma"}},
		{spectrum("--sigma", "+Inf", "--density"), []string{"--sigma"}},
		{spectrum("--subset", "-1"), []string{"--subset"}},
		{spectrum("--subset", "1000"), []string{"--subset", "40 samples"}},
		{spectrum("--slq-probes", "0", "--density"), []string{"--slq-probes"}},
		{spectrum("--top-k", "100"), []string{"--top-k", "58 parameters"}},
		{spectrum("--top-k", "50", "--bottom-k", "9"), []string{"--top-k", "--bottom-k", "58 parameters"}},
		{spectrum("--density-plot", filepath.Join(dir, "d.png")), []string{"--density-plot", "--density"}},
		{spectrum("--trace-probes", "10"), []string{"--trace-probes", "--trace"}},
		{[]string{"spectrum", "--run", filepath.Join(dir, "norun"), "--subset", "10"}, []string{"--subset", "--data"}},
		{lambda("--samples", "0"), []string{"--samples"}},
		{lambda("--samples", "-1"), []string{"--samples"}},
		{lambda("--batch", "-5"), []string{"--batch"}},
		{lambda("--max-iter", "0"), []string{"--max-iter"}},
		{lambda("--cache-mib", "-5"), []string{"--cache-mib"}},
		{lambda("--tol", "NaN"), []string{"--tol"}},
		{lambda("--tol", "Inf"), []string{"--tol"}},
		{lambda("--method", "arnoldi"), []string{"--method", "arnoldi", "lanczos or power"}},
		{taylor("--eps-max", "Inf"), []string{"--eps-max"}},
		{taylor("--tol", "Inf"), []string{"--tol"}},
		{taylor("--batch", "0"), []string{"--batch"}},

		// Sizes that ran out of memory or for many minutes.
		{[]string{"bench", "hvp", "--batch", "2000000000", "--repeats", "1", "--device", "cpu"}, []string{"--batch 2000000000", "memory"}},
		{hvp("--arch", "8x1000000000x3"), []string{"--arch", "memory"}},
		{hvp("--arch", "8x100000000000x3"), []string{"--arch", "ceiling"}}, // models.MaxWidth
		// bench lambda generates its samples a batch at a time: only the batch can be too large.
		{lambda("--samples", "100000000000", "--batch", "100000000000"), []string{"--batch 100000000000", "memory"}},
		{taylor("--points", "100000000"), []string{"--points", "10000"}},

		// Stray arguments.
		{hvp("extra"), []string{`unexpected argument "extra"`}},
		{lambda("extra"), []string{`unexpected argument "extra"`}},
		{[]string{"demo", "--out", filepath.Join(dir, "demo"), "--steps", "1", "--device", "cpu", "--quiet", "extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"devices", "extra"}, []string{`unexpected argument "extra"`}},

		// Files given by flags.
		{[]string{"spectrum", "--model", filepath.Join(dir, "missing.json"), "--weights", weights, "--data", dataPath}, []string{"--model", "missing.json"}},
		{[]string{"spectrum", "--model", model, "--weights", filepath.Join(dir, "missing.npz"), "--data", dataPath}, []string{"--weights", "missing.npz"}},
		{[]string{"spectrum", "--model", model, "--weights", weights, "--data", filepath.Join(dir, "missing.npz")}, []string{"--data", "missing.npz"}},
		{[]string{"taylor", "--model", filepath.Join(dir, "missing.json"), "--weights", weights, "--data", dataPath}, []string{"--model", "missing.json"}},
		{spectrum("--data", "synthetic:bogus"), []string{"--data", "unknown synthetic dataset", "synthetic:gaussian", "synthetic:teacher"}},
		{spectrum("--data", "builtin:bogus"), []string{"--data", "unknown built-in dataset", "builtin:digits"}},
		{spectrum("--data", "synthetic:gaussian"), []string{"--data", "generated", "--run"}},
	} {
		name := short.Replace(strings.Join(c.args, " "))
		t.Run(name, func(t *testing.T) {
			err := executeFails(t, c.args)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// Unknown flags are usage errors (exit status 2) for every command,
// devices included, naming the flag on stderr.
func TestUnknownFlag(t *testing.T) {
	for _, args := range [][]string{
		{"devices", "--bogus"},
		{"bench", "hvp", "--bogus"},
		{"bench", "lambda", "--bogus"},
		{"spectrum", "--bogus"},
	} {
		var stdout, stderr bytes.Buffer
		err := execute(context.Background(), args, &stdout, &stderr)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("%q: error %v, want the usage error", args, err)
		}
		if !strings.Contains(stderr.String(), "-bogus") {
			t.Errorf("%q: stderr does not name the flag:\n%s", args, stderr.String())
		}
	}
}

// --top-k alone computes only the top: --bottom-k defaults to 0 with it and
// to 1 without it; an explicit --bottom-k always holds.
func TestSpectrumBottomKDefault(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	for _, c := range []struct {
		args     []string
		top, bot int
	}{
		{nil, 1, 1},
		{[]string{"--top-k", "5"}, 5, 0},
		{[]string{"--top-k", "5", "--bottom-k", "2"}, 5, 2},
		{[]string{"--bottom-k", "3"}, 1, 3},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet", "--json"}, c.args...)
		if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, stderr.String())
		}
		var rep struct {
			Top    []float64 `json:"top_eigenvalues"`
			Bottom []float64 `json:"bottom_eigenvalues"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Top) != c.top || len(rep.Bottom) != c.bot {
			t.Errorf("%v: %d top and %d bottom eigenvalues, want %d and %d", c.args, len(rep.Top), len(rep.Bottom), c.top, c.bot)
		}
	}
}

// --threads reaches the CPU backend (bench hvp reports it) and a negative
// count is refused by name.
func TestThreadsFlag(t *testing.T) {
	defer cpu.SetThreads(0)
	var stdout, stderr bytes.Buffer
	args := []string{"bench", "hvp", "--arch", "8x6x3", "--batch", "16", "--repeats", "1", "--device", "cpu", "--json"}
	if err := execute(context.Background(), append(args, "--threads", "1"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var res struct {
		Threads int `json:"threads"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Threads != 1 {
		t.Fatalf("bench hvp --threads 1 reports %d threads (%v)", res.Threads, err)
	}
	err := execute(context.Background(), append(args, "--threads", "-2"), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--threads -2") {
		t.Fatalf("--threads -2: %v", err)
	}
}
