package data

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/curvprobe/curvprobe/internal/npytest"
)

// Properties every fuzz target here checks: a loader never panics (the
// fuzzer reports one); an error names the file (and the array, for NPZ
// members); a dataset it returns is consistent (checkDataset) and, for
// formats curvprobe writes (NPZ) or whose bytes follow from the dataset
// (IDX, CIFAR, CSV), written back and read again gives the same values.
// The loaders of formats with sizes in headers (NPY, NPZ, IDX) allocate no
// more than npytest.AllocBound of their input's length: nothing by a size a
// header or zip directory claims. The seeds hold such claims.

// checkDataset checks that d is consistent: sizes match the data, values
// are finite, labels lie in [0, Classes).
func checkDataset(t *testing.T, d *Dataset) {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatalf("loaded an inconsistent dataset: %v", err)
	}
	if d.N <= 0 || d.D <= 0 {
		t.Fatalf("loaded an empty dataset: N=%d D=%d", d.N, d.D)
	}
	if (d.Labels == nil) == (d.Targets == nil) {
		t.Fatalf("labels %v and targets %v", d.Labels != nil, d.Targets != nil)
	}
	if d.Labels != nil && d.Classes > maxClasses {
		t.Fatalf("%d classes, over the limit %d", d.Classes, maxClasses)
	}
}

// sameData reports how d and e differ in their samples, or "".
func sameData(d, e *Dataset) string {
	switch {
	case d.N != e.N || d.D != e.D || d.C != e.C:
		return fmt.Sprintf("N, D, C = %d, %d, %d then %d, %d, %d", d.N, d.D, d.C, e.N, e.D, e.C)
	case !slices.Equal(d.X, e.X):
		return "x differs"
	case !slices.Equal(d.Labels, e.Labels) || d.Classes != e.Classes:
		return fmt.Sprintf("labels differ (classes %d then %d)", d.Classes, e.Classes)
	case !slices.Equal(d.Targets, e.Targets):
		return "targets differ"
	}
	return ""
}

// npyBytes encodes v as a .npy file.
func npyBytes(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	if err := npyio.Write(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// npySeeds returns valid (x, y) .npy pairs of several dtypes and shapes,
// and the regression cases of issue 10 (zero-sized x, a header claiming
// 1e12 elements).
func npySeeds(t testing.TB) [][2][]byte {
	y3 := npyBytes(t, []int64{0, 2, 1})
	return [][2][]byte{
		{npyBytes(t, [3][2]float64{{1, 2}, {3, 4}, {5, 6}}), y3},
		{npyBytes(t, [3][2]float32{{1, -2}, {3, 0.5}, {5, 6}}), npyBytes(t, []uint8{1, 1, 0})},
		{npyBytes(t, [3][1][2]uint8{{{1, 2}}, {{3, 4}}, {{5, 6}}}), npyBytes(t, []float64{0, 1, 0})},
		{npyBytes(t, [2][2]int16{{1, -2}, {3, 4}}), npyBytes(t, [2][2]float64{{0.5, 1}, {2, 3}})},
		{npytest.WithDict(npyBytes(t, [3][2]float64{{1, 2}, {3, 4}, {5, 6}}), "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }"), y3},
		{npytest.NPY("{'descr': '<f2', 'fortran_order': False, 'shape': (3, 1), }", []byte{0, 0x3c, 0, 0xc0, 0xff, 0x7b}), y3},
		{npytest.NPY("{'descr': '>i4', 'fortran_order': False, 'shape': (3, 1), }", []byte{0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff}), y3},
		{npytest.NPY("{'descr': '<f8', 'fortran_order': False, 'shape': (200, 0), }", nil), npyBytes(t, make([]int64, 200))},
		{npytest.NPY("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", make([]byte, 16)), y3},
	}
}

// fuzzLoad runs load (called name), whose files, paths, hold n bytes
// together. It fails t when load allocates more than npytest.AllocBound(n)
// or returns an error that names none of paths; it returns the dataset, nil
// after an error.
func fuzzLoad(t *testing.T, name string, n int, load func() (*Dataset, error), paths ...string) *Dataset {
	t.Helper()
	var d *Dataset
	var err error
	if a := npytest.Allocated(func() { d, err = load() }); a > npytest.AllocBound(n) {
		t.Fatalf("%s of %d bytes allocated %d MiB", name, n, a>>20)
	}
	if err != nil {
		for _, p := range paths {
			if strings.Contains(err.Error(), p) {
				return nil
			}
		}
		t.Fatalf("error %q names none of %q", err, paths)
	}
	return d
}

// FuzzLoadNPY: LoadNPY of an x.npy and a y.npy.
func FuzzLoadNPY(f *testing.F) {
	for _, s := range npySeeds(f) {
		f.Add(s[0], s[1])
		for _, c := range npytest.Corruptions {
			f.Add(c.F(s[0]), s[1])
		}
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		dir := t.TempDir()
		xp := writeFile(t, filepath.Join(dir, "x.npy"), x)
		yp := writeFile(t, filepath.Join(dir, "y.npy"), y)
		d := fuzzLoad(t, "LoadNPY", len(x)+len(y), func() (*Dataset, error) { return LoadNPY(xp, yp) }, xp, yp)
		if d == nil {
			return
		}
		checkDataset(t, d)
		checkNPZRoundTrip(t, d)
	})
}

// checkNPZRoundTrip saves d with SaveNPZ and checks LoadNPZ reads it back.
func checkNPZRoundTrip(t *testing.T, d *Dataset) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rt.npz")
	if err := SaveNPZ(p, d); err != nil {
		t.Fatalf("SaveNPZ of a loaded dataset: %v", err)
	}
	e, err := LoadNPZ(p)
	if err != nil {
		t.Fatalf("LoadNPZ of SaveNPZ's file: %v", err)
	}
	if diff := sameData(d, e); diff != "" {
		t.Fatalf("NPZ round trip: %s", diff)
	}
}

// FuzzLoadNPZ: LoadNPZ of an archive of members x.npy and y.npy, stored or
// deflated, one of them written twice when dup is 1 or 2.
func FuzzLoadNPZ(f *testing.F) {
	for _, s := range npySeeds(f) {
		f.Add(s[0], s[1], false, uint8(0))
		f.Add(s[0], s[1], true, uint8(1))
		f.Add(s[0], s[1], false, uint8(2))
		for _, c := range npytest.Corruptions {
			f.Add(c.F(s[0]), s[1], true, uint8(0))
			f.Add(s[0], c.F(s[1]), false, uint8(0))
		}
	}
	f.Fuzz(func(t *testing.T, x, y []byte, store bool, dup uint8) {
		members := []npytest.Member{{Name: "x.npy", Data: x}, {Name: "y.npy", Data: y}}
		switch dup % 3 {
		case 1:
			members = append(members, members[0])
		case 2:
			members = append(members, members[1])
		}
		z := npytest.Zip(store, members...)
		p := writeFile(t, filepath.Join(t.TempDir(), "d.npz"), z)
		var d *Dataset
		var err error
		if a := npytest.Allocated(func() { d, err = LoadNPZ(p) }); a > npytest.AllocBound(len(z)) {
			t.Fatalf("LoadNPZ of %d bytes allocated %d MiB", len(z), a>>20)
		}
		if dup%3 != 0 {
			npytest.CheckNamed(t, err, p, "twice", members[2].Name)
			return
		}
		if err != nil {
			// Both arrays are there: every error is about one of them.
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), `array "x"`) && !strings.Contains(err.Error(), `array "y"`) {
				t.Fatalf("error %q does not name the file and the array", err)
			}
			return
		}
		checkDataset(t, d)
		checkNPZRoundTrip(t, d)
	})
}

// FuzzLoadNPZArchive: LoadNPZ of any bytes, so that the zip structure
// itself (directory, sizes, methods, names) is fuzzed.
func FuzzLoadNPZArchive(f *testing.F) {
	for _, s := range npySeeds(f)[:3] {
		z := npytest.Zip(false, npytest.Member{Name: "x.npy", Data: s[0]}, npytest.Member{Name: "y.npy", Data: s[1]})
		f.Add(z)
		f.Add(npytest.Zip(true, npytest.Member{Name: "x.npy", Data: s[0]}, npytest.Member{Name: "y.npy", Data: s[1]}))
		f.Add(npytest.ClaimSize(z, 0xfffffff0))
		f.Add(npytest.Zip(false, npytest.Member{Name: "x.npy", Data: s[0]}, npytest.Member{Name: "y.npy", Data: s[1]}, npytest.Member{Name: "x", Data: s[0]}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := writeFile(t, filepath.Join(t.TempDir(), "d.npz"), b)
		d := fuzzLoad(t, "LoadNPZ", len(b), func() (*Dataset, error) { return LoadNPZ(p) }, p)
		if d == nil {
			return
		}
		checkDataset(t, d)
		checkNPZRoundTrip(t, d)
	})
}

// decompressed returns the bytes of path as the loaders read them.
func decompressed(t *testing.T, path string) []byte {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the loader read %s but it does not decompress: %v", path, err)
	}
	return b
}

// pixels returns the bytes of values v/255 in [0, 1] (X of IDX and CIFAR),
// failing when one is not such a value.
func pixels(t *testing.T, x []float64) []byte {
	out := make([]byte, len(x))
	for i, v := range x {
		p := math.Round(v * 255)
		if p < 0 || p > 255 || p/255 != v {
			t.Fatalf("x[%d] = %v is not a pixel value p/255", i, v)
		}
		out[i] = byte(p)
	}
	return out
}

func labelBytes(t *testing.T, labels []int) []byte {
	out := make([]byte, len(labels))
	for i, l := range labels {
		if l < 0 || l > 255 {
			t.Fatalf("label %d at row %d is not a byte", l, i)
		}
		out[i] = byte(l)
	}
	return out
}

// FuzzLoadIDX: LoadIDX of an images file and a labels file (gzip'd when
// they start with gzip's magic bytes). A loaded dataset holds exactly the
// files' pixels (scaled) and the first N labels.
func FuzzLoadIDX(f *testing.F) {
	im := idxBytes(idxImagesMagic, []uint32{3, 2, 2}, []byte{0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	lb := idxBytes(idxLabelsMagic, []uint32{4}, []byte{1, 0, 9, 3})
	f.Add(im, lb)
	f.Add(gz(f, im), gz(f, lb))
	f.Add(im[:20], lb)
	f.Add(idxBytes(idxImagesMagic, []uint32{2048, 1024, 1024}, make([]byte, 64)), lb)
	f.Add(idxBytes(idxImagesMagic, []uint32{5, 2, 2}, make([]byte, 20)), lb)
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		ip := writeFile(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), images)
		lp := writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), labels)
		d := fuzzLoad(t, "LoadIDX", len(images)+len(labels), func() (*Dataset, error) { return LoadIDX(ip, lp) }, ip, lp)
		if d == nil {
			return
		}
		checkDataset(t, d)
		if d.Classes > 256 {
			t.Fatalf("%d classes from byte labels", d.Classes)
		}
		ib, lb := decompressed(t, ip), decompressed(t, lp)
		be := binary.BigEndian
		if d.N != int(be.Uint32(ib[4:])) || d.D != int(be.Uint32(ib[8:])*be.Uint32(ib[12:])) {
			t.Fatalf("N=%d D=%d from dims %v", d.N, d.D, ib[4:16])
		}
		if len(ib) < 16+len(d.X) || !bytes.Equal(ib[16:16+len(d.X)], pixels(t, d.X)) {
			t.Fatalf("x is not the file's pixels")
		}
		if len(lb) < 8+d.N || !bytes.Equal(lb[8:8+d.N], labelBytes(t, d.Labels)) {
			t.Fatalf("labels are not the file's first %d", d.N)
		}
	})
}

// FuzzLoadCIFAR: LoadCIFAR of one batch file (gzip'd when it starts with
// gzip's magic bytes). A loaded dataset holds exactly the file's records:
// written back as records, it gives the file's bytes.
func FuzzLoadCIFAR(f *testing.F) {
	rec := make([]byte, 2*cifarRecord)
	for i := range rec {
		rec[i] = byte(i * 7)
	}
	rec[0], rec[cifarRecord] = 3, 9
	f.Add(rec)
	f.Add(gz(f, rec))
	f.Add(rec[:cifarRecord+5])
	bad := slices.Clone(rec)
	bad[cifarRecord] = 10
	f.Add(bad)
	f.Fuzz(func(t *testing.T, b []byte) {
		p := writeFile(t, filepath.Join(t.TempDir(), "data_batch_1.bin"), b)
		d, err := LoadCIFAR(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkDataset(t, d)
		if d.D != cifarD || d.Classes != 10 || len(d.ClassNames) != 10 {
			t.Fatalf("D=%d Classes=%d names %v", d.D, d.Classes, d.ClassNames)
		}
		pix, lab := pixels(t, d.X), labelBytes(t, d.Labels)
		var back []byte
		for i := range d.N {
			back = append(back, lab[i])
			back = append(back, pix[i*cifarD:(i+1)*cifarD]...)
		}
		if !bytes.Equal(back, decompressed(t, p)) {
			t.Fatalf("records written back differ from the file")
		}
	})
}

// FuzzLoadCSV: LoadCSV of any text with fuzzed options. A loaded dataset,
// written back as CSV (features, then the label number or targets) and
// read again, gives the same values, labels and number of classes (names
// are numbered in sorted order, each used, so their numbers cover
// [0, Classes)).
func FuzzLoadCSV(f *testing.F) {
	for _, s := range []string{
		"1,2,0\n3,4,1\n5,6,2\n",
		"a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n",
		"150,4,setosa,versicolor\n1,2,3,4,0\n5,6,7,8,1\n",
		"1;2.5;-3e2;1\n4;5;6;0\n",
		"x\ty\tt\n0.5\t1\t2\n1\t2\t3\n",
		"1,2\n3,NaN\n",
		"1,\"2\",3\n\"4\n\",5,6\n",
		"1,2,-1\n",
		"1,2,1e300\n",
		" 1 , 2 , 0x1p-2 \n3,4,5\n",
	} {
		for _, o := range []int8{0, 1, -2} {
			f.Add([]byte(s), o, uint8(0), uint8(0), uint8(0))
		}
		f.Add([]byte(s), int8(0), uint8(1), uint8(0), uint8(1))
		f.Add([]byte(s), int8(0), uint8(2), uint8(2), uint8(2))
	}
	commas := []rune{',', ';', '\t'}
	f.Fuzz(func(t *testing.T, text []byte, labelColumn int8, targets, header, comma uint8) {
		opts := CSVOptions{LabelColumn: int(labelColumn), Targets: int(targets % 4), Header: HeaderMode(header % 3), Comma: commas[int(comma)%len(commas)]}
		p := writeFile(t, filepath.Join(t.TempDir(), "d.csv"), text)
		d, err := LoadCSV(p, opts)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		checkDataset(t, d)
		if d.ClassNames != nil && len(d.ClassNames) != d.Classes {
			t.Fatalf("%d class names for %d classes", len(d.ClassNames), d.Classes)
		}
		// Written back: features, then label numbers or targets, every
		// float in its shortest exact form.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = opts.Comma
		for i := range d.N {
			var rec []string
			for _, v := range d.Row(i) {
				rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
			}
			switch {
			case d.Targets != nil:
				for _, v := range d.Targets[i*d.C : (i+1)*d.C] {
					rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
				}
			default:
				rec = append(rec, strconv.Itoa(d.Labels[i]))
			}
			w.Write(rec)
		}
		w.Flush()
		q := writeFile(t, filepath.Join(t.TempDir(), "back.csv"), buf.Bytes())
		e, err := LoadCSV(q, CSVOptions{Targets: d.C, Header: HeaderAbsent, Comma: opts.Comma})
		if err != nil {
			t.Fatalf("reading back %q: %v", buf.Bytes(), err)
		}
		if diff := sameData(d, e); diff != "" {
			t.Fatalf("CSV round trip of %q: %s", buf.Bytes(), diff)
		}
	})
}
