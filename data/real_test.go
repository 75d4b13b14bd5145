package data

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shared returns the path of a file under the shared data folder, which CI
// checks out as ../shared beside the repository, and skips the test when it
// is missing.
func shared(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared", "data"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data file %s not found (the shared folder must sit beside the repository as ../shared): %v", p, err)
	}
	return p
}

// checkLoaded fails t unless a load returned no error and a valid dataset
// d of n samples of dim features in classes classes.
func checkLoaded(t *testing.T, d *Dataset, err error, n, dim, classes int) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if d.N != n || d.D != dim || d.Classes != classes {
		t.Fatalf("N=%d D=%d Classes=%d, want %d, %d, %d", d.N, d.D, d.Classes, n, dim, classes)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

func checkCounts(t *testing.T, d *Dataset, want []int) {
	t.Helper()
	if got := d.ClassCounts(); !slices.Equal(got, want) {
		t.Errorf("%s: class counts %v, want %v", d.Name, got, want)
	}
}

func checkRange(t *testing.T, d *Dataset, lo, hi float64) {
	t.Helper()
	mn, mx := slices.Min(d.X), slices.Max(d.X)
	if mn != lo || mx != hi {
		t.Errorf("%s: x in [%v, %v], want [%v, %v]", d.Name, mn, mx, lo, hi)
	}
}

func TestMNISTTest(t *testing.T) {
	dir := shared(t, "mnist")
	d, err := LoadIDX(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	checkLoaded(t, d, err, 10000, 784, 10)
	// README: test label counts and pixel values 0..255 (scaled by 1/255).
	checkCounts(t, d, []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009})
	checkRange(t, d, 0, 1)
	if len(d.Notes) != 0 {
		t.Errorf("unexpected notes %q", d.Notes)
	}

	// The folder has train labels but no train images: Load takes t10k.
	dd, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if dd.N != 10000 || !strings.Contains(dd.Source, "t10k-images") || !slices.Equal(dd.X, d.X) || !slices.Equal(dd.Labels, d.Labels) {
		t.Errorf("Load(%s) gave %s with N=%d, want the t10k pair", dir, dd.Source, dd.N)
	}
	// Either half of the pair finds the other.
	dl, err := Load(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), "")
	if err != nil {
		t.Fatal(err)
	}
	if dl.N != 10000 || !slices.Equal(dl.Labels, d.Labels) {
		t.Errorf("Load(labels file) gave N=%d", dl.N)
	}
}

func TestMNISTTrainLabels(t *testing.T) {
	p := shared(t, "mnist", "train-labels-idx1-ubyte.gz")
	dims, lab, err := readIDX(p, idxLabelsMagic)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for _, l := range lab {
		counts[l]++
	}
	if !slices.Equal(dims, []int{60000}) || !slices.Equal(counts, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}) {
		t.Errorf("train labels dims %v counts %v", dims, counts)
	}
	// A labels file is not an images file: the magic is checked.
	if _, _, err := readIDX(p, idxImagesMagic); err == nil || !strings.Contains(err.Error(), "magic") || !strings.Contains(err.Error(), p) {
		t.Errorf("reading labels as images: err = %v", err)
	}
}

func TestFashionMNISTFirst20(t *testing.T) {
	dir := shared(t, "fashion-mnist")
	d, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 20 || d.D != 784 {
		t.Fatalf("N=%d D=%d, want 20, 784", d.N, d.D)
	}
	if len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "first 20 labels") {
		t.Errorf("notes %q, want one saying the first 20 labels were used", d.Notes)
	}
	_, lab, err := readIDX(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), idxLabelsMagic)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if d.Labels[i] != int(lab[i]) {
			t.Errorf("label %d = %d, want %d", i, d.Labels[i], lab[i])
		}
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
	if mn, mx := slices.Min(d.X), slices.Max(d.X); mn < 0 || mx > 1 || mx == 0 {
		t.Errorf("pixels in [%v, %v]", mn, mx)
	}
	// The other way round (more images than labels) is an error.
	_, err = LoadIDX(filepath.Join(dir, "t10k-images-idx3-ubyte-first20"), writeIDXLabels(t, []byte{1, 2, 3}))
	if err == nil || !strings.Contains(err.Error(), "20 images") {
		t.Errorf("20 images, 3 labels: err = %v", err)
	}
}

func TestCIFARBinary(t *testing.T) {
	p := shared(t, "cifar-10", "test_batch_first100.bin")
	d, err := LoadCIFAR(p)
	checkLoaded(t, d, err, 100, 3072, 10)
	if got := d.Labels[:10]; !slices.Equal(got, []int{3, 8, 8, 0, 6, 6, 1, 6, 3, 1}) {
		t.Errorf("first labels %v", got)
	}
	checkCounts(t, d, []int{10, 6, 8, 10, 7, 8, 16, 11, 13, 11})
	// Record 0's red plane (CHW: the first 1024 features) starts so.
	for i, v := range []float64{158, 159, 165, 166, 160, 156, 162, 159, 158} {
		if got := d.X[i]; got != v/255 {
			t.Errorf("record 0 red[%d] = %v (%v/255), want %v/255", i, got, got*255, v)
		}
	}
	if d.ClassNames[3] != "cat" {
		t.Errorf("class 3 is %q", d.ClassNames[3])
	}
	// The folder also holds the NPZ; Load prefers the batches and says so.
	dd, err := Load(filepath.Dir(p), "")
	if err != nil {
		t.Fatal(err)
	}
	if dd.N != 100 || len(dd.Notes) != 1 || !strings.Contains(dd.Notes[0], "cifar10_subset1000_uint8.npz") {
		t.Errorf("Load(folder): N=%d notes %q", dd.N, dd.Notes)
	}
}

func TestCIFARNPZ(t *testing.T) {
	p := shared(t, "cifar-10", "cifar10_subset1000_uint8.npz")
	d, err := Load(p, "")
	checkLoaded(t, d, err, 1000, 3072, 10)
	checkCounts(t, d, slices.Repeat([]int{100}, 10))
	// uint8 pixels are kept as stored.
	checkRange(t, d, 0, 255)
	for _, v := range d.X[:3072] {
		if v != math.Trunc(v) {
			t.Fatalf("non-integral pixel %v", v)
		}
	}
	// Also through the forced format, and a balanced subset of it.
	if _, err := Load(p, "npz"); err != nil {
		t.Error(err)
	}
	s, err := d.ClassBalanced(250, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, s, []int{25, 25, 25, 25, 25, 25, 25, 25, 25, 25})
}

func TestIris(t *testing.T) {
	p := shared(t, "sklearn", "iris.csv")
	d, err := Load(p, "")
	checkLoaded(t, d, err, 150, 4, 3)
	checkCounts(t, d, []int{50, 50, 50})
	if !slices.Equal(d.ClassNames, []string{"setosa", "versicolor", "virginica"}) {
		t.Errorf("class names %q", d.ClassNames)
	}
	if len(d.Notes) != 1 || !strings.Contains(d.Notes[0], "150,4,setosa") {
		t.Errorf("notes %q", d.Notes)
	}
	// README: "Rows 35 and 38" are 1-based (the UCI numbering): 0-based
	// rows 34 and 37 hold the corrected values.
	for _, c := range []struct {
		row  int
		want []float64
	}{
		{0, []float64{5.1, 3.5, 1.4, 0.2}},
		{34, []float64{4.9, 3.1, 1.5, 0.2}},
		{37, []float64{4.9, 3.6, 1.4, 0.1}},
	} {
		if got := d.Row(c.row); !slices.Equal(got, c.want) {
			t.Errorf("row %d = %v, want %v", c.row, got, c.want)
		}
	}
	// The sklearn folder holds two CSV files: Load asks which.
	if _, err := Load(filepath.Dir(p), ""); err == nil || !strings.Contains(err.Error(), "several datasets") {
		t.Errorf("Load(sklearn folder): err = %v", err)
	}
}

func TestDigits(t *testing.T) {
	p := shared(t, "sklearn", "digits.csv.gz")
	d, err := Load(p, "")
	checkLoaded(t, d, err, 1797, 64, 10)
	checkCounts(t, d, []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180})
	checkRange(t, d, 0, 16)
	if len(d.Notes) != 0 {
		t.Errorf("no header expected, notes %q", d.Notes)
	}
	if d.Labels[0] != 0 {
		t.Errorf("row 0 label %d, want 0", d.Labels[0])
	}
}
