//go:build unix

package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// heldBackends are CPU backends that each block in their 50th GEMM until
// gate is closed: a run that stays running.
func heldBackends(gate <-chan struct{}) Backends {
	return Backends{
		Float32: func() (kernels.Backend[float32], error) {
			return &gatedBackend[float32]{Backend: cpu.New[float32](), hold: true, gate: gate}, nil
		},
		Float64: func() (kernels.Backend[float64], error) {
			return &gatedBackend[float64]{Backend: cpu.New[float64](), hold: true, gate: gate}, nil
		},
	}
}

// subPlan is p with only the given runs.
func subPlan(p *Grid, runs ...Point) *Grid {
	return &Grid{Name: p.Name, Axes: p.Axes, Runs: runs}
}

// The progress of a half-done sweep: two runs done, one failed twice, one
// training (its lock held by a process at work), two never started. It
// counts them so, with their attempts and steps; the table and the JSON say
// the same; reading it takes no lock the running process or a new one
// could be kept from; and when the run ends it reads as done.
func TestProgressHalfDone(t *testing.T) {
	p := mustExpand(t, sweepJSON(`{"path": "data", "values": ["synthetic:gaussian", "/nonexistent/data.npz"]},
		{"path": "seed", "values": [1, 2, 3]}`))
	var ok, bad []Point
	for _, r := range p.Runs {
		if strings.Contains(string(r.Values[0]), "nonexistent") {
			bad = append(bad, r)
		} else {
			ok = append(ok, r)
		}
	}
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Execute(ctx, subPlan(p, ok[0], ok[1]), dir, Options{Backends: cpuBackends}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		Execute(ctx, subPlan(p, bad[0]), dir, Options{Backends: cpuBackends})
	}
	gate := make(chan struct{})
	running := make(chan error, 1)
	go func() {
		_, err := Execute(ctx, subPlan(p, ok[2]), dir, Options{Backends: heldBackends(gate)})
		running <- err
	}()
	defer func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}()
	rd := RunDir(dir, ok[2].ID)
	for deadline := time.Now().Add(30 * time.Second); ; {
		held, _ := LockHeld(filepath.Join(rd, LockFile))
		if _, err := os.Stat(filepath.Join(rd, "log.jsonl")); held && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the gated run never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The sweep's plan, as `sweep run` of the whole file leaves it.
	if err := p.Write(filepath.Join(dir, GridFile)); err != nil {
		t.Fatal(err)
	}

	pr, err := ReadProgress(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Runs != 6 || pr.Done != 2 || pr.Failed != 1 || pr.Running != 1 || pr.Left != 2 || pr.Attempts != 5 || pr.Retried != 1 {
		t.Fatalf("progress %s, want 6 runs: 2 done, 1 running, 1 failed, 2 left; 5 attempts (1 run retried)", pr.Summary())
	}
	want := map[string]struct {
		state    State
		attempts int
	}{ok[0].ID: {StateDone, 1}, ok[1].ID: {StateDone, 1}, ok[2].ID: {StateRunning, 1}, bad[0].ID: {StateFailed, 2}, bad[1].ID: {StateLeft, 0}, bad[2].ID: {StateLeft, 0}}
	for i, r := range pr.RunStates {
		if r.ID != p.Runs[i].ID {
			t.Fatalf("line %d is run %s, want %s: plan order", i, r.ID, p.Runs[i].ID)
		}
		w := want[r.ID]
		if r.State != w.state || r.Attempts != w.attempts {
			t.Errorf("run %s: %s with %d attempts, want %s with %d", r.ID, r.State, r.Attempts, w.state, w.attempts)
		}
		switch r.State {
		case StateDone:
			if r.Step == nil || *r.Step != r.Steps || r.Steps != 60 {
				t.Errorf("done run %s: step %v of %d", r.ID, r.Step, r.Steps)
			}
		case StateRunning:
			if r.Last == nil || r.Last.PID != os.Getpid() || r.Last.Mode != "fresh" {
				t.Errorf("running run %s: last attempt %+v", r.ID, r.Last)
			}
			if r.Step != nil && *r.Step >= r.Steps {
				t.Errorf("running run %s at step %d of %d", r.ID, *r.Step, r.Steps)
			}
		case StateFailed:
			if !strings.Contains(r.Error, "nonexistent") || strings.Contains(r.Error, "\n") {
				t.Errorf("failed run %s: error %q, want the first line naming the data file", r.ID, r.Error)
			}
		case StateLeft:
			if r.Status != StatusPending || r.Step != nil || r.Last != nil {
				t.Errorf("left run %s: %+v", r.ID, r)
			}
		}
	}
	var tab bytes.Buffer
	if err := pr.WriteTable(&tab); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(tab.String(), "\n"), "\n")
	if len(lines) != 8 || !strings.HasPrefix(lines[0], "id") || !strings.Contains(lines[0], "data") || !strings.Contains(lines[0], "seed") {
		t.Fatalf("table:\n%s", tab.String())
	}
	if last := lines[7]; last != "6 runs: 2 done, 1 running, 1 failed, 2 left; 5 attempts (1 runs retried)" {
		t.Errorf("summary line %q", last)
	}
	for i, r := range pr.RunStates {
		if l := lines[i+1]; !strings.HasPrefix(l, r.ID) || !strings.Contains(l, " "+string(r.State)) {
			t.Errorf("table line %q for run %s, %s", l, r.ID, r.State)
		}
	}
	b, err := json.Marshal(pr)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Runs, Done, Running, Failed, Left, Attempts int
		RunStates                                   []struct {
			ID, State string
			Attempts  int
		} `json:"run_states"`
	}
	if err := json.Unmarshal(b, &back); err != nil || back.Runs != 6 || back.Done != 2 || back.Running != 1 || back.Failed != 1 ||
		back.Left != 2 || back.Attempts != 5 || len(back.RunStates) != 6 || back.RunStates[0].ID != p.Runs[0].ID {
		t.Errorf("JSON %s: %v", b, err)
	}

	// Reading the progress took no lock: a second process starting now
	// leaves the running run alone and trains one left.
	res, err := Execute(ctx, subPlan(p, ok[2], bad[1]), dir, Options{Backends: cpuBackends})
	if err != nil || res.Busy != 1 || res.Failed != 1 {
		t.Errorf("a second process: %+v, %v; want the running run left to the first", res, err)
	}
	close(gate)
	if err := <-running; err != nil {
		t.Fatal(err)
	}
	if err := p.Write(filepath.Join(dir, GridFile)); err != nil {
		t.Fatal(err)
	}
	pr, err = ReadProgress(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Done != 3 || pr.Running != 0 || pr.Failed != 2 || pr.Left != 1 {
		t.Errorf("after the run ended: %s", pr.Summary())
	}
}

// A process reading the progress holds a run's lock, shared, for an
// instant. A `sweep run` that tries the lock in that instant trains the
// run all the same instead of leaving it to a process that is not there.
func TestExecuteWaitsOutAProgressReader(t *testing.T) {
	p := mustExpand(t, sweepJSON(`{"path": "seed", "values": [1]}`))
	dir := t.TempDir()
	rd := RunDir(dir, p.Runs[0].ID)
	os.MkdirAll(rd, 0o755)
	f, err := os.OpenFile(filepath.Join(rd, LockFile), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// As LockHeld does, for longer: 30 ms.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) })
	res, err := Execute(context.Background(), p, dir, Options{Backends: cpuBackends})
	if err != nil || res.Done != 1 || res.Busy != 0 {
		t.Fatalf("%+v, %v: want the run done, not left as busy", res, err)
	}
}
