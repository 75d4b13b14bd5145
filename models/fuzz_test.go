package models

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/curvprobe/curvprobe/internal/npytest"
	"github.com/curvprobe/curvprobe/kernels"
)

// fuzzSpec is the model the weights fuzz target loads for: 3x4x2 with biases.
var fuzzSpec = Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}

func npyOf(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	if err := npyio.Write(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzLoadWeights: LoadWeights of an archive holding W0 b0 W1 b1 (any
// bytes), and with extra 1 a W2 too, with extra 2 W0 twice. It never
// panics; an error names the file and the array (or arrays) at fault; an
// extra array or one stored twice is refused; loaded weights are finite,
// as many as the model's parameters, and saved with SaveWeights read back
// the same.
func FuzzLoadWeights(f *testing.F) {
	w0 := [3][4]float64{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}
	w1 := [4][2]float32{{1, -1}, {0.5, 2}, {0, 0}, {3, 4}}
	seeds := [][4][]byte{
		{npyOf(f, w0), npyOf(f, []float64{1, 2, 3, 4}), npyOf(f, w1), npyOf(f, []float32{-1, 1})},
		{npytest.WithDict(npyOf(f, w0), "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 4), }"),
			npyOf(f, [1][4]float64{{1, 2, 3, 4}}), npyOf(f, w1), npyOf(f, []float64{0, 0})},
		{npyOf(f, w0), npyOf(f, []float64{1, 2, 3}), npyOf(f, w1), npyOf(f, []int64{0, 0})},
	}
	for _, s := range seeds {
		for extra := range uint8(3) {
			f.Add(s[0], s[1], s[2], s[3], extra)
		}
		for _, c := range npytest.Corruptions {
			f.Add(c.F(s[0]), s[1], s[2], s[3], uint8(0))
			f.Add(s[0], s[1], s[2], c.F(s[3]), uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, w0, b0, w1, b1 []byte, extra uint8) {
		members := []npytest.Member{{Name: "W0.npy", Data: w0}, {Name: "b0.npy", Data: b0}, {Name: "W1.npy", Data: w1}, {Name: "b1.npy", Data: b1}}
		switch extra % 3 {
		case 1:
			members = append(members, npytest.Member{Name: "W2.npy", Data: w1})
		case 2:
			members = append(members, members[0])
		}
		p := filepath.Join(t.TempDir(), "w.npz")
		if err := os.WriteFile(p, npytest.Zip(false, members...), 0o644); err != nil {
			t.Fatal(err)
		}
		var params []float64
		var err error
		if a := npytest.Allocated(func() { params, err = LoadWeights(p, fuzzSpec) }); a > npytest.AllocBound(len(w0)+len(b0)+len(w1)+len(b1)) {
			t.Fatalf("LoadWeights allocated %d MiB", a>>20)
		}
		switch extra % 3 {
		case 1:
			npytest.CheckNamed(t, err, "weights "+p) // W2 refused, or a bad array before it
			return
		case 2:
			npytest.CheckNamed(t, err, "weights "+p, `"W0.npy"`, "twice")
			return
		}
		if err != nil {
			if !strings.Contains(err.Error(), "weights "+p) || !slices.ContainsFunc([]string{"W0", "b0", "W1", "b1"}, func(a string) bool { return strings.Contains(err.Error(), "array "+a) }) {
				t.Fatalf("error %q does not name the file and the array", err)
			}
			return
		}
		checkLoaded(t, params)
		q := filepath.Join(t.TempDir(), "back.npz")
		if err := SaveWeights(q, fuzzSpec, params); err != nil {
			t.Fatal(err)
		}
		back, err := LoadWeights(q, fuzzSpec)
		if err != nil || !slices.Equal(back, params) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzLoadArrays: LoadArrays (checkpoints) of an archive holding one
// member named name.npy (any bytes). It never panics; an error names the
// file and the array; loaded arrays saved with SaveArrays read back the same.
func FuzzLoadArrays(f *testing.F) {
	for _, b := range [][]byte{
		npyOf(f, []float64{1, 2, 3}),
		npyOf(f, [2][2]float32{{1, 2}, {3, 4}}),
		npyOf(f, []float64{}),
		npytest.NPY("{'descr': '<f8', 'fortran_order': False, 'shape': (500000000,), }", make([]byte, 16)),
	} {
		f.Add(b, "params")
		for _, c := range npytest.Corruptions {
			f.Add(c.F(b), "eig")
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		if len(name) > 1<<10 {
			return // beyond what a zip writer takes as a name
		}
		p := filepath.Join(t.TempDir(), "ckpt.npz")
		if err := os.WriteFile(p, npytest.Zip(false, npytest.Member{Name: name + ".npy", Data: b}), 0o644); err != nil {
			t.Fatal(err)
		}
		var arrays map[string][]float64
		var err error
		if a := npytest.Allocated(func() { arrays, err = LoadArrays(p) }); a > npytest.AllocBound(len(b)) {
			t.Fatalf("LoadArrays of %d bytes allocated %d MiB", len(b), a>>20)
		}
		if err != nil {
			npytest.CheckNamed(t, err, p, "array "+name)
			return
		}
		if _, ok := arrays[name]; !ok || len(arrays) != 1 {
			t.Fatalf("arrays %v from one member %q", arrays, name)
		}
		q := filepath.Join(t.TempDir(), "back.npz")
		if err := SaveArrays(q, arrays); err != nil {
			t.Fatal(err)
		}
		back, err := LoadArrays(q)
		if err != nil || len(back) != 1 || !slices.EqualFunc(back[name], arrays[name], sameBits) {
			t.Fatalf("round trip: %v, %v", back, err)
		}
	})
}

// sameBits reports whether a and b are the same float64, NaNs included.
func sameBits(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
