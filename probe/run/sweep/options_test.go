package sweep

import (
	"strings"
	"testing"
)

// A sweep's base config is held to the same rule as config.json: an
// option the run's optimizer does not take is an error naming the run, the
// option and the optimizer, for each run of the grid it reaches.
func TestExpandRefusesOtherOptimizersOptions(t *testing.T) {
	src := `{"name": "t", "base": {"model": {"layers": [5, 7, 2], "activation": "tanh", "loss": "cross_entropy"},
		"data": "synthetic:gaussian", "subset": 40, "optimizer": {"kind": "gd", "lr": 0.1, "momentum": 0.9}, "steps": 5, "probe_every": 5},
		"axes": [{"path": "optimizer.kind", "values": ["gd", "sgd", "adam"]}]}`
	f, err := ParseFile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Expand(f, GridOptions{})
	if err == nil {
		t.Fatal("a grid with gd and adam runs given momentum was accepted")
	}
	for _, w := range []string{`run 0 (optimizer.kind="gd"): optimizer gd: momentum 0.9`, `run 2 (optimizer.kind="adam"): optimizer adam: momentum 0.9`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "run 1 ") {
		t.Errorf("error %q blames the sgd run", err)
	}
}
