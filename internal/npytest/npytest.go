// Package npytest damages valid .npy and .npz files in the ways a fuzzing
// audit found to crash loaders, for the tests of every package that reads
// them (models' weights and checkpoints, data's datasets).
package npytest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Corruptions damage a valid .npy file (version 1.0 or 2.0) in the ways a
// fuzzing audit found to crash the loaders. Each returns a new slice.
var Corruptions = []struct {
	Name string
	F    func(b []byte) []byte
}{
	{"bad magic", func(b []byte) []byte { b = slices.Clone(b); b[1] = 'X'; return b }},
	{"unknown version", func(b []byte) []byte { b = slices.Clone(b); b[6] = 9; return b }},
	{"garbage dict", func(b []byte) []byte {
		b = slices.Clone(b)
		_, start, end := layout(b)
		for i := start; i < end-1; i++ {
			b[i] = 'x'
		}
		return b
	}},
	{"dict keys out of order", func(b []byte) []byte {
		return WithDict(b, "{'shape': (), 'fortran_order': False, 'descr': '<f8', }")
	}},
	{"dict without closing brace", func(b []byte) []byte {
		return WithDict(b, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), ")
	}},
	{"fortran_order garbage", func(b []byte) []byte {
		return WithDict(b, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (4,), }")
	}},
	{"negative dimension", func(b []byte) []byte {
		return WithDict(b, "{'descr': '<f8', 'fortran_order': False, 'shape': (-4,), }")
	}},
	{"shape past the end", func(b []byte) []byte {
		return WithDict(b, fmt.Sprintf("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }", 1<<50))
	}},
	{"header length zero", func(b []byte) []byte { return WithHeaderLen(b, 0) }},
	{"header length short", func(b []byte) []byte { return WithHeaderLen(b, 4) }},
	{"header length past the end", func(b []byte) []byte { return WithHeaderLen(b, 0xffff) }},
	{"header length -1", func(b []byte) []byte { return WithHeaderLen(b, 0xffffffff) }},
	{"version 1.0 header length past the end", func(b []byte) []byte {
		b = WithDict(b, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }")
		binary.LittleEndian.PutUint16(b[8:], 0xfff0)
		return b
	}},
	{"truncated to 9 bytes", func(b []byte) []byte { return slices.Clone(b[:9]) }},
	{"truncated in the header", func(b []byte) []byte { return slices.Clone(b[:20]) }},
	{"truncated data", func(b []byte) []byte { return slices.Clone(b[:len(b)-3]) }},
}

// layout returns the size of the header length field of the valid .npy
// file b (2 bytes in version 1.0, 4 in 2.0 and 3.0) and where its header
// dictionary starts and ends.
func layout(b []byte) (lenSize, start, end int) {
	if b[6] == 1 {
		return 2, 10, 10 + int(binary.LittleEndian.Uint16(b[8:]))
	}
	return 4, 12, 12 + int(binary.LittleEndian.Uint32(b[8:]))
}

// WithDict rebuilds the valid .npy file b as a version 1.0 file with
// header dictionary dict and the same data.
func WithDict(b []byte, dict string) []byte {
	_, _, end := layout(b)
	hdr := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	out := append(slices.Clone(b[:6]), 1, 0, 0, 0)
	binary.LittleEndian.PutUint16(out[8:], uint16(len(hdr)))
	out = append(out, hdr...)
	return append(out, b[end:]...)
}

// WithHeaderLen sets the header length field of the valid .npy file b to
// n, truncated to the width of the field.
func WithHeaderLen(b []byte, n uint32) []byte {
	b = slices.Clone(b)
	if lenSize, _, _ := layout(b); lenSize == 2 {
		binary.LittleEndian.PutUint16(b[8:], uint16(n))
	} else {
		binary.LittleEndian.PutUint32(b[8:], n)
	}
	return b
}

// Members returns the members of the NPZ (zip) file path, by name, in the
// order stored.
func Members(t *testing.T, path string) (names []string, data map[string][]byte) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	data = map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names, data[zf.Name] = append(names, zf.Name), b
	}
	return names, data
}

// RewriteMember copies the NPZ file src to dst with the member named member
// passed through f.
func RewriteMember(t *testing.T, src, dst, member string, f func([]byte) []byte) {
	t.Helper()
	names, data := Members(t, src)
	if _, ok := data[member]; !ok {
		t.Fatalf("%s has no member %s", src, member)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, name := range names {
		b := data[name]
		if name == member {
			b = f(b)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// NoPanic calls load and turns a panic into a test failure.
func NoPanic(t *testing.T, load func() error) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("panic: %v", p)
		}
	}()
	return load()
}

// CheckCorrupt damages, in turn, the member array+".npy" of the valid NPZ
// file good by each of Corruptions, for each of arrays, writing the result
// to a file named base in a new directory; in a subtest "array/corruption"
// it checks that load of that file returns an error, without panicking,
// that mentions every one of named(path, array).
func CheckCorrupt(t *testing.T, good, base string, arrays []string, load func(path string) error, named func(path, array string) []string) {
	t.Helper()
	for _, array := range arrays {
		for _, c := range Corruptions {
			t.Run(array+"/"+c.Name, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), base)
				RewriteMember(t, good, p, array+".npy", c.F)
				err := NoPanic(t, func() error { return load(p) })
				CheckNamed(t, err, named(p, array)...)
			})
		}
	}
}

// CheckNamed checks that err is not nil and mentions every one of names.
func CheckNamed(t *testing.T, err error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not mention %q", err, n)
		}
	}
}

// NPY returns a version 1.0 .npy file with header dictionary dict (such as
// "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }") and data
// body, whatever they say.
func NPY(dict string, body []byte) []byte {
	hdr := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := append([]byte("\x93NUMPY"), 1, 0, 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(hdr)))
	b = append(b, hdr...)
	return append(b, body...)
}

// Member is one member of a zip archive built by Zip.
type Member struct {
	Name string
	Data []byte
}

// Zip returns a zip archive holding members in the order given, stored
// (not compressed) when store is true, else deflated. Names may repeat, as
// in an archive appended to by a second writer.
func Zip(store bool, members ...Member) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	method := zip.Deflate
	if store {
		method = zip.Store
	}
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.Name, Method: method})
		if err != nil {
			panic("npytest: " + err.Error())
		}
		if _, err := w.Write(m.Data); err != nil {
			panic("npytest: " + err.Error())
		}
	}
	if err := zw.Close(); err != nil {
		panic("npytest: " + err.Error())
	}
	return buf.Bytes()
}

// ClaimSize returns a copy of the zip archive b (as written by Zip) in which
// the central directory claims every member uncompresses to size bytes
// (below 0xffffffff): the sizes a reader trusts before it has read anything.
func ClaimSize(b []byte, size uint32) []byte {
	b = slices.Clone(b)
	sig := []byte("PK\x01\x02")
	for i := bytes.Index(b, sig); i >= 0; {
		binary.LittleEndian.PutUint32(b[i+24:], size)
		j := bytes.Index(b[i+4:], sig)
		if j < 0 {
			break
		}
		i += 4 + j
	}
	return b
}

// Allocated returns the bytes f allocates on the heap (the whole process's
// allocations while f runs: call it where nothing else runs).
func Allocated(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// AllocBound is the most a loader may allocate reading inputs of n bytes
// in all: 64 MiB of buffers, plus what the largest legitimate content can
// take: a deflated member expands at most 1032-fold, its values become
// float64 (8 bytes each from 1) and the fuzz targets copy them a few times.
func AllocBound(n int) uint64 { return 64<<20 + 1032*8*4*uint64(n) }
