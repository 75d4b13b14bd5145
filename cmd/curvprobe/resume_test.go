package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the curvprobe command, so the
// resume test can SIGKILL a real training process.
func TestMain(m *testing.M) {
	if os.Getenv("CURVPROBE_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// A run killed by SIGKILL mid-way and resumed writes the same log, byte for
// byte, as an uninterrupted run with the same seed: checkpoints are atomic,
// the log is cut back to the checkpoint and batches and probes are seeded.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts training processes")
	}
	dir := t.TempDir()
	args := func(out string) []string {
		return []string{"train", "--data", "synthetic:gaussian", "--subset", "400", "--arch", "10x24x24x4", "--act", "tanh",
			"--loss", "cross_entropy", "--optimizer", "sgd", "--momentum", "0.9", "--batch", "64", "--lr", "0.05",
			"--steps", "200", "--probe-every", "10", "--probe-bottom", "--checkpoint-every", "7", "--seed", "5",
			"--dtype", "float64", "--device", "cpu", "--no-plot", "--out", out}
	}
	// The uninterrupted run, in-process, alongside the one to be killed:
	// both mostly wait on their checkpoints' fsyncs.
	whole := filepath.Join(dir, "whole")
	var so, se bytes.Buffer
	wholeDone := make(chan error, 1)
	go func() { wholeDone <- execute(context.Background(), args(whole), &so, &se) }()
	waitWhole := sync.OnceValue(func() error { return <-wholeDone })
	defer waitWhole() // on a failure too, before t.TempDir's removal

	killed := filepath.Join(dir, "killed")
	cmd := exec.Command(os.Args[0], args(killed)...)
	cmd.Env = append(os.Environ(), "CURVPROBE_AS_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once it has logged a good part of the run, but not all of it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(killed, "log.jsonl"))
		if n := bytes.Count(b, []byte("\n")); n >= 75 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the training process logged too little in 60 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if err := waitWhole(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, se.String())
	}
	want, err := os.ReadFile(filepath.Join(whole, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	partial, _ := os.ReadFile(filepath.Join(killed, "log.jsonl"))
	if bytes.Equal(partial, want) {
		t.Fatal("the process finished before it was killed: the test proves nothing")
	}
	so.Reset()
	se.Reset()
	if err := execute(context.Background(), []string{"train", "--out", killed, "--resume", "--device", "cpu", "--no-plot"}, &so, &se); err != nil {
		t.Fatalf("resume: %v\n%s", err, se.String())
	}
	got, err := os.ReadFile(filepath.Join(killed, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("resumed log differs at line %d (of %d vs %d):\n got %s\nwant %s", i+1, len(gl), len(wl), gl[i], wl[i])
			}
		}
		t.Fatalf("resumed log has %d lines, uninterrupted %d", len(gl), len(wl))
	}
	t.Logf("killed after %d of %d log lines; resumed log identical", bytes.Count(partial, []byte("\n")), bytes.Count(want, []byte("\n")))
}

// --resume continues a run as its config.json says: flags that would
// change it are refused by name instead of being ignored.
func TestResumeRefusesConfigFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	args := []string{"train", "--data", "synthetic:gaussian", "--subset", "40", "--arch", "5x7x2", "--steps", "10",
		"--device", "cpu", "--quiet", "--no-plot", "--out", out}
	if err := execute(context.Background(), args, &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	err := execute(context.Background(), []string{"train", "--out", out, "--resume", "--steps", "40", "--lr", "0.5"}, &so, &se)
	if err == nil || !strings.Contains(err.Error(), "--lr, --steps cannot change a run") {
		t.Errorf("resume with --steps and --lr: %v", err)
	}
	if err := execute(context.Background(), []string{"train", "--out", out, "--resume", "--device", "cpu", "--quiet", "--no-plot"}, &so, &se); err != nil {
		t.Errorf("resume with only --device, --quiet, --no-plot: %v", err)
	}
}

// Flags that qualify another are errors without it, and --config takes no
// run flags beside it: none is silently ignored.
func TestTrainRefusesIgnoredFlags(t *testing.T) {
	base := []string{"train", "--data", "synthetic:gaussian", "--subset", "40", "--arch", "5x7x2", "--steps", "5", "--device", "cpu", "--quiet", "--no-plot"}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--trace-probes", "10"}, "--trace-probes applies only with --probe-trace"},
		{[]string{"--test-subset", "10"}, "--test-subset applies only with --test"},
		{[]string{"--beta1", "0.8"}, "--beta1 applies only with --optimizer adam"},
		// gd with --momentum ran heavy ball behind gd's 2/lr bound; adam
		// stored and ignored it; --beta1 1 blamed the lr.
		{[]string{"--optimizer", "gd", "--momentum", "0.9", "--lr", "0.02"}, "--momentum applies only with --optimizer sgd (heavy ball) or nesterov, not --optimizer gd"},
		{[]string{"--optimizer", "adam", "--momentum", "0.9"}, "--momentum applies only with --optimizer sgd (heavy ball) or nesterov, not --optimizer adam"},
		{[]string{"--optimizer", "sgd", "--beta2", "0.99"}, "--beta2 applies only with --optimizer adam, not --optimizer sgd"},
		{[]string{"--optimizer", "adam", "--beta1", "1"}, "optimizer beta1 1: want 0 <= beta1 < 1"},
	} {
		var so, se bytes.Buffer
		args := append(append(slices.Clone(base), tc.extra...), "--out", filepath.Join(t.TempDir(), "r"))
		if err := execute(context.Background(), args, &so, &se); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v; want %q", tc.extra, err, tc.want)
		}
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfg, []byte(`{"model":{"layers":[5,7,2],"activation":"tanh","loss":"cross_entropy"},"data":"synthetic:gaussian","subset":40,"optimizer":{"kind":"gd","lr":0.1},"steps":5,"probe_every":5,"seed":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same rule holds for a config file.
	bad := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(bad, []byte(`{"model":{"layers":[5,7,2],"activation":"tanh","loss":"cross_entropy"},"data":"synthetic:gaussian","subset":40,"optimizer":{"kind":"adam","lr":0.1,"momentum":0.9},"steps":5,"probe_every":5,"seed":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var so, se bytes.Buffer
	err := execute(context.Background(), []string{"train", "--config", bad, "--device", "cpu", "--quiet", "--out", filepath.Join(t.TempDir(), "r")}, &so, &se)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "optimizer adam: momentum 0.9 applies only to sgd") {
		t.Errorf("config with adam and momentum: %v", err)
	}
	err = execute(context.Background(), []string{"train", "--config", cfg, "--steps", "9", "--out", filepath.Join(t.TempDir(), "r")}, &so, &se)
	if err == nil || !strings.Contains(err.Error(), "--steps cannot be combined with --config") {
		t.Errorf("--config with --steps: %v", err)
	}
	if err := execute(context.Background(), []string{"train", "--config", cfg, "--device", "cpu", "--quiet", "--no-plot", "--out", filepath.Join(t.TempDir(), "r")}, &so, &se); err != nil {
		t.Errorf("--config with --device, --quiet, --no-plot: %v", err)
	}
}
