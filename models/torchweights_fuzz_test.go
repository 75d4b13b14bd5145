package models

import (
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/torchfile"
)

// FuzzLoadTorchWeights: the weights of fuzzSpec (3x4x2 with biases) read
// from any bytes as a safetensors file or torch.save archive (what
// LoadWeights does after the file is opened; in memory, as files on a
// shared disk are slow). It never panics; an error names the file; weights
// that load are finite, the file's widths are fuzzSpec's, and written back
// as SaveSafetensors writes them they read back the same.
func FuzzLoadTorchWeights(f *testing.F) {
	arr := func(name string, shape ...int) torchfile.Array {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i+len(name)) / 8
		}
		return torchfile.Array{Name: name, Shape: shape, Values: v}
	}
	for _, tc := range []struct {
		dtype  torchfile.DType
		arrays []torchfile.Array
	}{
		{torchfile.F32, []torchfile.Array{arr("0.weight", 4, 3), arr("0.bias", 4), arr("2.weight", 2, 4), arr("2.bias", 2)}},
		{torchfile.F64, []torchfile.Array{arr("model.2.bias", 2), arr("model.2.weight", 2, 4), arr("model.0.bias", 4), arr("model.0.weight", 4, 3)}},
		{torchfile.F32, []torchfile.Array{arr("0.weight", 3, 4), arr("0.bias", 4), arr("2.weight", 2, 4), arr("2.bias", 2)}},
	} {
		var buf bytes.Buffer
		if err := torchfile.WriteSafetensors(&buf, tc.arrays, tc.dtype, nil); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	if b, err := os.ReadFile("../internal/torchfile/testdata/seq.pt"); err == nil {
		f.Add(b)
	}
	const name = "fuzz.weights"
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := torchfile.OpenReader(bytes.NewReader(b), int64(len(b)), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		params, err := torchWeights(tf, fuzzSpec)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkLoaded(t, params)
		widths, bias, _, err := fileWidths(tf)
		if err != nil || !slices.Equal(widths, fuzzSpec.Layers) || slices.Contains(bias, false) {
			t.Fatalf("loaded, but the file's widths are %v, biases %v, %v", widths, bias, err)
		}
		var buf bytes.Buffer
		if err := writeSafetensors(&buf, fuzzSpec, params); err != nil {
			t.Fatal(err)
		}
		again, err := torchfile.OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "again")
		if err != nil {
			t.Fatal(err)
		}
		back, err := torchWeights(again, fuzzSpec)
		if err != nil || !slices.Equal(back, params) {
			t.Fatalf("round trip: %v, %v; want %v", back, err, params)
		}
	})
}

// checkLoaded checks weights the fuzz targets loaded for fuzzSpec: as many
// as its parameters, all finite.
func checkLoaded(t *testing.T, params []float64) {
	t.Helper()
	if len(params) != fuzzSpec.NumParams() {
		t.Fatalf("%d parameters, want %d", len(params), fuzzSpec.NumParams())
	}
	for i, v := range params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("parameter %d is %v", i, v)
		}
	}
}
