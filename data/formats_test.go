package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/half"
	"github.com/sbinet/npyio"
	"github.com/sbinet/npyio/npz"
)

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func idxBytes(magic uint32, dims []uint32, payload []byte) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, magic)
	binary.Write(&buf, binary.BigEndian, dims)
	buf.Write(payload)
	return buf.Bytes()
}

func writeIDXLabels(t *testing.T, labels []byte) string {
	t.Helper()
	return writeFile(t, filepath.Join(t.TempDir(), "t10k-labels-idx1-ubyte"), idxBytes(idxLabelsMagic, []uint32{uint32(len(labels))}, labels))
}

func writeNPZ(t *testing.T, name string, arrays map[string]any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := npz.Write(p, arrays); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNPZDtypes(t *testing.T) {
	labels := []int64{0, 2, 1}
	for name, x := range map[string]any{
		"float32": [3][2]float32{{1, 2}, {3, 4}, {5, 6}},
		"float64": [3][2]float64{{1, 2}, {3, 4}, {5, 6}},
		"int64":   [3][2]int64{{1, 2}, {3, 4}, {5, 6}},
		"uint8":   [3][1][2]uint8{{{1, 2}}, {{3, 4}}, {{5, 6}}},
	} {
		p := writeNPZ(t, name+".npz", map[string]any{"x.npy": x, "y.npy": labels})
		d, err := LoadNPZ(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.N != 3 || d.D != 2 || !slices.Equal(d.X, []float64{1, 2, 3, 4, 5, 6}) ||
			!slices.Equal(d.Labels, []int{0, 2, 1}) || d.Classes != 3 || d.Targets != nil {
			t.Errorf("%s: got %+v", name, d)
		}
	}
	// Integral float labels are labels; 2-D y is targets.
	p := writeNPZ(t, "fl.npz", map[string]any{"x.npy": [2][1]float64{{1}, {2}}, "y.npy": []float32{1, 0}})
	if d, err := LoadNPZ(p); err != nil || !slices.Equal(d.Labels, []int{1, 0}) {
		t.Errorf("float labels: %v %v", d, err)
	}
	p = writeNPZ(t, "reg.npz", map[string]any{"x.npy": [2][1]float64{{1}, {2}}, "y.npy": [2][3]float32{{.5, 1, 2}, {3, 4, 5}}})
	if d, err := LoadNPZ(p); err != nil || d.C != 3 || d.Labels != nil || !slices.Equal(d.Targets, []float64{.5, 1, 2, 3, 4, 5}) {
		t.Errorf("targets: %+v %v", d, err)
	}
}

func TestNPZErrors(t *testing.T) {
	x := [3][2]float64{{1, 2}, {3, 4}, {5, 6}}
	nan := x
	nan[2][1] = math.NaN()
	for _, c := range []struct {
		name   string
		arrays map[string]any
		want   []string // substrings of the error
	}{
		{"missing-y", map[string]any{"x.npy": x, "labels.npy": []int64{0, 1, 2}}, []string{`no array "y"`, "arrays present: labels, x"}},
		{"missing-x", map[string]any{"y.npy": []int64{0, 1, 2}}, []string{`no array "x"`, "arrays present: y"}},
		{"nan-x", map[string]any{"x.npy": nan, "y.npy": []int64{0, 1, 2}}, []string{`array "x"`, "NaN at row 2, column 1"}},
		{"nan-y", map[string]any{"x.npy": x, "y.npy": [3][1]float64{{0}, {math.Inf(1)}, {1}}}, []string{`array "y"`, "+Inf at row 1, column 0"}},
		{"wrong-n", map[string]any{"x.npy": x, "y.npy": []int64{0, 1}}, []string{`array "y"`, "2 rows, but x has 3"}},
		{"3d-y", map[string]any{"x.npy": x, "y.npy": [3][1][1]float64{}}, []string{`array "y"`, "shape (3, 1, 1)", "want [N] labels or [N, C] targets"}},
		{"negative", map[string]any{"x.npy": x, "y.npy": []int64{0, -1, 2}}, []string{`array "y"`, "negative label -1 at row 1"}},
		{"fractional", map[string]any{"x.npy": x, "y.npy": []float64{0, 1.5, 2}}, []string{`array "y"`, "non-integral value 1.5 at row 1"}},
		{"1d-x", map[string]any{"x.npy": []float64{1, 2, 3}, "y.npy": []int64{0, 1, 2}}, []string{`array "x"`, "shape (3,)"}},
		{"complex", map[string]any{"x.npy": []complex128{1, 2, 3}, "y.npy": []int64{0, 1, 2}}, []string{`array "x"`, `unsupported dtype "<c16"`}},
	} {
		p := writeNPZ(t, c.name+".npz", c.arrays)
		_, err := LoadNPZ(p)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range append(c.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
	// Not a zip at all.
	p := writeFile(t, filepath.Join(t.TempDir(), "junk.npz"), []byte("hello"))
	if _, err := LoadNPZ(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "not an NPZ") {
		t.Errorf("junk: %v", err)
	}
	// A label beyond a stated range.
	d, err := LoadNPZ(writeNPZ(t, "ok.npz", map[string]any{"x.npy": x, "y.npy": []int64{0, 4, 2}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetClasses(3); err == nil || !strings.Contains(err.Error(), "label 4 at row 1 outside the stated range [0, 3)") || !strings.Contains(err.Error(), "ok.npz") {
		t.Errorf("SetClasses(3): %v", err)
	}
	if err := d.SetClasses(10); err != nil || d.Classes != 10 {
		t.Errorf("SetClasses(10): %v, Classes=%d", err, d.Classes)
	}
}

func TestNPYFortranAndPair(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := npyio.Write(&buf, [2][3]float64{{1, 2, 3}, {4, 5, 6}}); err != nil {
		t.Fatal(err)
	}
	xp := writeFile(t, filepath.Join(dir, "X_train.npy"), buf.Bytes())
	buf.Reset()
	if err := npyio.Write(&buf, []uint8{1, 0}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "y_train.npy"), buf.Bytes())
	d, err := Load(xp, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X, []float64{1, 2, 3, 4, 5, 6}) || !slices.Equal(d.Labels, []int{1, 0}) {
		t.Errorf("npy pair: %+v", d)
	}
	// Fortran order: the same matrix stored column by column.
	a := &array{shape: []int{2, 3}}
	if got := fortranToC([]float64{1, 4, 2, 5, 3, 6}, a.shape); !slices.Equal(got, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("fortranToC = %v", got)
	}
	if got := fortranToC([]float64{0, 4, 2, 6, 1, 5, 3, 7}, []int{2, 2, 2}); !slices.Equal(got, []float64{0, 1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("fortranToC 3-D = %v", got)
	}
	if _, err := Load(filepath.Join(dir, "y_train.npy"), ""); err == nil || !strings.Contains(err.Error(), "y_train.npy") {
		t.Errorf("npy without an x name: %v", err)
	}
}

func TestHalf(t *testing.T) {
	for h, want := range map[uint16]float64{0x3c00: 1, 0xc000: -2, 0x3555: 0.333251953125, 0x0001: math.Ldexp(1, -24), 0x7c00: math.Inf(1)} {
		if got := half.Float16(h); got != want {
			t.Errorf("Float16(%#x) = %v, want %v", h, got, want)
		}
	}
	if !math.IsNaN(half.Float16(0x7e00)) {
		t.Error("0x7e00 is not NaN")
	}
}

func TestSaveNPZRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cls, err := GaussianClasses(30, 4, 3, 2, 7)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := TeacherStudent(20, 5, 2, 8, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dataset{cls, reg} {
		p := filepath.Join(dir, d.Name+".npz")
		if err := SaveNPZ(p, d); err != nil {
			t.Fatal(err)
		}
		got, err := Load(p, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.N != d.N || got.D != d.D || !slices.Equal(got.X, d.X) || !slices.Equal(got.Labels, d.Labels) ||
			got.Classes != d.Classes || !slices.Equal(got.Targets, d.Targets) || got.C != d.C {
			t.Errorf("%s: round trip differs", d.Name)
		}
	}
	// Nothing but the two files is left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("%d files in the folder after saving two", len(ents))
	}
	// A failed save leaves no temporary file.
	bad := cls.Clone()
	bad.Labels[0] = 7
	if err := SaveNPZ(filepath.Join(dir, "bad.npz"), bad); err == nil {
		t.Error("saved a dataset with a label outside [0, Classes)")
	}
	if err := SaveNPZ(filepath.Join(dir, "missing", "x.npz"), cls); err == nil {
		t.Error("saved into a missing folder")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files after failed saves", len(ents))
	}
}

func TestIDXFixtures(t *testing.T) {
	dir := t.TempDir()
	pix := []byte{0, 255, 51, 102, 0, 0, 0, 0} // 2 images of 2×2
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz(t, idxBytes(idxImagesMagic, []uint32{2, 2, 2}, pix)))
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(idxLabelsMagic, []uint32{2}, []byte{4, 1}))
	writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), idxBytes(idxImagesMagic, []uint32{1, 2, 2}, pix[:4]))
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), idxBytes(idxLabelsMagic, []uint32{1}, []byte{0}))
	d, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	// Train is preferred when its images are there.
	if d.N != 2 || d.D != 4 || !slices.Equal(d.X[:4], []float64{0, 1, 0.2, 0.4}) || !slices.Equal(d.Labels, []int{4, 1}) || d.Classes != 5 {
		t.Errorf("got %+v", d)
	}
	// Truncated payload and wrong magic name the file.
	short := writeFile(t, filepath.Join(dir, "short"), idxBytes(idxImagesMagic, []uint32{3, 2, 2}, pix))
	if _, err := LoadIDX(short, filepath.Join(dir, "train-labels-idx1-ubyte")); err == nil || !strings.Contains(err.Error(), short) || !strings.Contains(err.Error(), "promises 12 bytes") {
		t.Errorf("truncated: %v", err)
	}
	if _, err := LoadIDX(filepath.Join(dir, "train-labels-idx1-ubyte"), filepath.Join(dir, "train-labels-idx1-ubyte")); err == nil || !strings.Contains(err.Error(), "magic number 0x00000801, want 0x00000803") {
		t.Errorf("labels as images: %v", err)
	}
	// Detection by magic: an images file without a telling extension.
	if got, err := detectFile(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil || got != FormatIDX {
		t.Errorf("detectFile = %q, %v", got, err)
	}
}

func TestCIFARFixtures(t *testing.T) {
	dir := t.TempDir()
	rec := make([]byte, cifarRecord)
	rec[0] = 7
	rec[1] = 255      // R(0,0)
	rec[1+1024] = 51  // G(0,0)
	rec[1+2048+5] = 1 // B(0,5)
	writeFile(t, filepath.Join(dir, "data_batch_1.bin"), rec)
	rec2 := slices.Clone(rec)
	rec2[0] = 2
	writeFile(t, filepath.Join(dir, "data_batch_2.bin"), gz(t, rec2))
	writeFile(t, filepath.Join(dir, "test_batch.bin"), rec)
	d, err := Load(dir, "cifar10")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 2 || !slices.Equal(d.Labels, []int{7, 2}) || d.X[0] != 1 || d.X[1024] != 0.2 || d.X[2048+5] != 1.0/255 {
		t.Errorf("got N=%d labels %v", d.N, d.Labels)
	}
	trunc := writeFile(t, filepath.Join(dir, "x_batch_9.bin"), append(slices.Clone(rec), rec[:100]...))
	if _, err := LoadCIFAR(trunc); err == nil || !strings.Contains(err.Error(), trunc) || !strings.Contains(err.Error(), "truncated CIFAR record 1") {
		t.Errorf("truncated: %v", err)
	}
}

func TestCSVFixtures(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "named.csv"), []byte("a,b,species\n1,2,cat\n3,4,dog\n5,6,cat\n"))
	d, err := LoadCSV(p, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.D != 2 || !slices.Equal(d.Labels, []int{0, 1, 0}) || !slices.Equal(d.ClassNames, []string{"cat", "dog"}) || len(d.Notes) != 1 {
		t.Errorf("named labels: %+v", d)
	}
	// Label first; regression targets; a bad number.
	p = writeFile(t, filepath.Join(dir, "first.csv.gz"), gz(t, []byte("2,1.5,3\n0,2.5,4\n")))
	if d, err := Load(p, ""); err == nil { // last column 3, 4 → labels; fine
		if !slices.Equal(d.Labels, []int{3, 4}) {
			t.Errorf("default label column: %v", d.Labels)
		}
	} else {
		t.Error(err)
	}
	if d, err := LoadCSV(p, CSVOptions{LabelColumn: 1}); err != nil || !slices.Equal(d.Labels, []int{2, 0}) || !slices.Equal(d.X, []float64{1.5, 3, 2.5, 4}) {
		t.Errorf("LabelColumn 1: %+v %v", d, err)
	}
	if d, err := LoadCSV(p, CSVOptions{LabelColumn: -3}); err != nil || !slices.Equal(d.Labels, []int{2, 0}) {
		t.Errorf("LabelColumn -3: %+v %v", d, err)
	}
	if d, err := LoadCSV(p, CSVOptions{Targets: 2}); err != nil || d.C != 2 || !slices.Equal(d.Targets, []float64{1.5, 3, 2.5, 4}) || d.Labels != nil {
		t.Errorf("Targets 2: %+v %v", d, err)
	}
	if _, err := LoadCSV(p, CSVOptions{LabelColumn: 2}); err == nil || !strings.Contains(err.Error(), "non-integral label 1.5 at row 0") || !strings.Contains(err.Error(), p) {
		t.Errorf("fractional label: %v", err)
	}
	p = writeFile(t, filepath.Join(dir, "bad.csv"), []byte("1,2,0\n3,x,1\n"))
	if _, err := LoadCSV(p, CSVOptions{}); err == nil || !strings.Contains(err.Error(), `line 2 (row 1), column 2: "x"`) || !strings.Contains(err.Error(), p) {
		t.Errorf("bad number: %v", err)
	}
	p = writeFile(t, filepath.Join(dir, "ragged.csv"), []byte("1,2,0\n3,1\n"))
	if _, err := LoadCSV(p, CSVOptions{Header: HeaderAbsent}); err == nil || !strings.Contains(err.Error(), "line 2 has 2 fields") {
		t.Errorf("ragged: %v", err)
	}
}

func TestLoadUnknown(t *testing.T) {
	p := writeFile(t, filepath.Join(t.TempDir(), "mystery.dat"), []byte("not data at all"))
	if _, err := Load(p, ""); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "supported: npz") {
		t.Errorf("unknown file: %v", err)
	}
	if _, err := Load(p, "parquet"); err == nil || !strings.Contains(err.Error(), `unknown data format "parquet"`) || !strings.Contains(err.Error(), "cifar") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Load(filepath.Dir(p), ""); err == nil || !strings.Contains(err.Error(), "mystery.dat") {
		t.Errorf("empty folder: %v", err)
	}
}
