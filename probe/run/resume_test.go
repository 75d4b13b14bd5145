package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
)

// readJSONFile decodes the JSON file at path into v and returns its bytes;
// a file that cannot be read or decoded fails t.
func readJSONFile(t *testing.T, path string, v any) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// checkSameLog fails t unless the run in dir (called name) wrote the same
// log, byte for byte, as the run in ref (called refName); a log that cannot
// be read fails too, so that two missing logs do not pass as equal.
func checkSameLog(t *testing.T, name, dir, refName, ref string) {
	t.Helper()
	got, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatalf("%s run: %v", name, err)
	}
	want, err := os.ReadFile(filepath.Join(ref, LogFile))
	if err != nil {
		t.Fatalf("%s run: %v", refName, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the %s run's log differs from the %s run's:\n--- %s\n%s--- %s\n%s", name, refName, name, got, refName, want)
	}
}

// resumeConfig is the small run of resumeFixture: GD on 40 samples, 30
// steps, probes and checkpoints every 10.
func resumeConfig() *TrainConfig {
	return &TrainConfig{
		Model:     models.Spec{Layers: []int{5, 7, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "synthetic:gaussian",
		Subset:    40,
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:     30, ProbeEvery: 10, CheckpointEvery: 10, Seed: 3,
	}
}

// resumeFixture trains resumeConfig's run and returns its directory.
func resumeFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, resumeConfig(), TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func editJSON(t *testing.T, path string, edit func(m map[string]any)) {
	t.Helper()
	var m map[string]any
	readJSONFile(t, path, &m)
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A resume that cannot continue the run as it was says why and changes
// nothing: the log keeps every record.
func TestResumeRefusesInconsistentRuns(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		edit       func(m map[string]any)
		want       string
	}{
		{"steps lowered below the checkpoint", ConfigFile, func(m map[string]any) { m["steps"] = 5 }, "past the run's 5 steps"},
		{"negative checkpoint step", CheckpointFile, func(m map[string]any) { m["step"] = -5 }, "must be >= 0"},
		{"checkpoint past the end", CheckpointFile, func(m map[string]any) { m["step"] = 5000 }, "past the run's 30 steps"},
		{"checkpoint outside the run", CheckpointFile, func(m map[string]any) { m["file"] = "../weights.npz" }, "in the run directory"},
		{"no checkpoint file", CheckpointFile, func(m map[string]any) { delete(m, "file") }, "ckpt-<step>.npz"},
		{"model edited", ConfigFile, func(m map[string]any) { m["model"].(map[string]any)["activation"] = "relu" }, "differs from the checkpoint's"},
		// Every field that changes the records is checked, not only the model.
		{"lr edited", ConfigFile, func(m map[string]any) { m["optimizer"].(map[string]any)["lr"] = 0.5 }, "in optimizer.lr (0.1, now 0.5)"},
		{"seed edited", ConfigFile, func(m map[string]any) { m["seed"] = 7 }, "in seed (3, now 7)"},
		{"subset edited", ConfigFile, func(m map[string]any) { m["subset"] = 30 }, "in subset (40, now 30)"},
		{"probe_every edited", ConfigFile, func(m map[string]any) { m["probe_every"] = 5 }, "in probe_every (10, now 5)"},
		{"log_every added", ConfigFile, func(m map[string]any) { m["log_every"] = 2 }, "in log_every (unset, now 2)"},
		{"momentum added", ConfigFile, func(m map[string]any) {
			m["optimizer"].(map[string]any)["kind"] = "sgd"
			m["optimizer"].(map[string]any)["momentum"] = 0.9
		}, `in optimizer.kind ("gd", now "sgd"), optimizer.momentum (unset, now 0.9)`},
		{"two fields", ConfigFile, func(m map[string]any) { m["seed"] = 7; m["standardize"] = true }, "in seed (3, now 7), standardize (unset, now true)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := resumeFixture(t)
			before, err := os.ReadFile(filepath.Join(dir, LogFile))
			if err != nil {
				t.Fatal(err)
			}
			editJSON(t, filepath.Join(dir, tc.file), tc.edit)
			_, err = Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("resume: %v; want an error saying %q", err, tc.want)
			}
			after, _ := os.ReadFile(filepath.Join(dir, LogFile))
			if !bytes.Equal(before, after) {
				t.Errorf("a refused resume changed the log: %d bytes -> %d", len(before), len(after))
			}
		})
	}
}

// The fields that change no record may change on resume: the run's length
// and the checkpoint cadence. A run lengthened so ends with the log of a run
// given the longer length from the start.
func TestResumeAcceptsLengthAndCadence(t *testing.T) {
	dir := resumeFixture(t)
	editJSON(t, filepath.Join(dir, ConfigFile), func(m map[string]any) { m["steps"] = 40; m["checkpoint_every"] = 4 })
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	ref := t.TempDir()
	cfg := resumeConfig()
	cfg.Steps, cfg.CheckpointEvery = 40, 0
	if _, err := Train[float64](context.Background(), cpu.New[float64](), ref, cfg, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	checkSameLog(t, "lengthened", dir, "40-step", ref)
}

// Records lost before a resume are reported, not silently skipped.
func TestResumeReportsMissingRecords(t *testing.T) {
	dir := resumeFixture(t)
	path := filepath.Join(dir, LogFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	if err := os.WriteFile(path, bytes.Join(lines[:3], nil), 0o644); err != nil { // steps 0-2 kept
		t.Fatal(err)
	}
	var notes bytes.Buffer
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "lacks 27 of the records") || !strings.Contains(notes.String(), "steps 3 to 29") {
		t.Errorf("notes %q; want the 27 missing records, steps 3 to 29", notes.String())
	}
}

// Settings that cannot be written as JSON, or that no probe can honour, are
// refused before anything is written.
func TestConfigValidateRefuses(t *testing.T) {
	base := func() TrainConfig {
		return TrainConfig{
			Model:     models.Spec{Layers: []int{5, 7, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
			Data:      "synthetic:gaussian",
			Optimizer: models.OptimizerSettings{Kind: "sgd", LR: 0.1},
			Steps:     10,
		}
	}
	for _, tc := range []struct {
		edit func(c *TrainConfig)
		want string
	}{
		{func(c *TrainConfig) { c.Optimizer.LR = math.Inf(1) }, "lr +Inf"},
		{func(c *TrainConfig) { c.Optimizer.LR = 1e-320 }, "too small"},
		{func(c *TrainConfig) { c.Optimizer.Momentum = math.NaN() }, "momentum NaN"},
		{func(c *TrainConfig) { c.Optimizer.WeightDecay = math.NaN() }, "weight_decay NaN"},
		{func(c *TrainConfig) { c.Optimizer.Schedule = models.Schedule{Kind: "cosine", Total: 5, MinLR: -1} }, "min_lr -1"},
		{func(c *TrainConfig) { c.Optimizer.Schedule = models.Schedule{Kind: "cosine", Total: 5, MinLR: 5} }, "min_lr 5"},
		{func(c *TrainConfig) {
			c.Optimizer.Schedule = models.Schedule{Kind: "step", Every: 5, Gamma: math.Inf(1)}
		}, "gamma +Inf"},
		{func(c *TrainConfig) { c.PowerTol = math.NaN() }, "power_tol NaN"},
		{func(c *TrainConfig) { c.PowerTol = -1 }, "power_tol -1"},
		{func(c *TrainConfig) { c.TraceProbes = -1 }, "trace_probes -1"},
		{func(c *TrainConfig) { c.PlanBatch = -1 }, "plan_batch -1"},
		{func(c *TrainConfig) { c.ProbeTopK = 100000 }, "only 58 parameters"},
		{func(c *TrainConfig) { c.DType = kernels.DType(16) }, `dtype DType(16)`},
	} {
		c := base()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate: %v; want an error containing %q", err, tc.want)
		}
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Errorf("the base config: %v", err)
	}
}

// A derived value that overflows (lr·λmax of a run that blew up) is left
// out of the JSON instead of costing the record; a required one is null
// (MarshalJSON's rule; finite_test.go tests the rest).
func TestMarshalFinite(t *testing.T) {
	inf, x := math.Inf(1), 2.5
	b, err := MarshalJSON(&Record{Step: 7, Loss: 1, LR: 0.1, StabilityBound: &inf, LambdaMax: &x}, "")
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "stability_bound") || !strings.Contains(s, `"lambda_max":2.5`) {
		t.Errorf("record JSON %s", s)
	}
	if b, err := MarshalJSON(&Record{Step: 7, Loss: math.NaN()}, ""); err != nil || !strings.Contains(string(b), `"loss":null`) {
		t.Errorf("a NaN loss: %s, %v", b, err)
	}
}

// cancelAt is a StepReporter that cancels the run after logging a step.
type cancelAt struct {
	step   int
	cancel context.CancelFunc
}

func (c cancelAt) Step(r *Record, _ int) {
	if r.Step == c.step {
		c.cancel()
	}
}

// An interrupted run checkpoints on the way out even when no periodic
// checkpoint was due (the default spaces them a minute apart), so the
// resume repeats nothing and ends with the uninterrupted run's log.
func TestInterruptCheckpoints(t *testing.T) {
	cfg := func() *TrainConfig {
		return &TrainConfig{
			Model:     models.Spec{Layers: []int{5, 7, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
			Data:      "synthetic:gaussian",
			Subset:    40,
			Optimizer: models.OptimizerSettings{Kind: "sgd", LR: 0.1, Momentum: 0.9},
			Steps:     30, ProbeEvery: 10, Seed: 3,
		}
	}
	ref := t.TempDir()
	if _, err := Train[float64](context.Background(), cpu.New[float64](), ref, cfg(), TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Train[float64](ctx, cpu.New[float64](), dir, cfg(), TrainOptions{Reporter: cancelAt{13, cancel}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	meta, err := readMeta(dir)
	if err != nil || meta.Step != 14 {
		t.Fatalf("checkpoint after an interrupt at step 13: %+v, %v; want step 14", meta, err)
	}
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	checkSameLog(t, "resumed", dir, "uninterrupted", ref)
}

// Sizes larger than the data are errors, not silently "all".
func TestTrainRefusesOversizedSets(t *testing.T) {
	cfg := &TrainConfig{
		Model:     models.Spec{Layers: []int{64, 7, 10}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true},
		Data:      "builtin:digits",
		Subset:    40,
		ProbeSet:  1000,
		Optimizer: models.OptimizerSettings{Kind: "gd", LR: 0.1},
		Steps:     3,
	}
	_, err := Train[float64](context.Background(), cpu.New[float64](), t.TempDir(), cfg, TrainOptions{})
	if err == nil || !strings.Contains(err.Error(), "probe_set 1000") || !strings.Contains(err.Error(), "only 40 samples") {
		t.Errorf("probe_set 1000 of 40: %v", err)
	}
	cfg.ProbeSet, cfg.Subset = 0, 5000
	_, err = Train[float64](context.Background(), cpu.New[float64](), t.TempDir(), cfg, TrainOptions{})
	if err == nil || !strings.Contains(err.Error(), "subset 5000") || !strings.Contains(err.Error(), "only 1797 samples") {
		t.Errorf("subset 5000 of the digits: %v", err)
	}
}

// pauseAt is a StepReporter that, on logging step, signals paused and waits
// for resume.
type pauseAt struct {
	step           int
	paused, resume chan struct{}
}

func (p pauseAt) Step(r *Record, _ int) {
	if r.Step == p.step {
		close(p.paused)
		<-p.resume
	}
}

// A run directory has one writer: while a Train (new or resumed) runs, a
// second one on the same directory fails at once, naming the first (pid,
// host, start), and changes nothing in the log.
func TestOneWriterPerRun(t *testing.T) {
	cfg := resumeConfig
	for _, resume := range []bool{false, true} {
		dir := t.TempDir()
		if resume {
			if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, cfg(), TrainOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		p := pauseAt{step: 30, paused: make(chan struct{}), resume: make(chan struct{})}
		if !resume {
			p.step = 12
		}
		done := make(chan error, 1)
		go func() {
			_, err := Train[float64](context.Background(), cpu.New[float64](), dir, cfg(), TrainOptions{Resume: resume, Reporter: p})
			done <- err
		}()
		<-p.paused
		before, err := os.ReadFile(filepath.Join(dir, LogFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, second := range []bool{true, false} {
			_, err = Train[float64](context.Background(), cpu.New[float64](), dir, cfg(), TrainOptions{Resume: second})
			want := fmt.Sprintf("being written by pid %d on host", os.Getpid())
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "one writer") {
				t.Errorf("resume %v: a second writer (resume %v): %v; want an error saying %q", resume, second, err, want)
			}
		}
		after, _ := os.ReadFile(filepath.Join(dir, LogFile))
		if !bytes.Equal(before, after) {
			t.Errorf("resume %v: the refused writers changed the log: %d bytes -> %d", resume, len(before), len(after))
		}
		close(p.resume)
		if err := <-done; err != nil {
			t.Fatalf("resume %v: the first writer: %v", resume, err)
		}
		// The lock goes with its writer: the run can be resumed again.
		if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true}); err != nil {
			t.Errorf("resume %v: resuming after the writer ended: %v", resume, err)
		}
	}
}

// The temporary files of a writer killed mid-write (a checkpoint, the log
// rewritten by a resume, a density) are removed when the run is resumed;
// other files, look-alikes included, are kept.
func TestResumeRemovesStaleTemps(t *testing.T) {
	dir := resumeFixture(t)
	if err := os.MkdirAll(filepath.Join(dir, "density"), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := []string{".ckpt-0000020.npz.tmp123456", ".log.jsonl.tmp42", ".checkpoint.json.tmp7", ".summary.json.tmp1",
		".weights.npz.tmp99", ".config.json.tmp3", ".log.csv.tmp5", "log.csv.tmp", "density/.step_000010.json.tmp8"}
	keep := []string{"notes.tmp1", ".mydata.npz.tmp3", ".ckpt-x.npz.tmp1", ".log.jsonl.tmp", "log.jsonl.tmp4", "density/.other.json.tmp2"}
	for _, n := range append(slices.Clone(stale), keep...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s: %v; want it removed", n, err)
		}
	}
	for _, n := range keep {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s: %v; want it kept", n, err)
		}
	}
}

// renamed is a backend under another name (as the CPU backend is with
// another BLAS or OpenBLAS thread count).
type renamed struct {
	kernels.Backend[float64]
	name string
}

func (r renamed) Name() string { return r.name }

// A resume on another backend than the checkpoint's says that the records
// from there may differ in the last digits; on the same one it says nothing.
func TestResumeNotesAnotherBackend(t *testing.T) {
	dir := resumeFixture(t)
	var notes bytes.Buffer
	if _, err := Train[float64](context.Background(), cpu.New[float64](), dir, nil, TrainOptions{Resume: true, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if notes.Len() != 0 {
		t.Errorf("resume on the same backend: notes %q", notes.String())
	}
	be := renamed{cpu.New[float64](), "cpu (OpenBLAS, 7 threads)"}
	if _, err := Train[float64](context.Background(), be, dir, nil, TrainOptions{Resume: true, Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if s := notes.String(); !strings.Contains(s, "written on "+cpu.New[float64]().Name()) || !strings.Contains(s, "on cpu (OpenBLAS, 7 threads)") || !strings.Contains(s, "OPENBLAS_NUM_THREADS") {
		t.Errorf("resume on another backend: notes %q", s)
	}
}
