package torchfile

import (
	"archive/zip"
	"bytes"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// roundTrip checks the property both fuzz targets share: the tensors of a
// file that opened read (or fail naming the file and the tensor), and
// those read, written back with WriteSafetensors, read again to the same
// names, shapes and bits.
func roundTrip(t *testing.T, f *File, name string) {
	t.Helper()
	var arrays []Array
	for _, x := range f.Tensors {
		if x.Len() > 1<<20 {
			continue // the fuzzer's files are small; a claim this large failed to open
		}
		v, err := x.Floats(nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "tensor "+x.Name) && !strings.Contains(err.Error(), name+": ") {
				t.Fatalf("error %q names neither the file nor the tensor", err)
			}
			continue
		}
		arrays = append(arrays, Array{Name: x.Name, Shape: x.Shape, Values: v})
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, arrays, F64, f.Metadata); err != nil {
		t.Fatal(err)
	}
	g, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "again")
	if err != nil {
		t.Fatalf("our own file does not read: %v", err)
	}
	if len(g.Tensors) != len(arrays) {
		t.Fatalf("%d tensors written, %d read", len(arrays), len(g.Tensors))
	}
	for i, a := range arrays {
		x := g.Tensors[i]
		v, err := x.Floats(nil)
		if err != nil || x.Name != a.Name || !slices.Equal(x.Shape, a.Shape) || len(v) != len(a.Values) {
			t.Fatalf("tensor %q %v: read back %q %v, %v", a.Name, a.Shape, x.Name, x.Shape, err)
		}
		for j := range v {
			if math.Float64bits(v[j]) != math.Float64bits(a.Values[j]) {
				t.Fatalf("tensor %q element %d: %v written, %v read", a.Name, j, a.Values[j], v[j])
			}
		}
	}
}

// FuzzSafetensors: any input opens, or fails with an error that names the
// file; a file that opens round-trips (roundTrip).
func FuzzSafetensors(f *testing.F) {
	var buf bytes.Buffer
	WriteSafetensors(&buf, []Array{{Name: "0.weight", Shape: []int{2, 3}, Values: []float64{1, 2, 3, 4, 5, 6}}, {Name: "0.bias", Shape: []int{2}, Values: []float64{-1, 1}}}, F32, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add(stFile(`{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}`, le(uint16(0x3c00), uint16(0x7c00), uint16(0x3fc0))))
	f.Add(stFile(`{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"s":{"dtype":"F64","shape":[],"data_offsets":[8,16]}}`, make([]byte, 16)))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 5)))
	f.Fuzz(func(t *testing.T, b []byte) {
		tf, err := OpenReader(bytes.NewReader(b), int64(len(b)), "fuzz.safetensors")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.safetensors: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		roundTrip(t, tf, "fuzz.safetensors")
	})
}

// FuzzTorchPickle fuzzes data.pkl of a torch.save archive whose storages
// are those of testdata/views.pt: the unpickler and the view checks. Any
// program opens, or fails with an error that names the file; an archive
// that opens round-trips (roundTrip).
func FuzzTorchPickle(f *testing.F) {
	storages, seeds := fixtureRecords(f, "testdata/views.pt", "testdata/views_proto4.pt", "testdata/seq.pt")
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(pklTensor(4, 0, "K\x02K\x02\x86", "K\x01K\x02\x86")))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "a/data.pkl", Method: zip.Store})
		w.Write(pkl)
		for name, data := range storages {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: "a/data/" + name, Method: zip.Store})
			w.Write(data)
		}
		zw.Close()
		tf, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "fuzz.pt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.pt: ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		roundTrip(t, tf, "fuzz.pt")
	})
}

// fixtureRecords returns the storages of the first archive (by key) and
// the data.pkl of every archive given.
func fixtureRecords(f *testing.F, paths ...string) (map[string][]byte, [][]byte) {
	storages := map[string][]byte{}
	var pkls [][]byte
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		for _, zf := range zr.File {
			data, err := readSmall(zf, 1<<20)
			if err != nil {
				f.Fatal(err)
			}
			if strings.HasSuffix(zf.Name, "/data.pkl") {
				pkls = append(pkls, data)
			} else if _, key, ok := strings.Cut(zf.Name, "/data/"); ok && i == 0 {
				storages[key] = data
			}
		}
	}
	return storages, pkls
}
