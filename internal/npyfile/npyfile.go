// Package npyfile reads .npy headers defensively for curvprobe's loaders
// (models' weights and checkpoints, data's datasets): github.com/sbinet/npyio
// v0.6.0 slices by the lengths and key positions it reads without checking
// them, and panics on corrupt files. ReadHeader checks what npyio does not,
// so that a corrupt file is an error, never a panic.
package npyfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sbinet/npyio/npy"
)

// MaxHeader bounds the header of a .npy array. NumPy writes headers of a
// few dozen bytes for the numeric dtypes read here (and refuses to read
// headers over 10000 bytes by default), so a longer one is a corrupt length.
const MaxHeader = 1 << 20

// ReadHeader reads the header of a .npy stream of at most limit bytes and
// returns it and its length in bytes. It checks the magic number, the version
// and the header length before npyio parses the header, and the shape after:
// npyio v0.6.0 slices by the length it reads and by the positions of the
// dictionary's keys without checking them, and panics on a header that is
// short, long or malformed.
func ReadHeader(r io.Reader, limit int64) (npy.Header, int64, error) {
	buf := make([]byte, 12)
	if _, err := io.ReadFull(r, buf[:8]); err != nil {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: truncated: %v", err)
	}
	if [6]byte(buf) != npy.Magic {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: not a NumPy array (magic %q)", buf[:6])
	}
	var pre, n int64 // lengths of the fixed part and of the dictionary
	switch buf[6] {
	case 1:
		pre = 10
	case 2:
		pre = 12
	default:
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: unsupported format version %d.%d", buf[6], buf[7])
	}
	if _, err := io.ReadFull(r, buf[8:pre]); err != nil {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: truncated: %v", err)
	}
	if pre == 10 {
		n = int64(binary.LittleEndian.Uint16(buf[8:]))
	} else {
		n = int64(binary.LittleEndian.Uint32(buf[8:]))
	}
	switch {
	case n > MaxHeader:
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: header length %d exceeds the limit of %d bytes", n, MaxHeader)
	case pre+n > limit:
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: header length %d runs past the end (%d bytes in all)", n, limit)
	}
	buf = append(buf[:pre], make([]byte, n)...)
	if _, err := io.ReadFull(r, buf[pre:]); err != nil {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: truncated: %v", err)
	}
	if n == 0 || buf[len(buf)-1] != '\n' {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: header of length %d does not end in a newline", n)
	}
	h, err := parseHeader(buf, pre)
	if err != nil {
		return npy.Header{}, 0, fmt.Errorf("bad .npy header: %w", err)
	}
	for _, d := range h.Descr.Shape {
		if d < 0 {
			return npy.Header{}, 0, fmt.Errorf("bad .npy header: negative dimension in shape %v", h.Descr.Shape)
		}
	}
	return h, pre + n, nil
}

// parseHeader parses a whole .npy header, magic number to newline, whose
// dictionary starts at pre, with npyio. npyio v0.6.0 slices the dictionary
// between the positions of its keys and its closing brace without checking
// that they are there in that order, so a malformed dictionary makes it
// panic: the panic is a bad file, not a bug here, and is returned as an error.
func parseHeader(buf []byte, pre int64) (h npy.Header, err error) {
	defer func() {
		if recover() != nil {
			h, err = npy.Header{}, fmt.Errorf("malformed dictionary %.100q", bytes.TrimSpace(buf[pre:]))
		}
	}()
	r, err := npy.NewReader(bytes.NewReader(buf))
	if err != nil {
		return npy.Header{}, err
	}
	return r.Header, nil
}

// Members indexes the members of an NPZ archive by array name: the member's
// name less a ".npy" suffix, as numpy.load names them. An archive holding
// an array twice (a member written twice, as by a second writer appending
// to the archive, or both "x" and "x.npy") is refused: numpy.load silently
// takes the last of them, and a reader taking another would read other
// values than numpy shows. The error names the array and its members;
// callers add the file.
func Members(files []*zip.File) (map[string]*zip.File, error) {
	m := make(map[string]*zip.File, len(files))
	for _, zf := range files {
		name := strings.TrimSuffix(zf.Name, ".npy")
		if prev, ok := m[name]; ok {
			return nil, fmt.Errorf("array %q is stored twice (members %q and %q): numpy.load would take the last one silently; rewrite the file with each array once", name, prev.Name, zf.Name)
		}
		m[name] = zf
	}
	return m, nil
}

// readChunk is the most ReadData allocates ahead of the data it has read.
const readChunk = 1 << 20

// ReadData reads exactly n bytes of array data from r. The buffer grows as
// the data arrive (doubling, from at most readChunk bytes), so a header or a
// zip directory that claims more data than the stream holds costs no more
// memory than the stream's real length: the claim is an error when the data
// run out, never an allocation up front. Errors are io.ErrUnexpectedEOF (or
// io.EOF when r holds nothing) wrapped with the counts, or r's own.
func ReadData(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		panic("npyfile: negative length")
	}
	buf := make([]byte, 0, min(n, readChunk))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, int(min(n-int64(len(buf)), int64(cap(buf)))))
		}
		end := int(min(n, int64(cap(buf))))
		k, err := io.ReadFull(r, buf[len(buf):end])
		buf = buf[:len(buf)+k]
		if err != nil {
			return nil, ShortError(int64(len(buf)), n, err)
		}
	}
	return buf, nil
}

// ShortError is ReadData's error when reading n bytes stopped after got
// with err (io.EOF after some bytes becomes io.ErrUnexpectedEOF), for
// readers of the same data that do not go through ReadData.
func ShortError(got, n int64, err error) error {
	if err == io.EOF && got > 0 {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%d of %d bytes: %w", got, n, err)
}
