package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/probe/run"
)

// writePlotRun writes a small run directory: a log of 40 gradient-descent
// steps, every fourth probed, sharpness rising to 2/η.
func writePlotRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	w, err := run.OpenLog(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	p := func(v float64) *float64 { return &v }
	const lr = 0.05
	for i := range 40 {
		r := run.Record{Step: 5 * i, Loss: 1.5*math.Exp(-float64(i)/15) + 0.05*math.Abs(math.Sin(float64(i))), LR: lr}
		if i%4 == 0 {
			sharp := 2 / lr * (1 - 0.7*math.Exp(-float64(i)/10))
			r.LambdaMax, r.StabilityBound, r.Margin = p(sharp), p(2/lr), p(2/lr-sharp)
		}
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCmdPlot(t *testing.T) {
	dir := writePlotRun(t)
	for _, args := range [][]string{
		{dir, "--format", "png"},
		{"--format", "png", dir},
	} {
		var stdout, stderr bytes.Buffer
		if err := cmdPlot(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("plot %q: %v\nstderr: %s", args, err, stderr.String())
		}
		got := strings.Fields(stdout.String())
		want := []string{
			filepath.Join(dir, "plots", "eos.png"),
			filepath.Join(dir, "plots", "loss.png"),
			filepath.Join(dir, "log.csv"),
		}
		if !slices.Equal(got, want) {
			t.Errorf("plot %q printed\n\t%s\nwant\n\t%s", args, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
		for _, path := range want {
			if st, err := os.Stat(path); err != nil || st.Size() == 0 {
				t.Errorf("plot %q: %s not written (%v)", args, path, err)
			}
		}
	}

	var stdout, stderr bytes.Buffer
	if err := cmdPlot(context.Background(), []string{dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(stdout.String())); n != 5 {
		t.Errorf("plot with default formats printed %d paths, want 5 (eos and loss in png and svg, the CSV):\n%s", n, stdout.String())
	}
}

func TestCmdPlotErrors(t *testing.T) {
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "no-such-run")
	var stdout, stderr bytes.Buffer
	err := cmdPlot(ctx, []string{missing}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing run directory: got %v, want an error naming %s", err, missing)
	}

	empty := t.TempDir()
	err = cmdPlot(ctx, []string{empty}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(empty, "log.jsonl")) {
		t.Errorf("run directory without a log: got %v, want an error naming its log.jsonl", err)
	}

	dir := writePlotRun(t)
	for _, args := range [][]string{
		{},
		{dir, "--no-such-flag"},
		{dir, dir},
	} {
		stderr.Reset()
		if err := cmdPlot(ctx, args, &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("plot %q: got %v, want errUsage", args, err)
		}
	}
	if err := cmdPlot(ctx, []string{dir, "--format", "gif"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "gif") {
		t.Errorf("--format gif: got %v, want an error naming it", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("failed commands printed %q", stdout.String())
	}
}
