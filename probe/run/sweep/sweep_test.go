package sweep

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
	"github.com/curvprobe/curvprobe/kernels"
)

// baseJSON is a small valid run configuration.
const baseJSON = `{"model": {"layers": [10, 16, 16, 3], "activation": "tanh", "loss": "cross_entropy"},
  "data": "synthetic:gaussian", "subset": 200,
  "optimizer": {"kind": "gd", "lr": 0.1}, "steps": 60, "probe_every": 10, "seed": 1, "dtype": "float64"}`

func sweepJSON(axes string) string {
	return `{"name": "t", "base": ` + baseJSON + `, "axes": [` + axes + `]}`
}

func mustExpand(t *testing.T, src string) *Grid {
	t.Helper()
	f, err := ParseFile([]byte(src))
	if err != nil {
		t.Fatalf("ParseFile: %v\n%s", err, src)
	}
	p, err := Expand(f, GridOptions{})
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return p
}

// ids maps each run's label to its id.
func ids(p *Grid) map[string]string {
	m := map[string]string{}
	for _, r := range p.Runs {
		m[canonLabel(p, &r)] = r.ID
	}
	return m
}

// canonLabel is a run's label with the axes sorted, independent of their order.
func canonLabel(p *Grid, r *Point) string {
	parts := strings.Split(r.Label(p.Axes), " ")
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func TestExpandValuesRangeLogRange(t *testing.T) {
	p := mustExpand(t, sweepJSON(`
		{"path": "optimizer.lr", "logrange": {"start": 0.01, "stop": 1, "num": 3}},
		{"path": "seed", "range": {"start": 1, "stop": 3, "step": 1}},
		{"path": "model.activation", "values": ["tanh", "relu"]}`))
	if len(p.Runs) != 3*3*2 {
		t.Fatalf("%d runs, want 18", len(p.Runs))
	}
	if !slices.Equal(p.Axes, []string{"optimizer.lr", "seed", "model.activation"}) {
		t.Errorf("axes %v", p.Axes)
	}
	// Grid order: first axis outermost, last fastest.
	want := []string{
		`optimizer.lr=0.01 seed=1 model.activation="tanh"`,
		`optimizer.lr=0.01 seed=1 model.activation="relu"`,
		`optimizer.lr=0.01 seed=2 model.activation="tanh"`,
	}
	for i, w := range want {
		if got := p.Runs[i].Label(p.Axes); got != w {
			t.Errorf("run %d: %s, want %s", i, got, w)
		}
	}
	var lrs []float64
	for _, r := range p.Runs {
		if !slices.Contains(lrs, r.Config.Optimizer.LR) {
			lrs = append(lrs, r.Config.Optimizer.LR)
		}
		if got := fmt.Sprint(r.Config.Seed); got != string(r.Values[1]) {
			t.Errorf("run %s: seed %s, axis value %s", r.ID, got, r.Values[1])
		}
		if len(r.ID) != IDLength || ConfigID(r.Config) != r.ID {
			t.Errorf("id %q is not ConfigID of its config", r.ID)
		}
	}
	// The log-range's values are exact: 0.1 is the geometric mean.
	if !slices.Equal(lrs, []float64{0.01, 0.1, 1}) {
		t.Errorf("log-range lrs %v, want [0.01 0.1 1]", lrs)
	}
	if p.Runs[0].Config.Model.Activation == p.Runs[1].Config.Model.Activation {
		t.Error("model.activation did not vary")
	}
}

func TestRangeValues(t *testing.T) {
	for _, c := range []struct {
		r    Range
		want string
	}{
		{Range{0.1, 0.5, 0.1}, "[0.1,0.2,0.3,0.4,0.5]"}, // rounded: 0.1+2*0.1 is 0.3
		{Range{16, 64, 16}, "[16,32,48,64]"},
		{Range{1, 2, 0.3}, "[1,1.3,1.6,1.9]"}, // stop not on the grid: left out
		{Range{5, 1, -2}, "[5,3,1]"},
		{Range{3, 3, 1}, "[3]"},
	} {
		a := Axis{Path: "x", Range: &c.r}
		v, err := a.Expand()
		if err != nil {
			t.Errorf("%+v: %v", c.r, err)
			continue
		}
		if got := "[" + string(joinRaw(v)) + "]"; got != c.want {
			t.Errorf("range %+v: %s, want %s", c.r, got, c.want)
		}
	}
	a := Axis{Path: "x", LogRange: &LogRange{Start: 1e-3, Stop: 1e-1, Num: 5}}
	v, err := a.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(joinRaw(v)); got != "0.001,0.00316227766017,0.01,0.0316227766017,0.1" {
		t.Errorf("logrange: %s", got)
	}
}

func joinRaw(v []json.RawMessage) []byte {
	var parts []string
	for _, x := range v {
		parts = append(parts, string(x))
	}
	return []byte(strings.Join(parts, ","))
}

func TestExpandPaths(t *testing.T) {
	p := mustExpand(t, sweepJSON(`
		{"path": "model.layers", "values": [[10, 8, 3], [10, 32, 32, 3]]},
		{"path": "optimizer.schedule.warmup", "values": [0, 5]}`))
	if len(p.Runs) != 4 {
		t.Fatalf("%d runs", len(p.Runs))
	}
	if got := p.Runs[0].Config.Model.Layers; !slices.Equal(got, []int{10, 8, 3}) {
		t.Errorf("model.layers: %v", got)
	}
	if got := p.Runs[3].Config.Model.Layers; !slices.Equal(got, []int{10, 32, 32, 3}) {
		t.Errorf("model.layers: %v", got)
	}
	if got := p.Runs[1].Config.Optimizer.Schedule.Warmup; got != 5 {
		t.Errorf("optimizer.schedule.warmup (inside an object the base leaves out): %d", got)
	}

	// An element of a list, and a field the base leaves out (batch).
	p = mustExpand(t, `{"base": {"model": {"layers": [10, 16, 16, 3], "activation": "tanh", "loss": "mse"},
		"data": "synthetic:gaussian", "optimizer": {"kind": "sgd", "lr": 0.1}, "steps": 10, "seed": 1},
		"axes": [{"path": "model.layers.2", "values": [4, 64]}, {"path": "batch", "values": [0, 32]},
		         {"path": "Optimizer.LR", "values": [0.5]}]}`)
	for _, r := range p.Runs {
		if r.Config.Model.Layers[1] != 16 || fmt.Sprint(r.Config.Model.Layers[2]) != string(r.Values[0]) {
			t.Errorf("model.layers.2=%s: layers %v", r.Values[0], r.Config.Model.Layers)
		}
		if fmt.Sprint(r.Config.Batch) != string(r.Values[1]) {
			t.Errorf("batch=%s: %d", r.Values[1], r.Config.Batch)
		}
		// Keys match case-insensitively, like encoding/json's: the
		// axis replaces the base's "lr" rather than adding a second key.
		if r.Config.Optimizer.LR != 0.5 {
			t.Errorf("Optimizer.LR=0.5: lr %g", r.Config.Optimizer.LR)
		}
		if r.Config.DType != kernels.Float32 {
			t.Errorf("default dtype %q, want float32", r.Config.DType)
		}
	}
	f, _ := ParseFile([]byte(sweepJSON(`{"path": "seed", "values": [1, 2]}`)))
	p2, err := Expand(f, GridOptions{DType: kernels.Float32})
	if err != nil {
		t.Fatal(err)
	}
	p1 := mustExpand(t, sweepJSON(`{"path": "seed", "values": [1, 2]}`))
	if p2.Runs[0].Config.DType != kernels.Float32 || p2.Runs[0].ID == p1.Runs[0].ID {
		t.Error("the dtype override should change the config and so the id")
	}
}

// Run ids depend on the run's configuration only.
func TestIDsStable(t *testing.T) {
	a := ids(mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [0.1, 0.2]}, {"path": "seed", "values": [1, 2]}`)))
	// A value appended to an axis: the old runs keep their ids.
	b := ids(mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [0.1, 0.2, 0.4]}, {"path": "seed", "values": [1, 2]}`)))
	// The axes reordered, and the values too.
	c := ids(mustExpand(t, sweepJSON(`{"path": "seed", "values": [2, 1]}, {"path": "optimizer.lr", "values": [0.2, 0.1]}`)))
	// A range giving the same numbers as the literals.
	d := ids(mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "range": {"start": 0.1, "stop": 0.2, "step": 0.1}}, {"path": "seed", "values": [1, 2]}`)))
	if len(a) != 4 || len(b) != 6 || len(c) != 4 {
		t.Fatalf("sizes %d %d %d", len(a), len(b), len(c))
	}
	for label, id := range a {
		for name, m := range map[string]map[string]string{"appended": b, "reordered": c, "range": d} {
			if m[label] != id {
				t.Errorf("%s: run %s has id %s, was %s", name, label, m[label], id)
			}
		}
	}
	// Distinct configurations, distinct ids.
	seen := map[string]bool{}
	for _, id := range b {
		if seen[id] {
			t.Errorf("id %s repeated", id)
		}
		seen[id] = true
	}
	// An axis with one value equal to the base's is the base itself.
	e := mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [0.1]}`))
	f := mustExpand(t, sweepJSON(``))
	if len(f.Runs) != 1 || e.Runs[0].ID != f.Runs[0].ID {
		t.Errorf("no axes: %d runs; ids %s vs %s", len(f.Runs), e.Runs[0].ID, f.Runs[0].ID)
	}
}

func TestBadFiles(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      []string // substrings of the error
	}{
		{"syntax", `{"base": {"seed": 1,}}`, []string{"line 1", "JSON"}},
		{"cut short", `{"base": {`, []string{"end of the file"}},
		{"unknown field", `{"base": {}, "axis": []}`, []string{`unknown field "axis"`}},
		{"unknown axis field", sweepJSON(`{"path": "seed", "valuez": [1]}`), []string{`unknown field "valuez"`}},
		{"no base", `{"axes": []}`, []string{`"base"`}},
		{"base not object", `{"base": [1], "axes": []}`, []string{`"base"`}},
		{"trailing", sweepJSON(``) + `{}`, []string{"after"}},
		{"no path", sweepJSON(`{"values": [1]}`), []string{"axes[0]", `"path"`}},
		{"two kinds", sweepJSON(`{"path": "seed", "values": [1], "range": {"start": 1, "stop": 2, "step": 1}}`), []string{"axes[0] (seed)", "exactly one"}},
		{"none", sweepJSON(`{"path": "seed"}`), []string{"axes[0] (seed)", "exactly one"}},
		{"empty values", sweepJSON(`{"path": "seed", "values": []}`), []string{"axes[0] (seed)", `"values"`, "empty"}},
		{"step 0", sweepJSON(`{"path": "seed", "range": {"start": 1, "stop": 2, "step": 0}}`), []string{"axes[0] (seed)", `"range"`, "step 0"}},
		{"step away", sweepJSON(`{"path": "seed", "range": {"start": 1, "stop": 5, "step": -1}}`), []string{"axes[0] (seed)", "away"}},
		{"huge range", sweepJSON(`{"path": "seed", "range": {"start": 0, "stop": 1e9, "step": 1}}`), []string{"axes[0] (seed)", "more than"}},
		{"logrange 0", sweepJSON(`{"path": "optimizer.lr", "logrange": {"start": 0, "stop": 1, "num": 3}}`), []string{"axes[0] (optimizer.lr)", `"logrange"`}},
		{"logrange num", sweepJSON(`{"path": "optimizer.lr", "logrange": {"start": 0.1, "stop": 1, "num": 0}}`), []string{"num 0"}},
		{"empty segment", sweepJSON(`{"path": "optimizer..lr", "values": [1]}`), []string{"empty segment"}},
		{"overlap", sweepJSON(`{"path": "optimizer", "values": [{"kind": "gd", "lr": 1}]}, {"path": "optimizer.lr", "values": [1]}`), []string{"axes[1] (optimizer.lr)", "overlaps axes[0]"}},
		{"same path", sweepJSON(`{"path": "seed", "values": [1]}, {"path": "seed", "values": [2]}`), []string{"axes[1] (seed)", "overlaps"}},
		{"misspelt path", sweepJSON(`{"path": "optimizer.lrr", "values": [0.1]}`), []string{"axes[0] (optimizer.lrr)", `unknown field "lrr"`}},
		{"wrong type", sweepJSON(`{"path": "seed", "values": ["one"]}`), []string{"axes[0] (seed)", `"one"`, "seed"}},
		{"index out of range", sweepJSON(`{"path": "model.layers.7", "values": [4]}`), []string{"axes[0] (model.layers.7)", "index 7 out of range"}},
		{"index into number", sweepJSON(`{"path": "seed.x", "values": [4]}`), []string{"axes[0] (seed.x)", "not an object or a list"}},
		{"bad activation", sweepJSON(`{"path": "model.activation", "values": ["tanh", "swish"]}`), []string{"axes[0] (model.activation)", `"swish"`}},
		{"base unknown field", `{"base": {"stepz": 3}, "axes": []}`, []string{`"base"`, `unknown field "stepz"`}},
		{"invalid run", sweepJSON(`{"path": "optimizer.lr", "values": [0.1, 0.2]}, {"path": "batch", "values": [0, 32]}`),
			[]string{"run 1 (optimizer.lr=0.1 batch=32)", "run 3 (optimizer.lr=0.2 batch=32)", "full-batch"}},
		{"invalid steps", sweepJSON(`{"path": "steps", "values": [10, -1]}`), []string{"run 1 (steps=-1)", "steps -1"}},
		{"duplicate", sweepJSON(`{"path": "optimizer.lr", "values": [0.1, 0.10]}`), []string{"run 1 (optimizer.lr=0.10)", "same configuration as run 0 (optimizer.lr=0.1)"}},
		{"bad dtype", sweepJSON(`{"path": "dtype", "values": ["float16"]}`), []string{"axes[0] (dtype)", `dtype "float16"`}},
	} {
		f, err := ParseFile([]byte(c.src))
		if err == nil {
			_, err = Expand(f, GridOptions{})
		}
		errtest.Mentions(t, c.name, err, c.want...)
	}
}
