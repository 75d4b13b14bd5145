package models

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/internal/npytest"
	"github.com/curvprobe/curvprobe/kernels"
)

// A member stored twice in a weights or checkpoint NPZ is refused:
// numpy.load takes the last one, and a reader that took the first would
// load other weights than numpy shows.
func TestDuplicateMember(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	good, _ := savedWeights(t, spec, 4, "w.npz")
	names, data := npytest.Members(t, good)
	for _, dup := range []string{"W0.npy", "b1.npy"} {
		var members []npytest.Member
		for _, n := range names {
			members = append(members, npytest.Member{Name: n, Data: data[n]})
		}
		members = append(members, npytest.Member{Name: dup, Data: data[dup]})
		p := filepath.Join(t.TempDir(), "w.npz")
		if err := os.WriteFile(p, npytest.Zip(false, members...), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadWeights(p, spec)
		npytest.CheckNamed(t, err, "weights "+p, `"`+dup+`"`, "twice")
		_, err = LoadArrays(p)
		npytest.CheckNamed(t, err, p, `"`+dup+`"`, "twice")
	}
}

// The sizes in a zip's central directory are claims: a checkpoint reader
// allocates nothing by them before the data are there.
func TestLoadArraysClaimedSize(t *testing.T) {
	b := npytest.NPY("{'descr': '<f8', 'fortran_order': False, 'shape': (500000000,), }", make([]byte, 16))
	zipped := npytest.ClaimSize(npytest.Zip(true, npytest.Member{Name: "params.npy", Data: b}), 0xfffffff0)
	p := filepath.Join(t.TempDir(), "ckpt.npz")
	if err := os.WriteFile(p, zipped, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if a := npytest.Allocated(func() { _, err = LoadArrays(p) }); a > 64<<20 {
		t.Errorf("LoadArrays of a %d-byte file allocated %d MiB", len(zipped), a>>20)
	}
	npytest.CheckNamed(t, err, p, "array params")
}
