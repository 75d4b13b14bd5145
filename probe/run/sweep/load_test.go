package sweep

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/probe/run"
)

// TestLoadYAMLAsJSON checks that a YAML sweep file expands to the grid of
// its JSON twin, that the JSON returned is what ParseFile reads, and that
// errors name the file.
func TestLoadYAMLAsJSON(t *testing.T) {
	dir := t.TempDir()
	js := `{"base": {"model": {"layers": [4, 3], "activation": "tanh", "loss": "mse"}, "data": "synthetic:gaussian", "subset": 20,
  "optimizer": {"kind": "gd", "lr": 0.1}, "steps": 5, "probe_every": 5, "seed": 1},
 "axes": [{"path": "seed", "values": [1, 2]}]}`
	ym := "base:\n  model: {layers: [4, 3], activation: tanh, loss: mse}\n  data: synthetic:gaussian\n  subset: 20\n" +
		"  optimizer: {kind: gd, lr: 0.1}\n  steps: 5\n  probe_every: 5\n  seed: 1\naxes:\n  - {path: seed, values: [1, 2]}\n"
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	_, gj, _, err := Load(write("s.json", js), "")
	if err != nil {
		t.Fatal(err)
	}
	_, gy, content, err := Load(write("s.yaml", ym), "float64")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(content); err != nil {
		t.Errorf("the JSON Load returned does not parse: %v", err)
	}
	if len(gy.Runs) != 2 || gy.Runs[0].Config.DType.String() != "float64" {
		t.Fatalf("YAML grid: %d runs, dtype %v; want 2 runs of float64", len(gy.Runs), gy.Runs[0].Config.DType)
	}
	_, gy32, _, err := Load(filepath.Join(dir, "s.yaml"), "")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(gj)
	b, _ := json.Marshal(gy32)
	if string(a) != string(b) {
		t.Errorf("YAML and JSON files give different grids:\n%s\n%s", b, a)
	}
	for _, bad := range []struct{ name, content, dtype string }{
		{"bad.yaml", "base: [unclosed\n", ""},
		{"badfield.json", `{"base": {}, "axes": [], "nope": 1}`, ""},
		{"s2.json", js, "float16"},
	} {
		p := write(bad.name, bad.content)
		if _, _, _, err := Load(p, bad.dtype); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v does not name the file", bad.name, err)
		}
	}
}

// TestGridWriteTableAndResult checks the plan table (header, one line per
// run with its axis values and dtype, the count) and the result line.
func TestGridWriteTableAndResult(t *testing.T) {
	g := &Grid{Axes: []string{"seed"}, Runs: []Point{{ID: "abc", Values: []json.RawMessage{json.RawMessage("2")}, Config: &run.TrainConfig{DType: kernels.Float32}}}}
	var b strings.Builder
	if err := g.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if want := "#  id   seed  dtype\n0  abc  2     float32\n1 runs, every configuration valid\n"; b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
	r := &Result{Selected: 8, Complete: 1, Done: 2, Diverged: 1, Failed: 1, Interrupted: 1, NotStarted: 1, Busy: 1}
	if got, want := r.String(), "8 runs in this shard: 1 already complete, 2 done, 1 diverged, 1 failed, 1 interrupted, 1 not started, 1 left to another process"; got != want {
		t.Errorf("result: %q, want %q", got, want)
	}
}
