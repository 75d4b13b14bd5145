package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// spectrumJSON runs curvprobe spectrum with args (on the CPU, float64,
// --json added) and returns its report.
func spectrumJSON(t *testing.T, args ...string) run.SpectrumReport {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append(append([]string{"spectrum"}, args...), "--device", "cpu", "--dtype", "float64", "--json")
	if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr.String())
	}
	var rep run.SpectrumReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stdout.String())
	}
	return rep
}

// A model trained in PyTorch (bench/torch_train_export.py: nn.Sequential of
// Linear and Tanh, 5 seeded SGD steps in float32) and saved as PyTorch
// users do, torch.save and safetensors (written byte by byte there, the
// safetensors package being absent) in float32, bfloat16 and float16:
// curvprobe spectrum reads each file as it is, the widths from the file
// (--act and --loss only) or from --model, and gives the loss, gradient
// norm and top-5 eigenvalues of bench/torch_spectrum.py, which reads the
// same file with torch.load or a Python parser. Tolerances as in
// TestInterchangeWithPyTorch: both compute in float64 from the same
// widened values; loss and gradient norm to 1e-11 relative, eigenvalues to
// 1e-8 of the spectral radius.
func TestPyTorchStateDict(t *testing.T) {
	t.Parallel() // mostly waits on Python: overlaps the Slurm test
	py := torchPython(t)
	dir := t.TempDir()
	model, dataPath := filepath.Join(dir, "model.json"), filepath.Join(dir, "data.npz")
	files := []string{"m.safetensors", "m.pt", "m_bf16.safetensors", "m_f16.pt"}
	// The export, then PyTorch's spectrum of each file, in one Python.
	jobs := []pyJob{{Script: "../../bench/torch_train_export.py", Stdout: filepath.Join(dir, "export.out"), Args: []string{"--out", dir, "--layers", "6,8,5,3", "--steps", "5"}}}
	for _, w := range files {
		jobs = append(jobs, pyJob{Script: "../../bench/torch_spectrum.py", Stdout: filepath.Join(dir, w+".torch.json"), Args: []string{"--model", model,
			"--weights", filepath.Join(dir, w), "--data", dataPath, "--top-k", "5", "--bottom-k", "1"}})
	}
	res := runPython(t, py, jobs)
	jobs[0].output(t, res[0])
	for i, w := range files {
		t.Run(w, func(t *testing.T) {
			weights := filepath.Join(dir, w)
			out := jobs[1+i].output(t, res[1+i])
			var want torchSpectrum
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			// The exact dense spectrum (119 parameters) and Lanczos.
			for _, how := range [][]string{{"--act", "tanh", "--loss", "cross_entropy"}, {"--model", model}, {"--model", model, "--exact=false"}} {
				args := append([]string{"--weights", weights, "--data", dataPath, "--top-k", "5"}, how...)
				got := spectrumJSON(t, args...)
				if got.NParams != want.NParams {
					t.Fatalf("%v: n_params %d, torch %d", how, got.NParams, want.NParams)
				}
				relClose(t, "loss", got.Loss, want.Loss, 1e-11*math.Abs(want.Loss))
				relClose(t, "grad_norm", got.GradNorm, want.Norm, 1e-11*want.Norm)
				radius := math.Max(math.Abs(want.Top[0]), math.Abs(want.Bottom[0]))
				for k := range want.Top {
					relClose(t, fmt.Sprintf("top eigenvalue %d", k), got.TopEigenvalues[k], want.Top[k], 1e-8*radius)
				}
			}
		})
	}
}

// Our safetensors round trip through PyTorch: curvprobe train
// --weights-format safetensors writes RUN_DIR/weights.safetensors, which
// nn.Sequential.load_state_dict(strict=True) takes (read as
// safetensors.torch.load_file would, by the Python parser of
// bench/torch_spectrum.py: the package is absent), and whose loss in
// PyTorch is curvprobe's on the same file.
func TestSafetensorsThroughPyTorch(t *testing.T) {
	t.Parallel() // mostly waits on Python: overlaps the Slurm test
	py := torchPython(t)
	dir := t.TempDir()
	ds, err := data.GaussianClasses(30, 6, 3, 1, 2)
	dataPath := filepath.Join(dir, "d.npz")
	writeData(t, dataPath, ds, err)
	runDir := filepath.Join(dir, "run")
	var stdout, stderr bytes.Buffer
	if err := execute(context.Background(), []string{"train", "--arch", "6x8x5x3", "--act", "tanh", "--loss", "cross_entropy", "--data", dataPath,
		"--optimizer", "gd", "--lr", "0.1", "--steps", "3", "--probe-every", "3", "--out", runDir, "--dtype", "float64", "--device", "cpu",
		"--weights-format", "safetensors", "--quiet", "--no-plot"}, &stdout, &stderr); err != nil {
		t.Fatalf("train: %v\n%s", err, stderr.String())
	}
	st := filepath.Join(runDir, run.SafetensorsFile)
	script := `
import json, sys
import numpy as np, torch
sys.path.insert(0, "../../bench")
from torch_spectrum import read_safetensors
sd = read_safetensors(sys.argv[1])
m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
m.load_state_dict(sd, strict=True)
z = np.load(sys.argv[2])
loss = torch.nn.functional.cross_entropy(m(torch.tensor(z["x"], dtype=torch.float64)), torch.tensor(z["y"]).long())
print(json.dumps({"loss": float(loss), "keys": list(sd), "dtypes": sorted({str(v.dtype) for v in sd.values()})}))
`
	scriptFile := filepath.Join(dir, "load_state_dict.py")
	if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	job := pyJob{Script: scriptFile, Args: []string{st, dataPath}, Stdout: filepath.Join(dir, "torch.json")}
	res := runPython(t, py, []pyJob{job})
	if res[0].Status != 0 {
		t.Fatalf("PyTorch could not load %s: exit status %d\n%s", st, res[0].Status, res[0].Stderr)
	}
	out := job.output(t, res[0])
	var torchSide struct {
		Loss   float64
		Keys   []string
		DTypes []string
	}
	if err := json.Unmarshal(out, &torchSide); err != nil {
		t.Fatal(err)
	}
	if strings.Join(torchSide.Keys, " ") != "0.weight 0.bias 2.weight 2.bias 4.weight 4.bias" || strings.Join(torchSide.DTypes, " ") != "torch.float64" {
		t.Errorf("keys %v, dtypes %v", torchSide.Keys, torchSide.DTypes)
	}
	got := spectrumJSON(t, "--weights", st, "--act", "tanh", "--loss", "cross_entropy", "--data", dataPath, "--top-k", "1")
	relClose(t, "loss", got.Loss, torchSide.Loss, 1e-12*math.Abs(torchSide.Loss))
	// The NPZ beside it holds the same weights.
	npz := spectrumJSON(t, "--run", runDir, "--top-k", "1")
	if npz.Loss != got.Loss || npz.GradNorm != got.GradNorm {
		t.Errorf("weights.npz: loss %v grad %v; weights.safetensors: %v %v", npz.Loss, npz.GradNorm, got.Loss, got.GradNorm)
	}
}

// A safetensors state_dict written here byte by byte (header JSON and
// little-endian float32, keys net.0.weight [out, in], ...), without PyTorch
// and without our writer: spectrum reads it with --act and --loss alone,
// or with --model, and prints exactly what it prints for the same weights
// in our NPZ layout. Runs everywhere.
func TestSpectrumHandWrittenSafetensors(t *testing.T) {
	dir := t.TempDir()
	layers := []int{4, 5, 3}
	// Weights exact in float32; layer l's W[o][i] = (o - 2i + l) / 8.
	var hdr strings.Builder
	var raw bytes.Buffer
	spec := models.Spec{Layers: layers, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	params := make([]float64, spec.NumParams())
	hdr.WriteString(`{"__metadata__":{"format":"pt"}`)
	for _, b := range spec.Blocks() {
		key := fmt.Sprintf("net.%d.", 2*b.Layer)
		start := raw.Len()
		if b.Bias {
			for o := 0; o < b.Cols; o++ {
				v := float32(o%3-1) / 4
				binary.Write(&raw, binary.LittleEndian, v)
				params[b.Offset+o] = float64(v)
			}
			fmt.Fprintf(&hdr, `,"%sbias":{"dtype":"F32","shape":[%d],"data_offsets":[%d,%d]}`, key, b.Cols, start, raw.Len())
			continue
		}
		for o := 0; o < b.Cols; o++ {
			for i := 0; i < b.Rows; i++ {
				v := float32(o-2*i+b.Layer) / 8
				binary.Write(&raw, binary.LittleEndian, v)
				params[b.Offset+i*b.Cols+o] = float64(v)
			}
		}
		fmt.Fprintf(&hdr, `,"%sweight":{"dtype":"F32","shape":[%d,%d],"data_offsets":[%d,%d]}`, key, b.Cols, b.Rows, start, raw.Len())
	}
	hdr.WriteString("}")
	var file bytes.Buffer
	binary.Write(&file, binary.LittleEndian, uint64(hdr.Len()))
	file.WriteString(hdr.String())
	file.Write(raw.Bytes())
	st := filepath.Join(dir, "model.bin") // the content, not the name, tells the format
	if err := os.WriteFile(st, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	npz := filepath.Join(dir, "w.npz")
	writeWeights(t, npz, spec, params)
	model := filepath.Join(dir, "m.json")
	os.WriteFile(model, []byte(`{"layers":[4,5,3],"activation":"tanh","loss":"cross_entropy"}`), 0o644)
	ds, err := data.GaussianClasses(24, 4, 3, 1, 3)
	dataPath := filepath.Join(dir, "d.npz")
	writeData(t, dataPath, ds, err)
	want := spectrumJSON(t, "--model", model, "--weights", npz, "--data", dataPath, "--top-k", "3")
	for _, how := range [][]string{{"--act", "tanh", "--loss", "cross_entropy"}, {"--model", model}} {
		got := spectrumJSON(t, append([]string{"--weights", st, "--data", dataPath, "--top-k", "3"}, how...)...)
		got.Seconds, want.Seconds = 0, 0 // the run's time differs
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("%v:\n got %s\nwant %s", how, g, w)
		}
	}
	// Errors name the flag, the file, the key and the shape.
	wrong := filepath.Join(dir, "wrong.json")
	os.WriteFile(wrong, []byte(`{"layers":[5,4,3],"activation":"tanh","loss":"cross_entropy"}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--act", "tanh"}, "--act and --loss are both required"},
		{[]string{"--act", "tanh", "--loss", "hinge"}, "--loss: unknown loss"},
		{[]string{"--model", wrong}, "--weights " + st + ": weights " + st + ": key net.0.weight has shape [5 4], want [4 5] ([out, in]) for layer 0 of layers [5 4 3]; it looks transposed"},
		{[]string{"--model", model, "--act", "tanh"}, "--act and --loss apply without --model"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"spectrum", "--weights", st, "--data", dataPath, "--device", "cpu"}, tc.args...)
		err := execute(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%v: %v %s\nwant %s", tc.args, err, stderr.String(), tc.want)
		}
	}
}
