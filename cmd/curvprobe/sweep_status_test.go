package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/probe/run"
	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// `sweep status` on a half-done sweep: shard 0/3 trained (3 runs done), a
// run that failed, one whose lock a process holds (running), and 3 left;
// as a table and as JSON.
func TestSweepStatusCLI(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	file := writeTestSweep(t)
	p := testPlan(t, file)
	dir := filepath.Join(t.TempDir(), "out")
	var so, se bytes.Buffer
	if err := cmdSweep(context.Background(), []string{"run", file, "--out", dir, "--shard", "0/3", "--device", "cpu", "--no-plot"}, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	failed := (sweep.Shard{Index: 1, Count: 3}).Select(p.Runs)[0].ID
	running := (sweep.Shard{Index: 2, Count: 3}).Select(p.Runs)[0].ID
	os.MkdirAll(sweep.RunDir(dir, failed), 0o755)
	os.WriteFile(filepath.Join(sweep.RunDir(dir, failed), sweep.ErrorFile), []byte("data: no such file\nsecond line\n"), 0o644)
	os.MkdirAll(sweep.RunDir(dir, running), 0o755)
	_, unlock, ok, err := run.TryLock(filepath.Join(sweep.RunDir(dir, running), sweep.LockFile))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer unlock()

	so.Reset()
	if err := cmdSweep(context.Background(), []string{"status", dir}, &so, &se); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(so.String(), "\n"), "\n")
	if len(lines) != testRuns+2 || lines[len(lines)-1] != "8 runs: 3 done, 1 running, 1 failed, 3 left; 3 attempts (0 runs retried)" {
		t.Fatalf("status:\n%s", so.String())
	}
	for _, l := range lines {
		if strings.HasPrefix(l, failed) && !strings.Contains(l, "failed") || strings.HasPrefix(l, failed) && !strings.HasSuffix(strings.TrimSpace(l), "data: no such file ...") {
			t.Errorf("failed run's line %q", l)
		}
		if strings.HasPrefix(l, running) && !strings.Contains(l, " running ") {
			t.Errorf("running run's line %q", l)
		}
	}
	so.Reset()
	if err := cmdSweep(context.Background(), []string{"status", "--json", dir}, &so, &se); err != nil {
		t.Fatal(err)
	}
	var pr sweep.Progress
	if err := json.Unmarshal(so.Bytes(), &pr); err != nil {
		t.Fatalf("%v\n%s", err, so.String())
	}
	if pr.Runs != 8 || pr.Done != 3 || pr.Running != 1 || pr.Failed != 1 || pr.Left != 3 || pr.Attempts != 3 || len(pr.RunStates) != 8 {
		t.Errorf("--json: %s", pr.Summary())
	}
	if err := cmdSweep(context.Background(), []string{"status", filepath.Join(dir, "nope")}, &so, &se); err == nil || !strings.Contains(err.Error(), "sweep.json") {
		t.Errorf("no sweep directory: %v", err)
	}
	if err := cmdSweep(context.Background(), []string{"status"}, &so, &se); !errors.Is(err, errUsage) {
		t.Errorf("no DIR: %v", err)
	}
}
