package sweep

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
