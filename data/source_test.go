package data

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/internal/errtest"
)

// readAll reads every sample of s in batches of size batch (the last one
// partial) through ReadBatch, as a Dataset.
func readAll(t *testing.T, s *Source, batch int) *Dataset {
	t.Helper()
	d := &Dataset{N: s.N, D: s.D, C: s.C, Classes: s.Classes, X: make([]float64, s.N*s.D)}
	if s.Labels != nil {
		d.Labels = make([]int, s.N)
	}
	if s.Targets != nil || s.oneHot {
		d.Targets = make([]float64, s.N*s.C)
	}
	for start := 0; start < s.N; start += batch {
		n := min(batch, s.N-start)
		var l []int
		var tg []float64
		if d.Labels != nil {
			l = d.Labels[start : start+n]
		}
		if d.Targets != nil {
			tg = d.Targets[start*s.C : (start+n)*s.C]
		}
		if err := s.ReadBatch(start, d.X[start*s.D:(start+n)*s.D], l, tg); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// checkSame fails t unless Open and Load of the same path agree: same
// sizes, labels, targets, and features read in batches of 1, 7 and N+3
// (several batches and a partial last one), after Sample, Standardize
// and OneHot as well.
func checkSame(t *testing.T, path, format string, streamed bool) {
	t.Helper()
	d, err := Load(path, format)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, format)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Streamed() != streamed {
		t.Fatalf("%s: Streamed %v, want %v", path, s.Streamed(), streamed)
	}
	if s.Name != d.Name || s.Where != d.Source || !slices.Equal(s.Notes, d.Notes) {
		t.Errorf("%s: name %q where %q notes %q; Load: %q %q %q", path, s.Name, s.Where, s.Notes, d.Name, d.Source, d.Notes)
	}
	for _, b := range []int{1, 7, d.N + 3} {
		if diff := sameData(d, readAll(t, s, b)); diff != "" {
			t.Fatalf("%s in batches of %d: %s", path, b, diff)
		}
	}
	n := max(d.N-4, 1)
	if d.Labels != nil {
		n = d.Classes * slices.Min(d.ClassCounts())
	}
	ds, err := d.Sample(n, 5)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := s.Sample(n, 5)
	if err != nil {
		t.Fatal(err)
	}
	m1, s1 := ds.Standardize()
	m2, s2, err := ss.Standardize()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m1, m2) || !slices.Equal(s1, s2) {
		t.Fatalf("%s: standardisation differs", path)
	}
	if diff := sameData(ds, readAll(t, ss, 3)); diff != "" {
		t.Fatalf("%s: sample of %d, standardised: %s", path, n, diff)
	}
	if l, err := ss.Load(); err != nil || sameData(ds, l) != "" || l.Name != ds.Name || l.Source != ds.Source || !slices.Equal(l.ClassNames, ds.ClassNames) {
		t.Fatalf("%s: Load of a sample, standardised: %v %s", path, err, sameData(ds, l))
	}
	if !streamed {
		if l, err := s.Load(); err != nil || sameData(d, l) != "" {
			t.Fatalf("%s: Load of an in-memory source: %v", path, err)
		}
	}
	if d.Labels != nil {
		k := d.Classes + 1
		if err := ds.SetClasses(k); err != nil {
			t.Fatal(err)
		}
		if err := ss.SetClasses(k); err != nil {
			t.Fatal(err)
		}
		ss.OneHot()
		if diff := sameData(ds.OneHot(), readAll(t, ss, 4)); diff != "" {
			t.Fatalf("%s: one-hot sample: %s", path, diff)
		}
	}
}

// noise returns n bytes from a seeded stream: values that differ from
// sample to sample and feature to feature, so that a read at a wrong
// offset shows.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// TestOpenMatchesLoad: every streamed format (IDX raw and gzip'd, NPY of
// float and integer dtypes with labels or targets, NPZ stored and
// deflated, CIFAR raw and gzip'd over two files) and the in-memory ones
// (CSV, Fortran-ordered NPY, built-in) read the values Load reads, bit for
// bit, in any batching, through subsets and standardisation.
func TestOpenMatchesLoad(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const n, rows, cols = 23, 3, 5
	pix := noise(n*rows*cols, 1)
	labels := noise(n, 2)
	for i := range labels {
		labels[i] %= 4
	}
	im := idxBytes(idxImagesMagic, []uint32{n, rows, cols}, pix)
	lb := idxBytes(idxLabelsMagic, []uint32{n + 2}, append(labels, 1, 2))
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		ip, lp := filepath.Join(dir, "t10k-images-idx3-ubyte"), filepath.Join(dir, "t10k-labels-idx1-ubyte")
		if zip {
			writeFile(t, ip+".gz", gz(t, im))
			writeFile(t, lp+".gz", gz(t, lb))
		} else {
			writeFile(t, ip, im)
			writeFile(t, lp, lb)
		}
		checkSame(t, dir, "", true)
	}

	r := rand.New(rand.NewPCG(3, 4))
	var x32 [n][2][3]float32
	var x64 [n][6]float64
	var xi [n][4]int16
	var y [n]int64
	var tg [n][2]float64
	for i := range n {
		for j := range 6 {
			x32[i][j/3][j%3] = float32(r.NormFloat64())
			x64[i][j] = r.NormFloat64() * 1e3
		}
		for j := range 4 {
			xi[i][j] = int16(r.IntN(2000) - 1000)
		}
		y[i] = int64(r.IntN(3))
		tg[i] = [2]float64{r.Float64(), -r.Float64()}
	}
	for _, c := range []struct {
		x, y any
	}{{x32, y}, {x64, tg}, {xi, y}} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "x.npy"), npyBytes(t, c.x))
		writeFile(t, filepath.Join(dir, "y.npy"), npyBytes(t, c.y))
		checkSame(t, filepath.Join(dir, "x.npy"), "", true)
		for _, m := range []uint16{zip.Store, zip.Deflate} {
			p := filepath.Join(t.TempDir(), "d.npz")
			writeFile(t, p, zipOf(t, m, map[string][]byte{"x.npy": npyBytes(t, c.x), "y.npy": npyBytes(t, c.y)}))
			checkSame(t, p, "", true)
		}
	}

	rec := noise(7*cifarRecord, 6)
	for k := 0; k < 7; k++ {
		rec[k*cifarRecord] %= 10
	}
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		a, b := rec[:3*cifarRecord], rec[3*cifarRecord:]
		if zip {
			a, b = gz(t, a), gz(t, b)
		}
		writeFile(t, filepath.Join(dir, "data_batch_1.bin"), a)
		writeFile(t, filepath.Join(dir, "data_batch_2.bin"), b)
		checkSame(t, dir, "", true)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "d.csv"), []byte("a,b,label\n1,2,0\n3,4.5,1\n-1,0,1\n"))
	checkSame(t, filepath.Join(dir, "d.csv"), "", false)
	checkSame(t, "builtin:digits", "", false)
	fdir := t.TempDir()
	writeFile(t, filepath.Join(fdir, "x.npy"), npySeeds(t)[4][0])
	writeFile(t, filepath.Join(fdir, "y.npy"), npySeeds(t)[4][1])
	checkSame(t, filepath.Join(fdir, "x.npy"), "", false)

	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// zipOf returns a zip archive of the members, stored or deflated.
func zipOf(t *testing.T, method uint16, members map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(members[name])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestOpenRealMNIST: the MNIST test set as the repository's users have it
// (gzip'd IDX), opened, gives Load's values.
func TestOpenRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 10,000 images")
	}
	t.Setenv("TMPDIR", t.TempDir())
	checkSame(t, shared(t, "mnist"), "", true)
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestOpenErrorsMatchLoad: what Load refuses, Open refuses with the same
// error, naming the file, array, row and column; a failed Open leaves no
// temporary file behind.
func TestOpenErrorsMatchLoad(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	im := idxBytes(idxImagesMagic, []uint32{4, 2, 2}, noise(16, 1))
	lb := idxBytes(idxLabelsMagic, []uint32{4}, []byte{1, 0, 2, 1})
	nan := [3][2]float64{{1, 2}, {3, math.NaN()}, {5, 6}}
	rec := noise(2*cifarRecord, 3)
	rec[0], rec[cifarRecord] = 1, 12
	corruptGz := gz(t, im)
	corruptGz[len(corruptGz)-5] ^= 0xff // the CRC
	cases := []struct {
		name  string
		files map[string][]byte
		open  string
		want  []string
	}{
		{"idx truncated", map[string][]byte{"t10k-images-idx3-ubyte": im[:25], "t10k-labels-idx1-ubyte": lb}, "", []string{"t10k-images", "promises 16 bytes"}},
		{"idx gz truncated", map[string][]byte{"t10k-images-idx3-ubyte.gz": gz(t, im[:25]), "t10k-labels-idx1-ubyte": lb}, "", []string{"t10k-images", "promises 16 bytes"}},
		{"idx gz corrupt", map[string][]byte{"t10k-images-idx3-ubyte.gz": corruptGz, "t10k-labels-idx1-ubyte": lb}, "", []string{"t10k-images", "gzip"}},
		{"idx few labels", map[string][]byte{"t10k-images-idx3-ubyte": im, "t10k-labels-idx1-ubyte": lb[:10]}, "", []string{"t10k-labels", "labels"}},
		{"npy nan", map[string][]byte{"x.npy": npyBytes(t, nan), "y.npy": npyBytes(t, []int64{0, 1, 0})}, "x.npy", []string{"x.npy", "NaN at row 1, column 1"}},
		{"npy rows", map[string][]byte{"x.npy": npyBytes(t, [3][2]float64{}), "y.npy": npyBytes(t, []int64{0, 1})}, "x.npy", []string{"y.npy", "2 rows"}},
		{"npz nan stored", map[string][]byte{"d.npz": zipOf(t, zip.Store, map[string][]byte{"x.npy": npyBytes(t, nan), "y.npy": npyBytes(t, []int64{0, 1, 0})})}, "d.npz", []string{"d.npz", `array "x"`, "NaN at row 1, column 1"}},
		{"npz nan deflated", map[string][]byte{"d.npz": zipOf(t, zip.Deflate, map[string][]byte{"x.npy": npyBytes(t, nan), "y.npy": npyBytes(t, []int64{0, 1, 0})})}, "d.npz", []string{"d.npz", "NaN at row 1, column 1"}},
		{"npz deflated truncated", map[string][]byte{"d.npz": zipOf(t, zip.Deflate, map[string][]byte{"x.npy": npyBytes(t, nan)[:100], "y.npy": npyBytes(t, []int64{0, 1, 0})})}, "d.npz", []string{"d.npz", `array "x"`}},
		{"npz no y", map[string][]byte{"d.npz": zipOf(t, zip.Store, map[string][]byte{"x.npy": npyBytes(t, [3][2]float64{})})}, "d.npz", []string{"d.npz", `no array "y"`}},
		{"cifar label", map[string][]byte{"data_batch_1.bin": rec}, "", []string{"data_batch_1.bin", "record 1: label 12"}},
		{"cifar truncated", map[string][]byte{"data_batch_1.bin": rec[:cifarRecord+9]}, "", []string{"data_batch_1.bin", "truncated CIFAR record 1"}},
		{"cifar gz label", map[string][]byte{"data_batch_1.bin.gz": gz(t, rec)}, "", []string{"data_batch_1.bin", "record 1: label 12"}},
	}
	for _, c := range cases {
		dir := t.TempDir()
		for name, b := range c.files {
			writeFile(t, filepath.Join(dir, name), b)
		}
		p := filepath.Join(dir, c.open)
		_, lerr := Load(p, "")
		s, oerr := Open(p, "")
		if oerr == nil {
			s.Close()
		}
		if lerr == nil || oerr == nil || lerr.Error() != oerr.Error() {
			t.Errorf("%s: Load: %v\nOpen: %v", c.name, lerr, oerr)
			continue
		}
		errtest.Mentions(t, c.name, oerr, c.want...)
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestOpenFileChanged: a file truncated, rewritten or grown after Open
// makes the next read an error naming the file and wrapping ErrChanged,
// for IDX, NPY and NPZ; a gzip'd file is read from Open's decompressed
// copy, which its later changes do not reach.
func TestOpenFileChanged(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	const n = 10
	im := idxBytes(idxImagesMagic, []uint32{n, 2, 3}, noise(n*6, 8))
	lb := idxBytes(idxLabelsMagic, []uint32{n}, make([]byte, n))
	x := npyBytes(t, [n][3]float64{})
	y := npyBytes(t, make([]int64, n))
	for _, c := range []struct {
		name, file string
		files      map[string][]byte
		open       string
	}{
		{"idx", "t10k-images-idx3-ubyte", map[string][]byte{"t10k-images-idx3-ubyte": im, "t10k-labels-idx1-ubyte": lb}, ""},
		{"npy", "x.npy", map[string][]byte{"x.npy": x, "y.npy": y}, "x.npy"},
		{"npz", "d.npz", map[string][]byte{"d.npz": zipOf(t, zip.Store, map[string][]byte{"x.npy": x, "y.npy": y})}, "d.npz"},
	} {
		for _, change := range []string{"truncate", "rewrite", "grow"} {
			dir := t.TempDir()
			for name, b := range c.files {
				writeFile(t, filepath.Join(dir, name), b)
			}
			s, err := Open(filepath.Join(dir, c.open), "")
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]float64, 4*s.D)
			if err := s.ReadX(buf, 6); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, c.file)
			b := c.files[c.file]
			switch change {
			case "truncate":
				err = os.Truncate(p, int64(len(b)-5))
			case "rewrite":
				err = os.WriteFile(p, b, 0o644)
				if err == nil {
					later := time.Now().Add(time.Minute)
					err = os.Chtimes(p, later, later)
				}
			case "grow":
				err = os.WriteFile(p, append(slices.Clone(b), 0), 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
			err = s.ReadX(buf, 6)
			if !errors.Is(err, ErrChanged) {
				t.Errorf("%s, %s: read after the change: %v, want ErrChanged", c.name, change, err)
			} else {
				errtest.Mentions(t, c.name+", "+change, err, p)
			}
			s.Close()
		}
	}

	dir := t.TempDir()
	ip := writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gz(t, im))
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), lb)
	s, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := os.Truncate(ip, 10); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s, 3)
	for i, p := range im[16:] {
		if got.X[i] != float64(p)/255 {
			t.Fatalf("gzip'd file truncated after Open: x[%d] = %v, want %v", i, got.X[i], float64(p)/255)
		}
	}
}

// FuzzOpen: Open agrees with Load on any files: an IDX pair, an x.npy and
// y.npy pair, an NPZ archive or a CIFAR batch (kind), each gzip'd or
// deflated where the format allows. Both succeed or both fail; a failure
// of Open names a file and, but for NPZ (whose stored members Open reads
// from the archive's offsets, not through the zip reader), has Load's
// text; a success reads Load's values in batches of any size; no
// temporary file is left behind.
func FuzzOpen(f *testing.F) {
	im := idxBytes(idxImagesMagic, []uint32{3, 2, 2}, []byte{0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	lb := idxBytes(idxLabelsMagic, []uint32{4}, []byte{1, 0, 9, 3})
	f.Add(byte(0), im, lb)
	f.Add(byte(0), gz(f, im), lb)
	f.Add(byte(0), im[:20], lb)
	f.Add(byte(0), gz(f, im[:20]), lb)
	for _, s := range npySeeds(f) {
		f.Add(byte(1), s[0], s[1])
	}
	x, y := npyBytes(f, [3][2]float64{{1, 2}, {3, 4}, {5, 6}}), npyBytes(f, []int64{0, 2, 1})
	var buf bytes.Buffer
	for _, m := range []uint16{zip.Store, zip.Deflate} {
		buf.Reset()
		w := zip.NewWriter(&buf)
		for name, b := range map[string][]byte{"x.npy": x, "y.npy": y} {
			fw, _ := w.CreateHeader(&zip.FileHeader{Name: name, Method: m})
			fw.Write(b)
		}
		w.Close()
		f.Add(byte(2), slices.Clone(buf.Bytes()), []byte(nil))
	}
	rec := noise(2*cifarRecord, 4)
	rec[0], rec[cifarRecord] = 3, 9
	f.Add(byte(3), rec, []byte(nil))
	f.Add(byte(3), gz(f, rec), []byte(nil))
	f.Add(byte(3), rec[:cifarRecord+5], []byte(nil))
	f.Fuzz(func(t *testing.T, kind byte, a, b []byte) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		dir := t.TempDir()
		var path string
		var files []string
		switch kind % 4 {
		case 0:
			files = []string{writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), a), writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), b)}
			path = dir
		case 1:
			files = []string{writeFile(t, filepath.Join(dir, "x.npy"), a), writeFile(t, filepath.Join(dir, "y.npy"), b)}
			path = files[0]
		case 2:
			files = []string{writeFile(t, filepath.Join(dir, "d.npz"), a)}
			path = files[0]
		case 3:
			files = []string{writeFile(t, filepath.Join(dir, "data_batch_1.bin"), a)}
			path = files[0]
		}
		d, lerr := Load(path, "")
		s, oerr := Open(path, "")
		switch {
		case (lerr == nil) != (oerr == nil):
			t.Fatalf("Load: %v; Open: %v", lerr, oerr)
		case oerr != nil:
			if kind%4 != 2 && lerr.Error() != oerr.Error() {
				t.Fatalf("Load: %v\nOpen: %v", lerr, oerr)
			}
			named := false
			for _, p := range files {
				named = named || strings.Contains(oerr.Error(), p)
			}
			if !named {
				t.Fatalf("Open: %v names none of %q", oerr, files)
			}
		default:
			if diff := sameData(d, readAll(t, s, 1+len(a)%5)); diff != "" {
				t.Fatalf("Open read other values than Load: %s", diff)
			}
			s.Close()
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temporary files left behind: %v", left)
		}
	})
}

// TestSourceView: a Source over a Dataset in memory hands out views of its
// samples (the dataset's own storage) holding what ReadBatch reads, labels
// and targets (or their one-hot encoding) included; one that is sampled,
// standardised or read from a file gives none, so that it is read with
// ReadBatch.
func TestSourceView(t *testing.T) {
	d := &Dataset{Name: "v", N: 7, D: 3, Classes: 3, C: 2, X: make([]float64, 21), Labels: []int{0, 1, 2, 0, 1, 2, 0}, Targets: make([]float64, 14)}
	r := rand.New(rand.NewPCG(5, 5))
	for i := range d.X {
		d.X[i] = r.NormFloat64()
	}
	for i := range d.Targets {
		d.Targets[i] = r.NormFloat64()
	}
	s := FromDataset(d)
	for _, c := range [][2]int{{0, 7}, {2, 4}, {6, 1}, {3, 0}} {
		start, n := c[0], c[1]
		x, l, tg, ok := s.View(start, n)
		if !ok {
			t.Fatalf("View(%d, %d) of a dataset in memory: not ok", start, n)
		}
		wx, wl, wt := make([]float64, n*3), make([]int, n), make([]float64, n*2)
		if err := s.ReadBatch(start, wx, wl, wt); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x, wx) || !slices.Equal(l, wl) || !slices.Equal(tg, wt) {
			t.Errorf("View(%d, %d) = %v %v %v, ReadBatch %v %v %v", start, n, x, l, tg, wx, wl, wt)
		}
		if n > 0 && &x[0] != &d.X[start*3] {
			t.Errorf("View(%d, %d): a copy, not a view of the dataset", start, n)
		}
	}
	unlabelled := FromDataset(&Dataset{N: 2, D: 1, C: 1, X: []float64{1, 2}, Targets: []float64{3, 4}})
	if _, l, tg, ok := unlabelled.View(0, 2); !ok || l != nil || !slices.Equal(tg, []float64{3, 4}) {
		t.Errorf("View without labels: labels %v, targets %v, ok %v", l, tg, ok)
	}

	sub, err := s.Sample(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	std := FromDataset(d.Clone())
	if _, _, err := std.Standardize(); err != nil {
		t.Fatal(err)
	}
	oh := FromDataset(&Dataset{N: 3, D: 1, Classes: 3, X: []float64{1, 2, 3}, Labels: []int{2, 0, 1}})
	oh.OneHot()
	wt := make([]float64, 6)
	if err := oh.ReadBatch(1, make([]float64, 2), nil, wt); err != nil {
		t.Fatal(err)
	}
	if x, l, tg, ok := oh.View(1, 2); !ok || !slices.Equal(x, []float64{2, 3}) || !slices.Equal(l, []int{0, 1}) || !slices.Equal(tg, wt) || !slices.Equal(wt, []float64{1, 0, 0, 0, 1, 0}) {
		t.Errorf("View of one-hot labels: %v %v %v, ok %v; ReadBatch's targets %v", x, l, tg, ok, wt)
	}
	path := filepath.Join(t.TempDir(), "v.npz")
	if err := SaveNPZ(path, d); err != nil {
		t.Fatal(err)
	}
	file, err := Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if !file.Streamed() {
		t.Fatal("NPZ read into memory")
	}
	for name, src := range map[string]*Source{"sampled": sub, "standardised": std, "read from a file": file} {
		if x, _, _, ok := src.View(0, 1); ok || x != nil {
			t.Errorf("%s: View gave %v, ok %v; want none", name, x, ok)
		}
	}
}
