package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/probe/run"
	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// testSweep is 4 learning rates (one beyond 2/λ at the start) by 2 seeds of
// a tiny GD run.
const testSweep = `{
  "name": "lr-seed",
  "base": {"model": {"layers": [10, 16, 16, 3], "activation": "tanh", "loss": "cross_entropy"},
           "data": "synthetic:gaussian", "subset": 200,
           "optimizer": {"kind": "gd", "lr": 0.1}, "steps": 150, "probe_every": 10, "checkpoint_every": 10,
           "seed": 1, "dtype": "float64"},
  "axes": [{"path": "optimizer.lr", "logrange": {"start": 0.5, "stop": 4, "num": 4}},
           {"path": "seed", "values": [1, 2]}]
}
`

const testRuns = 8

func writeTestSweep(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sweep.json")
	if err := os.WriteFile(path, []byte(testSweep), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func testPlan(t *testing.T, file string) *sweep.Grid {
	t.Helper()
	f, err := sweep.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sweep.Expand(f, sweep.GridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The uninterrupted, single-process sweep the others are compared with.
var ref struct {
	once sync.Once
	dir  string
	csv  []byte
	err  error
}

func reference(t *testing.T) (dir string, csv []byte) {
	t.Helper()
	ref.once.Do(func() {
		d, err := os.MkdirTemp("", "curvprobe-sweep-ref")
		if err != nil {
			ref.err = err
			return
		}
		file := filepath.Join(d, "sweep.json")
		os.WriteFile(file, []byte(testSweep), 0o644)
		ref.dir = filepath.Join(d, "out")
		var so, se bytes.Buffer
		if err := cmdSweep(context.Background(), []string{"run", file, "--out", ref.dir, "--workers", "2", "--device", "cpu", "--no-plot"}, &so, &se); err != nil {
			ref.err = fmt.Errorf("reference sweep: %v\n%s", err, se.String())
			return
		}
		if err := cmdSweep(context.Background(), []string{"report", ref.dir}, &so, &se); err != nil {
			ref.err = fmt.Errorf("reference report: %v\n%s", err, se.String())
			return
		}
		ref.csv, ref.err = os.ReadFile(filepath.Join(ref.dir, sweep.ReportCSV))
	})
	if ref.err != nil {
		t.Fatal(ref.err)
	}
	return ref.dir, ref.csv
}

// sweepCase sets up what the sweep tests share: the uninterrupted
// reference run (its folder and report), the test sweep's file and grid,
// and an output folder that does not exist yet.
func sweepCase(t *testing.T) (refDir string, refCSV []byte, file string, p *sweep.Grid, dir string) {
	t.Helper()
	refDir, refCSV = reference(t)
	file = writeTestSweep(t)
	return refDir, refCSV, file, testPlan(t, file), filepath.Join(t.TempDir(), "out")
}

// runState reports which runs of dir have a summary, and which a checkpoint
// without one.
func runState(p *sweep.Grid, dir string) (done, half []string) {
	for _, r := range p.Runs {
		rd := sweep.RunDir(dir, r.ID)
		_, errS := os.Stat(filepath.Join(rd, run.SummaryFile))
		_, errC := os.Stat(filepath.Join(rd, run.CheckpointFile))
		switch {
		case errS == nil:
			done = append(done, r.ID)
		case errC == nil:
			half = append(half, r.ID)
		}
	}
	return done, half
}

// checkShardDone adds the runs of shard i of 3 to want, the runs that
// should be complete, and fails t unless exactly those are complete in
// dir; after says when, for the message. It returns want, sorted.
func checkShardDone(t *testing.T, p *sweep.Grid, dir string, i int, want []string, after string) []string {
	t.Helper()
	for _, r := range (sweep.Shard{Index: i, Count: 3}).Select(p.Runs) {
		want = append(want, r.ID)
	}
	done, _ := runState(p, dir)
	slices.Sort(done)
	slices.Sort(want)
	if !slices.Equal(done, want) {
		t.Fatalf("%s the complete runs are %v, want %v", after, done, want)
	}
	return want
}

// checkComplete checks that every run is complete, its log holds each step
// exactly once, in order, and equals the reference sweep's log.
func checkComplete(t *testing.T, p *sweep.Grid, dir, refDir string) {
	t.Helper()
	for _, r := range p.Runs {
		rd := sweep.RunDir(dir, r.ID)
		if st, _, msg := sweep.RunStatus(rd); !st.Complete() {
			t.Errorf("run %s (%s): %s %s", r.ID, r.Label(p.Axes), st, msg)
			continue
		}
		recs, err := run.ReadLog(filepath.Join(rd, run.LogFile))
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range recs {
			if rec.Step != i {
				t.Errorf("run %s: log line %d has step %d: a step logged twice or skipped", r.ID, i+1, rec.Step)
				break
			}
		}
		got, _ := os.ReadFile(filepath.Join(rd, run.LogFile))
		want, _ := os.ReadFile(filepath.Join(sweep.RunDir(refDir, r.ID), run.LogFile))
		if !bytes.Equal(got, want) {
			t.Errorf("run %s: log differs from the uninterrupted sweep's", r.ID)
		}
	}
}

func report(t *testing.T, dir string) []byte {
	t.Helper()
	var so, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"report", dir}, &so, &se); err != nil {
		t.Fatalf("report: %v\n%s", err, se.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, sweep.ReportCSV))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func asMain(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CURVPROBE_AS_MAIN=1")
	return cmd
}

// A sweep SIGKILLed with some runs finished and some half done, then rerun,
// ends with every run complete, no step logged twice, no finished run
// started again, the half-done ones resumed from their checkpoints, and the
// report of an uninterrupted sweep.
func TestSweepKilledAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sweep processes")
	}
	t.Parallel() // its processes mostly wait on their checkpoints' fsyncs
	refDir, refCSV, file, p, dir := sweepCase(t)
	cmd := asMain("sweep", "run", file, "--out", dir, "--workers", "2", "--device", "cpu", "--no-plot")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		done, half := runState(p, dir)
		if len(done) >= 2 && len(done) < testRuns && len(half) >= 1 {
			break
		}
		if len(done) == testRuns || time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("could not catch the sweep mid-way (%d done, %d half done)\n%s", len(done), len(half), stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	doneAtKill, halfAtKill := runState(p, dir)
	if len(doneAtKill) == 0 || len(doneAtKill) == testRuns {
		t.Fatalf("%d of %d runs done when killed: the test proves nothing", len(doneAtKill), testRuns)
	}

	var so, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"run", file, "--out", dir, "--workers", "2", "--device", "cpu", "--no-plot"}, &so, &se); err != nil {
		t.Fatalf("rerun: %v\n%s", err, se.String())
	}
	// One line per run start and end; the complete ones are not started.
	for _, id := range doneAtKill {
		if strings.Contains(se.String(), id+" start") {
			t.Errorf("run %s was complete but started again:\n%s", id, se.String())
		}
	}
	checkComplete(t, p, dir, refDir)
	for _, r := range p.Runs {
		a, err := sweep.ReadAttempts(sweep.RunDir(dir, r.ID))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case slices.Contains(doneAtKill, r.ID):
			if len(a) != 1 {
				t.Errorf("run %s was complete when killed but has %d attempts", r.ID, len(a))
			}
		case slices.Contains(halfAtKill, r.ID):
			if len(a) != 2 || a[1].Mode != "resume" {
				t.Errorf("run %s was half done when killed; attempts %+v, want a second one resuming", r.ID, a)
			}
		}
	}
	if got := report(t, dir); !bytes.Equal(got, refCSV) {
		t.Errorf("report differs from the uninterrupted sweep's:\n%s\nwant\n%s", got, refCSV)
	}
	for _, f := range []string{sweep.ReportMarkdown, "plots/sharpness.png", "plots/sharpness_vs_bound.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	t.Logf("killed with %d runs done and %d half done; the rerun resumed those and finished the rest\n%s",
		len(doneAtKill), len(halfAtKill), se.String())
}

// The sweep in 3 shards, run as separate processes, gives the report of one
// process; each shard does exactly its runs.
func TestSweepShards(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sweep processes")
	}
	t.Parallel() // its processes mostly wait on their checkpoints' fsyncs
	refDir, refCSV, file, p, dir := sweepCase(t)
	var want []string
	for i := range 3 {
		out, err := asMain("sweep", "run", file, "--out", dir, "--shard", fmt.Sprintf("%d/3", i), "--device", "cpu", "--no-plot").CombinedOutput()
		if err != nil {
			t.Fatalf("shard %d/3: %v\n%s", i, err, out)
		}
		want = checkShardDone(t, p, dir, i, want, fmt.Sprintf("after shard %d/3", i))
	}
	checkComplete(t, p, dir, refDir)
	if got := report(t, dir); !bytes.Equal(got, refCSV) {
		t.Errorf("report of 3 shards differs from one process's:\n%s\nwant\n%s", got, refCSV)
	}
}

// The generated sbatch script, run by bash as Slurm array tasks 0 and 2
// would run it, trains exactly those shards' runs; task 1, with the
// command's --shards removed, takes its count from the Slurm environment.
// (This is not a real Slurm: the environment is the one sbatch sets.)
func TestSweepSlurmScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sweep processes")
	}
	t.Parallel() // its processes mostly wait on their checkpoints' fsyncs
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	refDir, _, file, p, dir := sweepCase(t)
	var script, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"slurm", file, "--out", dir, "--shards", "3", "--workers", "1",
		"--time", "0:10:00", "--cpus", "1", "--bin", os.Args[0], "--device", "cpu", "--no-plot"}, &script, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	// Header: #! and #SBATCH lines; then the commands.
	var header, body []string
	inHeader := true
	sc := bufio.NewScanner(&script)
	for sc.Scan() {
		line := sc.Text()
		if inHeader && (strings.HasPrefix(line, "#") || line == "") {
			header = append(header, line)
			continue
		}
		inHeader = false
		body = append(body, line)
	}
	if !slices.Contains(header, "#SBATCH --array=0-2") || header[0] != "#!/bin/bash" {
		t.Fatalf("header %q", header)
	}
	if len(body) == 0 || !strings.Contains(body[len(body)-1], "sweep run") {
		t.Fatalf("body %q", body)
	}
	task := func(i int, commands string) {
		t.Helper()
		cmd := exec.Command("bash", "-c", commands)
		cmd.Env = append(os.Environ(), "CURVPROBE_AS_MAIN=1",
			"SLURM_JOB_NAME=curvprobe-lr-seed", "SLURM_ARRAY_JOB_ID=4242", fmt.Sprintf("SLURM_JOB_ID=%d", 4243+i),
			fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i), "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=0",
			"SLURM_ARRAY_TASK_MAX=2", "SLURM_ARRAY_TASK_STEP=1", "SLURM_CPUS_PER_TASK=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("array task %d: %v\n%s", i, err, out)
		}
	}
	commands := strings.Join(body, "\n")
	var want []string
	for _, i := range []int{0, 2} {
		task(i, commands)
		want = checkShardDone(t, p, dir, i, want, fmt.Sprintf("after array task %d (shards 0..%d)", i, i))
	}
	task(1, strings.Replace(commands, " --shards 3", "", 1))
	checkComplete(t, p, dir, refDir)
}

// `sweep plan` lists the runs with their ids and names the axis of an error.
func TestSweepPlanCLI(t *testing.T) {
	file := writeTestSweep(t)
	var so, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"plan", file}, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	p := testPlan(t, file)
	for _, r := range p.Runs {
		if !strings.Contains(so.String(), r.ID) {
			t.Errorf("plan output lacks %s:\n%s", r.ID, so.String())
		}
	}
	so.Reset()
	if err := cmdSweep(context.Background(), []string{"plan", "--json", file}, &so, &se); err != nil {
		t.Fatal(err)
	}
	var got sweep.Grid
	if err := json.Unmarshal(so.Bytes(), &got); err != nil || len(got.Runs) != testRuns || got.Runs[0].ID != p.Runs[0].ID {
		t.Errorf("plan --json: %v, %d runs", err, len(got.Runs))
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(testSweep, `"path": "seed"`, `"path": "sed"`, 1)), 0o644)
	err := cmdSweep(context.Background(), []string{"plan", bad}, &so, &se)
	if err == nil || !strings.Contains(err.Error(), "axes[1] (sed)") || !strings.Contains(err.Error(), `unknown field "sed"`) {
		t.Errorf("bad file: %v", err)
	}
	if err := cmdSweep(context.Background(), []string{"run", file, "--workers", "x"}, &so, &se); !errors.Is(err, errUsage) {
		t.Errorf("bad flag: %v, want errUsage", err)
	}
	if err := cmdSweep(context.Background(), []string{"run", file}, &so, &se); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("no --out: %v", err)
	}
	so.Reset()
	if err := cmdSweep(context.Background(), []string{"k8s", file, "--out", "/sweep", "--shards", "3", "--image", "img:1"}, &so, &se); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"completionMode: Indexed", "completions: 3", `"CURVPROBE_SHARDS"`, `image: "img:1"`, `name: "curvprobe-lr-seed"`} {
		if !strings.Contains(so.String(), want) {
			t.Errorf("k8s manifest lacks %q", want)
		}
	}
}

// main.go dispatches "sweep" to cmdSweep.
func TestSweepWired(t *testing.T) {
	var so, se bytes.Buffer
	err := execute(context.Background(), []string{"sweep", "help"}, &so, &se)
	if err != nil && strings.Contains(se.String(), "unknown command") {
		t.Skip(`main.go does not dispatch "sweep" yet: add case "sweep": return cmdSweep(ctx, args[1:], stdout, stderr)`)
	}
	if err != nil || !strings.Contains(so.String(), "curvprobe sweep") {
		t.Errorf("curvprobe sweep help: %v\n%s", err, se.String())
	}
}

// A YAML sweep file plans the same runs, with the same ids, as its JSON twin.
func TestSweepYAML(t *testing.T) {
	dir := t.TempDir()
	js := `{"base": {"model": {"layers": [4, 6, 2], "activation": "tanh", "loss": "mse"},
 "data": "synthetic:teacher", "subset": 50, "optimizer": {"kind": "gd", "lr": 0.1},
 "steps": 5, "probe_every": 5, "seed": 1},
 "axes": [{"path": "optimizer.lr", "values": [0.1, 0.2]}, {"path": "seed", "values": [1, 2]}]}`
	yml := `base:
  model: {layers: [4, 6, 2], activation: tanh, loss: mse}
  data: "synthetic:teacher"
  subset: 50
  optimizer: {kind: gd, lr: 0.1}
  steps: 5
  probe_every: 5
  seed: 1
axes:
  - path: optimizer.lr
    values: [0.1, 0.2]
  - path: seed
    values: [1, 2]
`
	jp, yp := filepath.Join(dir, "s.json"), filepath.Join(dir, "s.yaml")
	os.WriteFile(jp, []byte(js), 0o644)
	os.WriteFile(yp, []byte(yml), 0o644)
	var outs [2]bytes.Buffer
	for i, p := range []string{jp, yp} {
		var se bytes.Buffer
		if err := execute(context.Background(), []string{"sweep", "plan", p}, &outs[i], &se); err != nil {
			t.Fatalf("%s: %v\n%s", p, err, se.String())
		}
	}
	if outs[0].String() != outs[1].String() || strings.Count(outs[0].String(), "\n") < 4 {
		t.Errorf("YAML plan differs from JSON plan:\n%s\nvs\n%s", outs[1].String(), outs[0].String())
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("base: [1, 2\naxes: :\n"), 0o644)
	var so, se bytes.Buffer
	if err := execute(context.Background(), []string{"sweep", "plan", bad}, &so, &se); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("bad YAML: error %v, want one naming the file", err)
	}
}

// Issue 10, item 1, as reported: `sweep slurm f.yaml --out $'/shared/a\ntouch
// PWNED' > x.sbatch; bash x.sbatch` created PWNED, and `sweep k8s --out` with
// a newline and "---" added YAML documents. Both are refused, naming --out,
// and print nothing; a sweep name with a space still gives a valid job name.
func TestSweepJobInjection(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f.yaml")
	yml := "name: my sweep\nbase:\n  model: {layers: [4, 6, 2], activation: tanh, loss: mse}\n  data: \"synthetic:teacher\"\n" +
		"  subset: 50\n  optimizer: {kind: gd, lr: 0.1}\n  steps: 5\n  probe_every: 5\n  seed: 1\naxes:\n  - path: seed\n    values: [1, 2]\n"
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, out string }{
		{"slurm", "/shared/a\ntouch PWNED"},
		{"k8s", "/sweep\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: evil}\n"},
	} {
		var so, se bytes.Buffer
		err := cmdSweep(context.Background(), []string{tc.kind, file, "--out", tc.out}, &so, &se)
		if err == nil || !strings.Contains(err.Error(), "sweep "+tc.kind+": out ") || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%s --out %q: %v; want an error naming out", tc.kind, tc.out, err)
		}
		if so.Len() > 0 {
			script := filepath.Join(dir, "x")
			os.WriteFile(script, so.Bytes(), 0o644)
			if tc.kind == "slurm" {
				if _, err := exec.LookPath("bash"); err == nil {
					cmd := exec.Command("bash", "-n", script)
					cmd.Dir = dir
					cmd.Run()
				}
			}
			for _, line := range strings.Split(so.String(), "\n") {
				if strings.HasPrefix(line, "touch PWNED") || strings.HasPrefix(line, "kind: Pod") {
					t.Errorf("%s: injected line %q", tc.kind, line)
				}
			}
		}
	}
	var so, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"slurm", file, "--out", "/shared/out"}, &so, &se); err != nil {
		t.Fatalf("sweep named %q: %v", "my sweep", err)
	}
	if !strings.Contains(so.String(), "#SBATCH --job-name=curvprobe-my-sweep\n") {
		t.Errorf("job name:\n%s", so.String())
	}
}

// FuzzSweepFile: any bytes as a sweep file (YAML or JSON) give an error (one
// naming the file when the YAML cannot be read), or a plan whose runs have
// valid, distinct ids, each its configuration's ConfigID; expanding again,
// from the same bytes or from the decoded file written back as JSON, gives
// the same plan, and the plan read back from its JSON (as DIR/sweep.json) has
// the same ids.
func FuzzSweepFile(f *testing.F) {
	f.Add([]byte(testSweep))
	f.Add([]byte("name: my sweep\nbase:\n  model: {layers: [4, 6, 2], activation: tanh, loss: mse}\n  data: \"synthetic:teacher\"\n" +
		"  subset: 50\n  optimizer: {kind: gd, lr: 0.1}\n  steps: 5\n  probe_every: 5\n  seed: 1\naxes:\n  - path: seed\n    values: [1, 2]\n" +
		"  - path: model.layers.1\n    range: {start: 4, stop: 8, step: 2}\n  - path: optimizer.lr\n    logrange: {start: 0.01, stop: 1, num: 3}\n"))
	f.Add([]byte(`{"base": {"model": {"layers": [4, 2], "activation": "relu", "loss": "mse"}, "data": "synthetic:teacher",
 "subset": 20, "optimizer": {"kind": "sgd", "lr": 0.1, "momentum": 0.9}, "batch": 8, "steps": 3, "seed": 1, "dtype": "float64"},
 "axes": [{"path": "optimizer", "values": [{"kind": "gd", "lr": 0.5}, {"kind": "adam", "lr": 0.001}]}]}`))
	f.Add([]byte("base: &a {x: *a}\naxes: []\n"))
	f.Add([]byte("base: {}\naxes: [{path: seed, range: {start: 0, stop: 1e9, step: 1}}]\n"))
	f.Add([]byte("{\"base\": {}, \"axes\": [{\"path\": \"a..b\", \"values\": [1]}]}"))
	f.Add([]byte("base: .inf\n"))
	f.Add([]byte("? [1, 2]\n: 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := sweep.FileJSON("F.yaml", b)
		if err != nil {
			if !strings.Contains(err.Error(), "F.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		file, err := sweep.ParseFile(j)
		if err != nil {
			return
		}
		p, err := sweep.Expand(file, sweep.GridOptions{})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		seen := map[string]bool{}
		for i, r := range p.Runs {
			if !sweep.ValidID(r.ID) || r.ID != sweep.ConfigID(r.Config) || seen[r.ID] || len(r.Values) != len(p.Axes) {
				t.Fatalf("run %d: id %q (config's %q, seen %v)", i, r.ID, sweep.ConfigID(r.Config), seen[r.ID])
			}
			seen[r.ID] = true
		}
		want, _ := json.Marshal(p)
		again := func(what string, src []byte) {
			f2, err := sweep.ParseFile(src)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			p2, err := sweep.Expand(f2, sweep.GridOptions{})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got, _ := json.Marshal(p2); !bytes.Equal(got, want) {
				t.Fatalf("%s: another plan:\n%s\nvs\n%s", what, got, want)
			}
		}
		again("the same bytes", j)
		written, err := json.Marshal(file)
		if err != nil {
			t.Fatal(err)
		}
		again("the file written back", written)
		var back sweep.Grid
		if err := json.Unmarshal(want, &back); err != nil || len(back.Runs) != len(p.Runs) {
			t.Fatalf("plan JSON: %v", err)
		}
		for i, r := range back.Runs {
			if r.ID != p.Runs[i].ID || sweep.ConfigID(r.Config) != r.ID {
				t.Fatalf("run %d read back: id %s, config's %s, want %s", i, r.ID, sweep.ConfigID(r.Config), p.Runs[i].ID)
			}
		}
	})
}
