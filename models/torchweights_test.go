package models

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/torchfile"
	"github.com/curvprobe/curvprobe/kernels"
)

// writeST writes a safetensors file of arrays (dtype F32 unless F64) and
// returns its path.
func writeST(t *testing.T, dir, name string, dtype torchfile.DType, arrays ...torchfile.Array) string {
	t.Helper()
	var buf bytes.Buffer
	if err := torchfile.WriteSafetensors(&buf, arrays, dtype, nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A state_dict under a prefix, layers out of order in the file, indices
// 0, 2, 10 (sorted as numbers, not strings), weights [out, in]: read as
// our W_l [in, out], exactly (the values are exact in float32).
func TestLoadTorchWeights(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Layers: []int{2, 3, 2, 1}, Activation: kernels.Tanh, Loss: MSE, Bias: true}
	w0 := []float64{1, 2, 3, 4, 5, 6} // [3 out, 2 in]
	w2 := []float64{7, 8, 9, 10, 11, 12}
	w10 := []float64{13, 14}
	p := writeST(t, dir, "m.weights", torchfile.F32,
		torchfile.Array{Name: "model.10.weight", Shape: []int{1, 2}, Values: w10},
		torchfile.Array{Name: "model.10.bias", Shape: []int{1}, Values: []float64{-3}},
		torchfile.Array{Name: "model.0.weight", Shape: []int{3, 2}, Values: w0},
		torchfile.Array{Name: "model.0.bias", Shape: []int{3}, Values: []float64{0.5, 0.25, 0.125}},
		torchfile.Array{Name: "model.2.weight", Shape: []int{2, 3}, Values: w2},
		torchfile.Array{Name: "model.2.bias", Shape: []int{2}, Values: []float64{-1, -2}},
	)
	got, err := LoadWeights(p, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1, 3, 5, 2, 4, 6, 0.5, 0.25, 0.125, 7, 10, 8, 11, 9, 12, -1, -2, 13, 14, -3}
	if !slices.Equal(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	inferred, err := InferSpec(p, kernels.Tanh, MSE)
	if err != nil || !slices.Equal(inferred.Layers, spec.Layers) || !inferred.Bias {
		t.Errorf("InferSpec: %+v, %v", inferred, err)
	}
}

// SaveSafetensors writes PyTorch's layout; LoadWeights and InferSpec read
// it back exactly; SaveWeights picks it by the .safetensors extension.
func TestSafetensorsRoundTrip(t *testing.T) {
	for _, bias := range []bool{true, false} {
		spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Gelu, Loss: CrossEntropy, Bias: bias}
		p, params := savedWeights(t, spec, 4, "w.safetensors")
		if format, err := WeightsFormat(p); format != "safetensors" || err != nil {
			t.Fatalf("format %q, %v", format, err)
		}
		got, err := LoadWeights(p, spec)
		if err != nil || !slices.Equal(got, params) {
			t.Fatalf("bias %v: %v, %v; want %v", bias, got, err, params)
		}
		inferred, err := InferSpec(p, kernels.Gelu, CrossEntropy)
		if err != nil || inferred.Arch() != spec.Arch() || inferred.Bias != bias {
			t.Errorf("InferSpec: %+v, %v", inferred, err)
		}
		f, err := torchfile.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, x := range f.Tensors {
			names = append(names, x.Name+":"+string(x.DType))
		}
		want := []string{"0.weight:F64", "0.bias:F64", "2.weight:F64", "2.bias:F64"}
		if !bias {
			want = []string{"0.weight:F64", "2.weight:F64"}
		}
		var model Spec
		if !slices.Equal(names, want) || json.Unmarshal([]byte(f.Metadata["curvprobe.model"]), &model) != nil || model.Arch() != spec.Arch() {
			t.Errorf("keys %v, metadata %v", names, f.Metadata)
		}
		f.Close()
	}
}

// The fixture PyTorch wrote with torch.save (internal/torchfile/testdata).
func TestLoadTorchSave(t *testing.T) {
	p := "../internal/torchfile/testdata/seq.pt"
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	if format, err := WeightsFormat(p); format != "torch" || err != nil {
		t.Fatalf("format %q, %v", format, err)
	}
	got, err := LoadWeights(p, spec)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile("../internal/torchfile/testdata/want.json")
	var want struct {
		Seq map[string]struct{ Values []float64 } `json:"seq"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	w0 := want.Seq["0.weight"].Values // [4, 3]
	if got[1*4+2] != w0[2*3+1] || got[12] != want.Seq["0.bias"].Values[0] || got[len(got)-1] != want.Seq["2.bias"].Values[1] {
		t.Errorf("W0[1,2] %v want %v; b0[0] %v", got[1*4+2], w0[2*3+1], got[12])
	}
	if s, err := InferSpec(p, kernels.Tanh, CrossEntropy); err != nil || s.Arch() != "3x4x2" {
		t.Errorf("InferSpec: %v %v", s.Arch(), err)
	}
}

// State_dicts that do not fit are errors naming the file, the key and the
// shape.
func TestLoadTorchWeightsErrors(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	a := func(name string, shape ...int) torchfile.Array {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return torchfile.Array{Name: name, Shape: shape, Values: make([]float64, n)}
	}
	good := []torchfile.Array{a("0.weight", 4, 3), a("0.bias", 4), a("2.weight", 2, 4), a("2.bias", 2)}
	with := func(i int, x torchfile.Array) []torchfile.Array {
		out := slices.Clone(good)
		if i < 0 {
			return append(out, x)
		}
		out[i] = x
		return out
	}
	for _, tc := range []struct {
		name   string
		arrays []torchfile.Array
		want   string
	}{
		{"missing layer", good[:2], "1 Linear layers (0.weight [4 3]) for a 3x4x2 model of 2 layers"},
		{"transposed", with(2, a("2.weight", 4, 2)), "key 2.weight has shape [4 2], want [2 4] ([out, in]) for layer 1 of layers [3 4 2]; it looks transposed"},
		{"bias length", with(1, a("0.bias", 3)), "key 0.bias has shape [3], want [4] for layer 0"},
		{"no bias", []torchfile.Array{good[0], good[1], good[2]}, "layer 1 has no bias 2.bias, but the model has biases"},
		{"batchnorm", with(-1, a("1.running_mean", 4)), "key 1.running_mean (shape [4]) is not a Linear layer's weight or bias"},
		{"layernorm", with(-1, a("1.weight", 4)), "key 1.weight has shape [4]: not a Linear layer's weight"},
		{"bias alone", with(-1, a("4.bias", 2)), "key 4.bias (shape [2]) has no weight 4.weight beside it"},
		{"named layers", []torchfile.Array{a("fc1.weight", 4, 3), a("fc2.weight", 2, 4)}, "key fc1.weight: not an nn.Sequential layer"},
		{"two prefixes", []torchfile.Array{a("a.0.weight", 4, 3), a("b.1.weight", 2, 4)}, `different prefixes "a" and "b"`},
	} {
		p := writeST(t, dir, strings.ReplaceAll(tc.name, " ", "_")+".safetensors", torchfile.F32, tc.arrays...)
		_, err := LoadWeights(p, spec)
		if err == nil || !strings.HasPrefix(err.Error(), "weights "+p+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant weights %s: ...%s", tc.name, err, p, tc.want)
		}
	}
	// A model without biases refuses a file with them.
	nb := spec
	nb.Bias = false
	p := writeST(t, dir, "biased.safetensors", torchfile.F32, good...)
	if _, err := LoadWeights(p, nb); err == nil || !strings.Contains(err.Error(), "key 0.bias (shape [4]): the model has no biases") {
		t.Errorf("extra bias: %v", err)
	}
	// A truncated file and an integer weight.
	b, _ := os.ReadFile(p)
	trunc := filepath.Join(dir, "trunc.safetensors")
	os.WriteFile(trunc, b[:len(b)-3], 0o644)
	if _, err := LoadWeights(trunc, spec); err == nil || !strings.Contains(err.Error(), "weights "+trunc+": safetensors:") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	hdr := `{"0.weight":{"dtype":"I32","shape":[4,3],"data_offsets":[0,48]},"0.bias":{"dtype":"F32","shape":[4],"data_offsets":[48,64]},` +
		`"2.weight":{"dtype":"F32","shape":[2,4],"data_offsets":[64,96]},"2.bias":{"dtype":"F32","shape":[2],"data_offsets":[96,104]}}`
	ints := filepath.Join(dir, "ints.safetensors")
	raw := append(append([]byte{byte(len(hdr)), 0, 0, 0, 0, 0, 0, 0}, hdr...), make([]byte, 104)...)
	os.WriteFile(ints, raw, 0o644)
	if _, err := LoadWeights(ints, spec); err == nil || !strings.Contains(err.Error(), "key 0.weight has dtype I32") {
		t.Errorf("I32: %v", err)
	}
	// InferSpec: a broken chain of widths, biases on some layers only.
	for _, tc := range []struct {
		arrays []torchfile.Array
		want   string
	}{
		{with(2, a("2.weight", 2, 5)), "key 2.weight has shape [2 5]: its 5 inputs do not match the 4 outputs of 0.weight [4 3]"},
		{[]torchfile.Array{good[0], good[1], good[2]}, "layer 1 (2.weight) has no bias, layer 0 (0.weight) a bias"},
		{with(1, a("0.bias", 5)), "key 0.bias has shape [5], want [4] (the outputs of 0.weight [4 3])"},
	} {
		p := writeST(t, dir, "infer.safetensors", torchfile.F32, tc.arrays...)
		if _, err := InferSpec(p, kernels.Tanh, CrossEntropy); err == nil || !strings.Contains(err.Error(), "weights "+p+": ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("InferSpec: %v\nwant %s", err, tc.want)
		}
	}
}

func TestInferSpecNPZ(t *testing.T) {
	spec := Spec{Layers: []int{5, 3, 2}, Activation: kernels.ReLU, Loss: MSE, Bias: false}
	p, _ := savedWeights(t, spec, 4, "w.npz")
	got, err := InferSpec(p, kernels.ReLU, MSE)
	if err != nil || got.Arch() != "5x3x2" || got.Bias {
		t.Errorf("%+v, %v", got, err)
	}
	if _, err := InferSpec(filepath.Join(t.TempDir(), "none.npz"), kernels.ReLU, MSE); err == nil || !strings.Contains(err.Error(), "none.npz") {
		t.Errorf("missing file: %v", err)
	}
}
