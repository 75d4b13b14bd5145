package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `spectrum --per-layer` adds a per_layer array to the JSON, one entry per
// layer with its index, W shape, size, top eigenvalues (--top-k of them)
// and convergence, and a table to the text report; without the flag the
// JSON has no per_layer. The layer math is tested in probe/run
// (TestPerLayerMatchesDenseBlocks); this checks the flag reaches it.
func TestSpectrumPerLayer(t *testing.T) {
	model, weights, dataPath := taylorFiles(t) // 4x8x2 tanh mse: 58 parameters
	args := func(extra ...string) []string {
		return append([]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet", "--top-k", "2"}, extra...)
	}
	var so, se bytes.Buffer
	if err := execute(context.Background(), args("--per-layer", "--json"), &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	var rep struct {
		TopEigenvalues []float64 `json:"top_eigenvalues"`
		PerLayer       []struct {
			Layer          int       `json:"layer"`
			Shape          []int     `json:"shape"`
			NParams        int       `json:"n_params"`
			TopEigenvalues []float64 `json:"top_eigenvalues"`
			Converged      bool      `json:"converged"`
		} `json:"per_layer"`
	}
	if err := json.Unmarshal(so.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, so.String())
	}
	want := []struct{ in, out, n int }{{4, 8, 40}, {8, 2, 18}}
	if len(rep.PerLayer) != len(want) {
		t.Fatalf("per_layer has %d entries, want %d:\n%s", len(rep.PerLayer), len(want), so.String())
	}
	for l, w := range want {
		got := rep.PerLayer[l]
		if got.Layer != l || len(got.Shape) != 2 || got.Shape[0] != w.in || got.Shape[1] != w.out || got.NParams != w.n || len(got.TopEigenvalues) != 2 || !got.Converged {
			t.Errorf("per_layer[%d] = %+v, want layer %d, shape [%d %d], %d params, 2 converged eigenvalues", l, got, l, w.in, w.out, w.n)
		}
		if got.TopEigenvalues[0] > rep.TopEigenvalues[0]*(1+1e-9) {
			t.Errorf("layer %d's top eigenvalue %g exceeds the whole Hessian's %g", l, got.TopEigenvalues[0], rep.TopEigenvalues[0])
		}
	}
	so.Reset()
	if err := execute(context.Background(), args("--per-layer"), &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	for _, s := range []string{"per layer   diagonal blocks", "4x8+b", "8x2+b"} {
		if !strings.Contains(so.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, so.String())
		}
	}
	so.Reset()
	if err := execute(context.Background(), args("--json"), &so, &se); err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	if strings.Contains(so.String(), "per_layer") {
		t.Errorf("per_layer without --per-layer:\n%s", so.String())
	}
}

// `train --probe-per-layer` sets probe_per_layer in config.json and the run
// logs layer_lambda_max on its probed steps.
func TestTrainProbePerLayerFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	var so, se bytes.Buffer
	err := execute(context.Background(), []string{"train", "--data", "synthetic:gaussian", "--subset", "40", "--arch", "5x6x4x3",
		"--loss", "cross_entropy", "--steps", "4", "--probe-every", "2", "--probe-per-layer", "--dtype", "float64",
		"--device", "cpu", "--quiet", "--no-plot", "--out", out}, &so, &se)
	if err != nil {
		t.Fatalf("%v\n%s", err, se.String())
	}
	cfg, _ := os.ReadFile(filepath.Join(out, "config.json"))
	if !bytes.Contains(cfg, []byte(`"probe_per_layer": true`)) {
		t.Errorf("config.json lacks probe_per_layer:\n%s", cfg)
	}
	log, _ := os.ReadFile(filepath.Join(out, "log.jsonl"))
	if n := bytes.Count(log, []byte(`"layer_lambda_max":[`)); n != 3 {
		t.Errorf("%d records with layer_lambda_max, want 3 (steps 0, 2, 4):\n%s", n, log)
	}
}
