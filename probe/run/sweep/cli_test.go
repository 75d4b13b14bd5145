package sweep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteJSONIsGridFile checks that `sweep plan --json` prints what
// Execute writes to DIR/sweep.json.
func TestWriteJSONIsGridFile(t *testing.T) {
	p := mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [0.1, 0.2]}`))
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), GridFile)
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), b) {
		t.Errorf("WriteJSON:\n%s\nWrite:\n%s", buf.Bytes(), b)
	}
}

// TestOutcome checks the error sweep run ends with.
func TestOutcome(t *testing.T) {
	for _, c := range []struct {
		r    Result
		err  error
		want string
	}{
		{Result{Done: 2}, nil, ""},
		{Result{Failed: 2}, nil, "2 runs failed (see D/runs/<id>/error.txt); rerun the same command to retry them"},
		{Result{Failed: 1}, context.Canceled, "interrupted; rerun the same command to finish the sweep"},
		{Result{}, fmt.Errorf("wrapped: %w", context.Canceled), "interrupted; rerun the same command to finish the sweep"},
		{Result{Failed: 1}, os.ErrPermission, os.ErrPermission.Error()},
	} {
		got := ""
		if err := c.r.Outcome("D", c.err); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%+v, %v: got %q, want %q", c.r, c.err, got, c.want)
		}
	}
}

// TestWriteJobFileFlags checks that the flags WriteJobFile needs are named
// before the sweep file is read.
func TestWriteJobFileFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, c := range []struct {
		o    K8sOptions
		want string
	}{
		{K8sOptions{JobOptions: JobOptions{Workers: 1}}, "sweep slurm: --out is required"},
		{K8sOptions{JobOptions: JobOptions{Out: "o", Shards: -1, Workers: 1}}, "sweep slurm: --shards must be >= 0 and --workers >= 1"},
		{K8sOptions{JobOptions: JobOptions{Out: "o"}}, "sweep slurm: --shards must be >= 0 and --workers >= 1"},
		{K8sOptions{JobOptions: JobOptions{Out: "o", Workers: 1}}, "missing.yaml"},
	} {
		err := WriteJobFile(&bytes.Buffer{}, &bytes.Buffer{}, "slurm", missing, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.o, err, c.want)
		}
	}
}
