package npyfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/curvprobe/curvprobe/internal/npytest"
)

// validNPY returns .npy files of several dtypes, shapes and versions.
func validNPY(t testing.TB) [][]byte {
	var out [][]byte
	for _, v := range []any{
		[]float64{1, 2, 3},
		[2][2]float32{{1, 2}, {3, 4}},
		[]int64{},
		[2][3]uint8{{1, 2, 3}, {4, 5, 6}},
		float64(7),
	} {
		var buf bytes.Buffer
		if err := npyio.Write(&buf, v); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	// The first as version 2.0 (a 4-byte header length), Fortran order.
	v1 := npytest.WithDict(out[0], "{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }")
	hl := binary.LittleEndian.Uint16(v1[8:])
	v2 := append([]byte("\x93NUMPY"), 2, 0)
	v2 = binary.LittleEndian.AppendUint32(v2, uint32(hl)+2)
	v2 = append(append(v2, v1[10:10+hl-1]...), ' ', ' ', '\n')
	out = append(out, append(v2, v1[10+hl:]...))
	return append(out, npytest.WithDict(out[0], "{'descr': '<f8', 'fortran_order': False, 'shape': (200, 0), }"))
}

func TestReadData(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789"), 300_000) // 3 MB: several chunks
	for _, n := range []int64{0, 1, 10, readChunk, readChunk + 1, int64(len(src))} {
		got, err := ReadData(bytes.NewReader(src), n)
		if err != nil || !bytes.Equal(got, src[:n]) {
			t.Errorf("n=%d: %d bytes, %v", n, len(got), err)
		}
	}
	for _, n := range []int64{int64(len(src)) + 1, 1 << 40} {
		_, err := ReadData(bytes.NewReader(src), n)
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("n=%d from %d bytes: %v, want io.ErrUnexpectedEOF", n, len(src), err)
		}
	}
	if _, err := ReadData(bytes.NewReader(nil), 5); !errors.Is(err, io.EOF) {
		t.Errorf("from nothing: %v, want io.EOF", err)
	}
}

// FuzzReadHeader: ReadHeader never panics; a header it accepts lies within
// the stream, ends in a newline and has no negative dimension, and is read
// the same from its own bytes alone and whatever limit a zip directory
// claims; a header it refuses is an error saying so.
func FuzzReadHeader(f *testing.F) {
	for _, b := range validNPY(f) {
		f.Add(b)
		for _, c := range npytest.Corruptions {
			f.Add(c.F(b))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bad .npy header: ") {
				t.Fatalf("error %q does not say what is bad", err)
			}
			return
		}
		if n < 10 || n > int64(len(b)) || b[n-1] != '\n' {
			t.Fatalf("header length %d in %d bytes (last byte %q)", n, len(b), b[n-1])
		}
		for _, d := range h.Descr.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", h.Descr.Shape)
			}
		}
		for _, limit := range []int64{n, 1 << 62} {
			h2, n2, err := ReadHeader(bytes.NewReader(b[:n]), limit)
			if err != nil || n2 != n || h2.Descr.Type != h.Descr.Type || h2.Descr.Fortran != h.Descr.Fortran || !slices.Equal(h2.Descr.Shape, h.Descr.Shape) {
				t.Fatalf("header alone (limit %d): %+v, %d, %v; in the stream: %+v, %d", limit, h2, n2, err, h, n)
			}
		}
	})
}

// The fuzzer's seeds are valid files, versions 1.0 and 2.0.
func TestReadHeaderValid(t *testing.T) {
	for i, b := range validNPY(t) {
		if _, _, err := ReadHeader(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
}
