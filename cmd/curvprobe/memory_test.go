package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// Absurd sizes from model files, configs and flags are refused before
// anything is allocated, with the estimate and the machine's memory,
// naming the flag or file (issue 10: each of these died of out-of-memory
// with a stack dump, panicked in makeslice, or said "the model has only -9
// parameters"). The commands run in this process: one that allocated
// would take the test binary down.
func TestAbsurdSizes(t *testing.T) {
	if mi, err := kernels.HostMemInfo(); err == nil && mi.Available > 200<<30 {
		t.Skipf("this machine has %s available: the smallest reproduction (260 GiB) might be attempted", models.FormatBytes(mi.Available))
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	model := func(name, layers string) string {
		return write(name, `{"layers":`+layers+`,"activation":"tanh","loss":"cross_entropy"}`)
	}
	config := func(name, layers string) string {
		return write(name, `{"model":{"layers":`+layers+`,"activation":"tanh","loss":"cross_entropy"},"data":"synthetic:gaussian","optimizer":{"kind":"gd","lr":0.1},"steps":2,"probe_every":1,"seed":1}`)
	}
	big, wide, huge := model("big.json", "[8,1000000000,3]"), model("wide.json", "[100000,100000,100000,3]"), model("huge.json", "[8,9223372036854775807,3]")
	small := models.Spec{Layers: []int{8, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	weights := filepath.Join(dir, "w.npz")
	writeWeights(t, weights, small, make([]float64, small.NumParams()))
	bigConfig := config("big-config.json", "[8,1000000000,3]")
	config(filepath.Join("resumed", "config.json"), "[100000,100000,100000,3]")
	resumed := filepath.Join(dir, "resumed")
	problem := func(cmd, m string) []string {
		return []string{cmd, "--model", m, "--weights", weights, "--data", "builtin:digits", "--device", "cpu", "--quiet"}
	}
	trainArgs := func(extra ...string) []string {
		return append([]string{"train", "--data", "synthetic:gaussian", "--loss", "cross_entropy", "--steps", "2", "--out", filepath.Join(dir, "out"), "--device", "cpu", "--quiet", "--no-plot"}, extra...)
	}
	const figure = `: a [0-9x]+ float(32|64) network needs about [0-9.]+ [KMGTPE]iB of memory \(.*\); this machine has [0-9.]+ [KMGTPE]iB available \([0-9.]+ [KMGTPE]iB in all\)$`
	const ceiling = `layers\[1\] = 9223372036854775807: above the ceiling of 1073741824 units per layer$`
	for _, c := range []struct {
		args []string
		want string // a regular expression the error matches
	}{
		{problem("spectrum", big), `^--model .*big.json` + figure},
		{problem("spectrum", wide), `^--model .*wide.json` + figure},
		{problem("spectrum", huge), `^--model .*huge.json: model file .*huge.json: field ` + ceiling},
		{problem("taylor", big), `^--model .*big.json` + figure},
		{problem("taylor", wide), `^--model .*wide.json` + figure},
		{problem("taylor", huge), `^--model .*huge.json: model file .*huge.json: field ` + ceiling},
		{trainArgs("--model", big), `^--model .*big.json` + figure},
		{trainArgs("--model", wide), `^--model .*wide.json` + figure},
		{trainArgs("--model", huge), `^model file .*huge.json: field ` + ceiling},
		{trainArgs("--arch", "8x1000000000x3"), `^--arch 8x1000000000x3` + figure},
		{trainArgs("--arch", "8x9223372036854775807x3"), `^--arch: architecture "8x9223372036854775807x3": width 9223372036854775807 is above the ceiling of 1073741824 units per layer$`},
		{[]string{"train", "--config", bigConfig, "--out", filepath.Join(dir, "out2"), "--device", "cpu", "--quiet"}, `^--config .*big-config.json` + figure},
		{[]string{"train", "--out", resumed, "--resume", "--device", "cpu", "--quiet"}, `^--resume: the model of .*resumed/config.json` + figure},
		{[]string{"bench", "hvp", "--arch", "8x1000000000x3", "--repeats", "1", "--device", "cpu"}, `^--arch 8x1000000000x3` + figure},
		{[]string{"bench", "hvp", "--arch", "784x512x10", "--batch", "4611686018427387904", "--repeats", "1", "--device", "cpu"}, `^--batch 4611686018427387904: a 784x512x10 float32 network .* needs more than 8 EiB of memory$`},
		{[]string{"bench", "lambda", "--arch", "8x1000000000x3", "--device", "cpu"}, `^--arch 8x1000000000x3` + figure},
		{[]string{"bench", "lambda", "--arch", "100000x100000x100000x3", "--device", "cpu"}, `^--arch 100000x100000x100000x3` + figure},
	} {
		name := strings.ReplaceAll(strings.Join(c.args, " "), dir+string(filepath.Separator), "")
		t.Run(name, func(t *testing.T) {
			err := executeFails(t, c.args)
			if !regexp.MustCompile(c.want).MatchString(err.Error()) {
				t.Errorf("error %q\ndoes not match %q", err, c.want)
			}
		})
	}
}
