package data

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/npytest"
)

// f8 returns the .npy header dictionary of a C-order float64 array.
func f8(shape string) string {
	return fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': %s, }", shape)
}

func i8Labels(n int) []byte {
	return npytest.NPY(fmt.Sprintf("{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }", n), make([]byte, 8*n))
}

// maxAlloc bounds what loading a file of a few hundred bytes may allocate:
// buffers of a few MiB at most, nothing sized by a header's claims.
const maxAlloc = 64 << 20

// A member stored twice in an NPZ is refused: numpy.load takes the last one,
// a reader that took the first would train on other data than numpy shows.
func TestLoadNPZDuplicateMember(t *testing.T) {
	x := npytest.NPY(f8("(2, 1)"), make([]byte, 16))
	y := i8Labels(2)
	for _, c := range []struct {
		name    string
		members []npytest.Member
		want    []string
	}{
		{"x twice", []npytest.Member{{Name: "x.npy", Data: x}, {Name: "y.npy", Data: y}, {Name: "x.npy", Data: x}}, []string{`array "x"`, `"x.npy"`, "twice"}},
		{"y twice", []npytest.Member{{Name: "y.npy", Data: y}, {Name: "x.npy", Data: x}, {Name: "y.npy", Data: y}}, []string{`array "y"`, `"y.npy"`, "twice"}},
		{"x and x.npy", []npytest.Member{{Name: "x", Data: x}, {Name: "y.npy", Data: y}, {Name: "x.npy", Data: x}}, []string{`array "x"`, `"x.npy"`, `"x"`}},
		{"unused twice", []npytest.Member{{Name: "x.npy", Data: x}, {Name: "y.npy", Data: y}, {Name: "z.npy", Data: x}, {Name: "z.npy", Data: x}}, []string{`array "z"`, "twice"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "d.npz"), npytest.Zip(false, c.members...))
			_, err := LoadNPZ(p)
			npytest.CheckNamed(t, err, append(c.want, p)...)
		})
	}
}

// A zero-sized dimension holds no data: it is reported as what it is, not
// as a shape larger than the file.
func TestZeroSizedDimension(t *testing.T) {
	for _, c := range []struct {
		shape, want string
		n           int
	}{
		{"(200, 0)", "no features", 200},
		{"(200, 3, 0)", "no features", 200},
		{"(0, 5)", "no samples", 0},
	} {
		t.Run(c.shape, func(t *testing.T) {
			x := npytest.NPY(f8(c.shape), nil)
			p := writeFile(t, filepath.Join(t.TempDir(), "d.npz"), npytest.Zip(false, npytest.Member{Name: "x.npy", Data: x}, npytest.Member{Name: "y.npy", Data: i8Labels(c.n)}))
			_, err := LoadNPZ(p)
			npytest.CheckNamed(t, err, p, `array "x"`, "shape "+c.shape, c.want)
			if err != nil && strings.Contains(err.Error(), "larger than the file") {
				t.Errorf("error %q blames the file's size", err)
			}
			dir := t.TempDir()
			xp := writeFile(t, filepath.Join(dir, "x.npy"), x)
			_, err = LoadNPY(xp, writeFile(t, filepath.Join(dir, "y.npy"), i8Labels(c.n)))
			npytest.CheckNamed(t, err, xp, "shape "+c.shape, c.want)
		})
	}
}

// The sizes in a zip's central directory and in a .npy header are claims:
// nothing is allocated by them before the data are there.
func TestClaimedSizesAllocateNothing(t *testing.T) {
	x := npytest.NPY(f8("(250000000, 2)"), make([]byte, 16)) // claims 4 GB
	zipped := npytest.ClaimSize(npytest.Zip(true, npytest.Member{Name: "x.npy", Data: x}, npytest.Member{Name: "y.npy", Data: i8Labels(2)}), 0xfffffff0)
	p := writeFile(t, filepath.Join(t.TempDir(), "d.npz"), zipped)
	var err error
	if a := npytest.Allocated(func() { _, err = LoadNPZ(p) }); a > maxAlloc {
		t.Errorf("LoadNPZ of a %d-byte file allocated %d MiB", len(zipped), a>>20)
	}
	npytest.CheckNamed(t, err, p, `array "x"`)

	// A plain .npy file claiming 1e12 elements.
	dir := t.TempDir()
	xp := writeFile(t, filepath.Join(dir, "x.npy"), npytest.NPY(f8("(1000000, 1000000)"), make([]byte, 16)))
	yp := writeFile(t, filepath.Join(dir, "y.npy"), i8Labels(2))
	if a := npytest.Allocated(func() { _, err = LoadNPY(xp, yp) }); a > maxAlloc {
		t.Errorf("LoadNPY allocated %d MiB", a>>20)
	}
	npytest.CheckNamed(t, err, xp, "larger than the file")

	// IDX headers claiming 2 GiB of pixels, raw and gzip'd.
	for _, z := range []bool{false, true} {
		b := idxBytes(idxImagesMagic, []uint32{2048, 1024, 1024}, make([]byte, 64))
		if z {
			b = gz(t, b)
		}
		im := writeFile(t, filepath.Join(t.TempDir(), "t10k-images-idx3-ubyte"), b)
		lb := writeIDXLabels(t, make([]byte, 4))
		if a := npytest.Allocated(func() { _, err = LoadIDX(im, lb) }); a > maxAlloc {
			t.Errorf("LoadIDX (gzip %v) allocated %d MiB", z, a>>20)
		}
		npytest.CheckNamed(t, err, im, "IDX header promises")
	}
}
