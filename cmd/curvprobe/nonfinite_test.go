package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/probe/run"
)

// `spectrum --json --density --slq-probes 1 --trace-probes 1` (one probe,
// PyHessian's default) used to fail after all the work with "json:
// unsupported value: +Inf". The standard errors are null in the JSON and
// "undefined" in the text; everything else is there.
func TestSpectrumOneProbe(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	base := []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--quiet",
		"--trace", "--trace-probes", "1", "--density", "--slq-probes", "1", "--slq-steps", "10", "--exact=false"}
	var stdout, stderr bytes.Buffer
	if err := execute(context.Background(), append(base, "--json"), &stdout, &stderr); err != nil {
		t.Fatalf("--json: %v\n%s", err, stderr.String())
	}
	var out struct {
		TopEigenvalues []float64 `json:"top_eigenvalues"`
		Trace          struct {
			Value  float64  `json:"value"`
			StdErr *float64 `json:"stderr"`
			Probes int      `json:"probes"`
		} `json:"trace"`
		Density struct {
			Moments       []float64  `json:"moments"`
			MomentStdErrs []*float64 `json:"moment_stderrs"`
		} `json:"density"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if len(out.TopEigenvalues) != 1 || out.Trace.Probes != 1 || out.Trace.StdErr != nil || !strings.Contains(stdout.String(), `"stderr":null`) {
		t.Errorf("trace %+v in %s", out.Trace, stdout.String())
	}
	if !strings.Contains(stdout.String(), `"positive":{"value":`) || strings.Count(stdout.String(), `"err":null`) != 3 {
		t.Errorf("fractions of one probe: want 3 null error bars in %s", stdout.String())
	}
	if len(out.Density.Moments) != 4 || len(out.Density.MomentStdErrs) != 4 || out.Density.MomentStdErrs[0] != nil {
		t.Errorf("density moments %v, standard errors %v", out.Density.Moments, out.Density.MomentStdErrs)
	}
	stdout.Reset()
	if err := execute(context.Background(), base, &stdout, &stderr); err != nil {
		t.Fatalf("text: %v\n%s", err, stderr.String())
	}
	text := stdout.String()
	// Undefined: the trace's and the first moment's standard errors, and
	// the error bars of the three fractions.
	if strings.Contains(text, "Inf") || strings.Count(text, "± undefined") != 5 {
		t.Errorf("text output:\n%s", text)
	}
}

// taylor --json (and every --json) writes through writeJSON: a point whose
// loss overflowed has null numbers instead of failing the output.
func TestWriteJSONNonFinite(t *testing.T) {
	rep := &run.TaylorReport{Loss: 1, Directions: []run.TaylorDirection{{Name: "gradient",
		Points: []run.TaylorPoint{{Eps: 1e3, Loss: math.Inf(1), Delta: math.Inf(1), RelErr: math.NaN(), NonFinite: true}}}}}
	out := run.TaylorOutput{TaylorReport: rep, LambdaMax: math.NaN(), Saddle: &run.SaddleReport{Crossover: math.Inf(1)}}
	if _, err := json.Marshal(out); err == nil {
		t.Fatal("encoding/json took NaN: the test shows nothing")
	}
	var b bytes.Buffer
	if err := writeJSON(&b, out); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{`"lambda_max":null`, `"delta":null`, `"rel_err":null`, `"crossover":null`, `"non_finite":true`} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %s in %s", want, s)
		}
	}
	if !strings.HasSuffix(s, "}\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("not one line: %q", s)
	}
}
