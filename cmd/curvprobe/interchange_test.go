package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/cuda"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// torchPython returns a Python with numpy and torch: $CURVPROBE_PYTHON,
// /usr/bin/python3 (Debian's python3-torch) or python3. Without one the
// test is skipped, unless REQUIRE_TORCH=1 (as in CI) makes it fail.
// CURVPROBE_PYTHON=none looks for none, as on a machine without PyTorch
// (CI's newcomer pass). Under -short it is skipped.
func torchPython(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		// Each case starts PyTorch twice: a minute and more in all.
		t.Skip("PyTorch interchange: not under -short")
	}
	if py := findTorchPython(); py != "" {
		return py
	}
	if os.Getenv("REQUIRE_TORCH") == "1" {
		t.Fatal("no Python with numpy and torch (apt-get install python3-torch), and REQUIRE_TORCH=1")
	}
	t.Skip("no Python with numpy and torch; install Debian's python3-torch to run the interchange check")
	return ""
}

// findTorchPython looks for torchPython's interpreter once for the
// package's tests: each try starts Python and imports torch.
var findTorchPython = sync.OnceValue(func() string {
	pythons := []string{os.Getenv("CURVPROBE_PYTHON"), "/usr/bin/python3", "python3"}
	if pythons[0] == "none" {
		pythons = nil
	}
	for _, py := range pythons {
		if py == "" {
			continue
		}
		if err := exec.Command(py, "-c", "import numpy, torch").Run(); err == nil {
			return py
		}
	}
	return ""
})

// pyJob is one run of a script, as `python SCRIPT ARGS... >Stdout` runs it.
type pyJob struct {
	Script string   `json:"script"`
	Args   []string `json:"args"`
	Stdout string   `json:"stdout"`
}

// pyResult is how a pyJob ended: its exit status and what it wrote to
// stderr (a traceback included).
type pyResult struct {
	Status int    `json:"status"`
	Stderr string `json:"stderr"`
}

// output returns the job's stdout, failing t with its stderr when it
// exited non-zero.
func (j pyJob) output(t *testing.T, r pyResult) []byte {
	t.Helper()
	out, err := os.ReadFile(j.Stdout)
	if r.Status != 0 || err != nil {
		t.Fatalf("%s %s: exit status %d (%v)\n%s%s", filepath.Base(j.Script), strings.Join(j.Args, " "), r.Status, err, out, r.Stderr)
	}
	return out
}

// runPython runs jobs in order in one Python process (bench/pyjobs.py),
// which starts PyTorch once instead of once per script: about 1.5 s of CPU
// each. It fails t only when the driver itself fails; each job's result is
// for the caller to check (pyJob.output).
func runPython(t *testing.T, py string, jobs []pyJob) []pyResult {
	t.Helper()
	spec, err := json.Marshal(jobs)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "jobs.json")
	if err := os.WriteFile(file, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(py, "../../bench/pyjobs.py", file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bench/pyjobs.py: %v\n%s", err, stderr.String())
	}
	var res []pyResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(jobs) {
		t.Fatalf("bench/pyjobs.py printed %d results for %d jobs (%v):\n%s%s", len(res), len(jobs), err, out, stderr.String())
	}
	return res
}

type torchSpectrum struct {
	NParams int       `json:"n_params"`
	Loss    float64   `json:"loss"`
	Norm    float64   `json:"grad_norm"`
	Grad    []float64 `json:"grad"`
	Top     []float64 `json:"top_eigenvalues"`
	Bottom  []float64 `json:"bottom_eigenvalues"`
	Trace   float64   `json:"trace"`
}

// Weights written by numpy (W_l shaped [in, out]) give the same loss,
// gradient and eigenvalues here as PyTorch's autograd.functional.hessian on
// the same network. Both compute in float64; the eigenvalues are compared to
// 1e-8 of the spectral radius (Lanczos' tolerance is 1e-10, eigvalsh is
// backward stable), loss and gradient to 1e-11 relative (the two sum the
// same terms in different orders).
func TestInterchangeWithPyTorch(t *testing.T) {
	t.Parallel() // mostly waits on Python: overlaps the Slurm test
	py := torchPython(t)
	cases := []struct{ layers, act, loss, bias string }{
		{"5,7,6,3", "tanh", "cross_entropy", "true"},
		{"4,6,5,2", "relu", "mse", "false"},
		{"6,5,4", "gelu", "cross_entropy", "true"},
		{"3,8,2", "softplus", "mse", "true"},
		{"4,5,5,3", "sigmoid", "cross_entropy", "false"},
	}
	// Every case's Python work in one process: the data, then PyTorch's
	// spectrum of it.
	var jobs []pyJob
	for i, c := range cases {
		dir := t.TempDir()
		jobs = append(jobs,
			pyJob{Script: "../../bench/make_interchange.py", Stdout: filepath.Join(dir, "make.out"), Args: []string{"--out", dir, "--layers", c.layers, "--act", c.act,
				"--loss", c.loss, "--n", "37", "--seed", string(rune('1' + i)), "--bias", c.bias}},
			pyJob{Script: "../../bench/torch_spectrum.py", Stdout: filepath.Join(dir, "torch.json"), Args: []string{"--model", filepath.Join(dir, "model.json"),
				"--weights", filepath.Join(dir, "weights.npz"), "--data", filepath.Join(dir, "data.npz"), "--top-k", "3", "--bottom-k", "3"}})
	}
	res := runPython(t, py, jobs)
	for i, c := range cases {
		name := c.act + "_" + c.loss + "_bias" + c.bias
		t.Run(name, func(t *testing.T) {
			mk, spec := jobs[2*i], jobs[2*i+1]
			mk.output(t, res[2*i])
			out := spec.output(t, res[2*i+1])
			dir := filepath.Dir(mk.Stdout)
			model, weights, dataPath := filepath.Join(dir, "model.json"), filepath.Join(dir, "weights.npz"), filepath.Join(dir, "data.npz")
			var want torchSpectrum
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatalf("torch output: %v\n%s", err, out)
			}
			var stdout, stderr bytes.Buffer
			err := execute(context.Background(), []string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath,
				"--top-k", "3", "--bottom-k", "3", "--device", "cpu", "--json"}, &stdout, &stderr)
			if err != nil {
				t.Fatalf("spectrum: %v\n%s", err, stderr.String())
			}
			var got run.SpectrumReport
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.NParams != want.NParams {
				t.Fatalf("n_params %d, torch %d", got.NParams, want.NParams)
			}
			relClose(t, "loss", got.Loss, want.Loss, 1e-11*math.Abs(want.Loss))
			relClose(t, "grad_norm", got.GradNorm, want.Norm, 1e-11*want.Norm)
			radius := math.Max(math.Abs(want.Top[0]), math.Abs(want.Bottom[0]))
			for k := range want.Top {
				relClose(t, "top eigenvalue", got.TopEigenvalues[k], want.Top[k], 1e-8*radius)
				relClose(t, "bottom eigenvalue", got.BottomEigenvalues[k], want.Bottom[k], 1e-8*radius)
			}
			// The flat gradient, element by element, in the order W0 b0 W1 b1 ...
			grad := planGradient(t, model, weights, dataPath)
			var gmax float64
			for _, g := range want.Grad {
				gmax = math.Max(gmax, math.Abs(g))
			}
			for j := range grad {
				relClose(t, "gradient element", grad[j], want.Grad[j], 1e-11*gmax)
			}
		})
	}
}

func relClose(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s: curvprobe %.15g, PyTorch %.15g (|diff| %.3g > %.3g)", what, got, want, math.Abs(got-want), tol)
	}
}

func planGradient(t *testing.T, model, weights, dataPath string) []float64 {
	t.Helper()
	spec, err := models.LoadSpec(model)
	if err != nil {
		t.Fatal(err)
	}
	params, err := models.LoadWeights(weights, spec)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(dataPath, "")
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New[float64]()
	p, err := models.Build(be, spec, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetParams(params); err != nil {
		t.Fatal(err)
	}
	d, err := run.Upload(p, ds, dataPath)
	if err != nil {
		t.Fatal(err)
	}
	g := be.Alloc(p.NumParams())
	if _, err := p.Gradient(context.Background(), g, d); err != nil {
		t.Fatal(err)
	}
	return models.Download(be, g)
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.json")
	os.WriteFile(model, []byte(`{"layers":[3,4,2],"activation":"tanh","loss":"cross_entropy"}`), 0o644)
	p, _ := models.Build(cpu.New[float64](), models.Spec{Layers: []int{3, 4, 2}, Loss: models.CrossEntropy, Bias: true}, models.Settings{})
	p.Init(1)
	weights := filepath.Join(dir, "w.npz")
	writeWeights(t, weights, p.Spec(), p.ParamsHost())
	ds, err := data.GaussianClasses(20, 5, 2, 1, 1) // 5 features: does not fit a 3-input model
	dataPath := filepath.Join(dir, "d.npz")
	writeData(t, dataPath, ds, err)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"spectrum", "--weights", weights, "--data", dataPath}, "--model is required"},
		{[]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "cpu"}, "5 features"},
		{[]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--dtype", "float16"}, "--dtype"},
		{[]string{"spectrum", "--model", filepath.Join(dir, "nope.json"), "--weights", weights, "--data", dataPath}, "nope.json"},
		{[]string{"spectrum", "--model", model, "--weights", weights, "--data", dataPath, "--device", "tpu"}, "--device"},
		{[]string{"bench", "hvp", "--arch", "784x0x10"}, "--arch"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		var stdout, stderr bytes.Buffer
		err := execute(context.Background(), tc.args, &stdout, &stderr)
		msg := stderr.String()
		if err != nil {
			msg += err.Error()
		}
		if err == nil || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: error %v, stderr %q; want mention of %q", tc.args, err, stderr.String(), tc.want)
		}
	}
}

// Without a GPU, --device auto falls back to the CPU and says why, and
// --device cuda is an error naming the reason.
func TestDeviceFallback(t *testing.T) {
	if _, err := cuda.Devices(); err == nil {
		t.Skip("a GPU is present: nothing falls back")
	}
	var stdout, stderr bytes.Buffer
	err := execute(context.Background(), []string{"bench", "hvp", "--arch", "8x6x3", "--batch", "16", "--repeats", "1", "--device", "auto", "--json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("auto: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no usable GPU") || !strings.Contains(stderr.String(), "using the CPU") {
		t.Errorf("auto said %q; want the fallback and its reason", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"hvp_ms"`) {
		t.Errorf("auto printed %q", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	err = execute(context.Background(), []string{"bench", "hvp", "--arch", "8x6x3", "--batch", "16", "--repeats", "1", "--device", "cuda"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--device cuda") || !strings.Contains(err.Error(), "no usable CUDA device") {
		t.Errorf("--device cuda without a GPU: %v", err)
	}
	// cuda:N and --tf32 are accepted and reach the same error.
	err = execute(context.Background(), []string{"bench", "hvp", "--arch", "8x6x3", "--batch", "16", "--repeats", "1", "--device", "cuda:1", "--tf32"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "--device cuda:1") || !strings.Contains(err.Error(), "no usable CUDA device") {
		t.Errorf("--device cuda:1 --tf32 without a GPU: %v", err)
	}
}

// A CUDA backend panic (its value wraps *cuda.Error) becomes the command's
// error, out of memory with advice; any other panic still propagates.
func TestGPUFailure(t *testing.T) {
	oom := &cuda.Error{Op: "cuMemAlloc_v2", Code: 2, Desc: "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"}
	err := func() (err error) {
		defer device.RecoverGPU(&err)
		panic(fmt.Errorf("kernels: cuda Alloc(5) of 20 bytes: %w", oom))
	}()
	if err == nil || !strings.Contains(err.Error(), "out of GPU memory") || !errors.As(err, new(*cuda.Error)) {
		t.Errorf("OOM panic became %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a panic that is not the GPU's was swallowed")
		}
	}()
	_ = func() (err error) {
		defer device.RecoverGPU(&err)
		panic("a bug")
	}()
}
