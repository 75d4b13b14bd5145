package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// taylorFiles writes a 4x8x2 tanh MSE model, random weights and
// teacher-student data to a temporary folder and returns the three paths.
func taylorFiles(t *testing.T) (model, weights, dataPath string) {
	t.Helper()
	dir := t.TempDir()
	model, weights, dataPath = filepath.Join(dir, "model.json"), filepath.Join(dir, "weights.npz"), filepath.Join(dir, "data.npz")
	if err := os.WriteFile(model, []byte(`{"layers":[4,8,2],"activation":"tanh","loss":"mse","bias":true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	spec, err := models.LoadSpec(model)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	params := make([]float64, spec.NumParams())
	for i := range params {
		params[i] = 0.8 * r.NormFloat64()
	}
	writeWeights(t, weights, spec, params)
	ds, err := data.TeacherStudent(40, 4, 2, 5, 3)
	writeData(t, dataPath, ds, err)
	return model, weights, dataPath
}

// `curvprobe taylor --json` prints one object with the three standard
// directions, each with its points, a positive breakdown step within the
// grid (up to --eps-max 10, far beyond where a tanh network's loss is
// quadratic) and a fitted error exponent near 3; --saddle adds the saddle
// report.
func TestTaylorJSON(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu",
		"--eps-max", "10", "--points", "21", "--json", "--saddle", "--quiet"}
	if err := cmdTaylor(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var out struct {
		NParams    int     `json:"n_params"`
		Loss       float64 `json:"loss"`
		GradNorm   float64 `json:"grad_norm"`
		DType      string  `json:"dtype"`
		Tol        float64 `json:"tol"`
		LambdaMax  float64 `json:"lambda_max"`
		LambdaMin  float64 `json:"lambda_min"`
		Directions []struct {
			Name          string   `json:"name"`
			Slope         float64  `json:"slope"`
			Curvature     float64  `json:"curvature"`
			Breakdown     float64  `json:"breakdown"`
			Broken        bool     `json:"broken"`
			CubicExponent *float64 `json:"cubic_exponent"`
			Points        []struct {
				Eps       float64 `json:"eps"`
				Delta     float64 `json:"delta"`
				Linear    float64 `json:"linear"`
				Quadratic float64 `json:"quadratic"`
				RelErr    float64 `json:"rel_err"`
			} `json:"points"`
		} `json:"directions"`
		Saddle *struct {
			GradNorm  float64 `json:"grad_norm"`
			LambdaMin float64 `json:"lambda_min"`
			Saddle    bool    `json:"saddle"`
			Steps     []any   `json:"steps"`
		} `json:"saddle"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if out.NParams != 4*8+8+8*2+2 || out.DType != "float64" || out.Tol != 0.1 || !(out.Loss > 0) || !(out.GradNorm > 0) {
		t.Errorf("header: %d params, dtype %q, tol %g, loss %g, |g| %g", out.NParams, out.DType, out.Tol, out.Loss, out.GradNorm)
	}
	var names []string
	for _, d := range out.Directions {
		names = append(names, d.Name)
		if d.CubicExponent != nil {
			t.Logf("%-6s slope %+.5f curvature %+.5f breakdown %.4g exponent %.4f", d.Name, d.Slope, d.Curvature, d.Breakdown, *d.CubicExponent)
		}
		if len(d.Points) != 21 {
			t.Errorf("%s: %d points, want 21", d.Name, len(d.Points))
		}
		if !d.Broken || !(d.Breakdown > 0) || d.Breakdown > 10 {
			t.Errorf("%s: breakdown %g (broken %v), want one in (0, 10]", d.Name, d.Breakdown, d.Broken)
		}
		if d.CubicExponent == nil || math.Abs(*d.CubicExponent-3) > 0.5 {
			t.Errorf("%s: error exponent %v, want about 3", d.Name, d.CubicExponent)
		}
		if p := d.Points[0]; p.Eps != 1e-4 || p.Linear != p.Eps*d.Slope {
			t.Errorf("%s: first point %+v, slope %g", d.Name, p, d.Slope)
		}
	}
	if strings.Join(names, " ") != "-grad top bottom" {
		t.Errorf("directions %v, want -grad top bottom", names)
	}
	if out.LambdaMin > out.LambdaMax {
		t.Errorf("lambda_min %g > lambda_max %g", out.LambdaMin, out.LambdaMax)
	}
	if out.Saddle == nil || out.Saddle.GradNorm != out.GradNorm || out.Saddle.Saddle != (out.Saddle.LambdaMin < 0) {
		t.Errorf("saddle report %+v", out.Saddle)
	}
}

// The text report has a table per direction and its breakdown step.
func TestTaylorText(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	var stdout, stderr bytes.Buffer
	args := []string{"--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--points", "5", "--eps-max", "10", "--quiet"}
	if err := cmdTaylor(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	text := stdout.String()
	t.Log("\n" + text)
	for _, want := range []string{"direction -grad", "direction top", "direction bottom", "measured dL", "quadratic dL", "breakdown   eps ="} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
}

// A missing required flag is an error that names it; a bad flag is errUsage.
func TestTaylorFlagErrors(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	var stdout, stderr bytes.Buffer
	err := cmdTaylor(context.Background(), []string{"--model", model, "--data", dataPath}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--weights") {
		t.Errorf("missing --weights: error %v", err)
	}
	err = cmdTaylor(context.Background(), []string{"--model", model, "--weights", weights, "--data", dataPath, "--no-such-flag"}, &stdout, &stderr)
	if !errors.Is(err, errUsage) {
		t.Errorf("unknown flag: error %v, want errUsage", err)
	}
	err = cmdTaylor(context.Background(), []string{"--model", model, "--weights", weights, "--data", dataPath, "--eps-min", "0"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--eps-min") {
		t.Errorf("--eps-min 0: error %v", err)
	}
	err = cmdTaylor(context.Background(), []string{"--model", model, "--weights", weights, "--data", dataPath, "--dtype", "float16"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--dtype") {
		t.Errorf("--dtype float16: error %v", err)
	}
}

// taylor --saddle reports the fractions of positive, negative and near-zero
// eigenvalues: in the JSON under saddle.fractions (exact counts on this
// 58-parameter model, summing to one) and as a line of the text report.
func TestTaylorSaddleFractions(t *testing.T) {
	model, weights, dataPath := taylorFiles(t)
	args := []string{"--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu", "--points", "3", "--saddle", "--quiet"}
	var stdout, stderr bytes.Buffer
	if err := cmdTaylor(context.Background(), append(args, "--json"), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var out struct {
		Saddle struct {
			Fractions *run.FractionsReport `json:"fractions"`
		} `json:"saddle"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	f := out.Saddle.Fractions
	if f == nil || f.Method != "exact" || math.Abs(f.Positive.Value+f.Negative.Value+f.NearZero.Value-1) > 1e-12 || !(f.ZeroTol > 0) {
		t.Fatalf("saddle fractions %+v in %s", f, stdout.String())
	}
	stdout.Reset()
	if err := cmdTaylor(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "exact counts: fraction of eigenvalues >") {
		t.Errorf("no fractions line in\n%s", stdout.String())
	}
}
