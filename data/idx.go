package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/curvprobe/curvprobe/internal/npyfile"
)

// IDX magic numbers (big-endian uint32): 0x00 0x00 dtype ndim, with dtype
// 0x08 for unsigned bytes.
const (
	idxImagesMagic = 0x00000803 // uint8, 3 dimensions: N×rows×cols
	idxLabelsMagic = 0x00000801 // uint8, 1 dimension: N
)

var gzipMagic = []byte{0x1f, 0x8b}

// openMaybeGzip opens path and, when it starts with the gzip magic bytes,
// decompresses it on the fly. The returned closer closes both.
func openMaybeGzip(path string) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(2)
	if !bytes.Equal(head, gzipMagic) {
		return br, f.Close, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("data: %s: bad gzip stream: %v", path, err)
	}
	return zr, func() error { zr.Close(); return f.Close() }, nil
}

// readIDX reads an IDX file of unsigned bytes (gzip'd or raw) with the given
// magic and returns its dimensions and payload.
func readIDX(path string, magic uint32) (dims []int, payload []byte, err error) {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return nil, nil, err
	}
	defer closeFn()
	dims, total, err := readIDXHeader(r, path, magic)
	if err != nil {
		return nil, nil, err
	}
	// The header's claim is not allocated up front (ReadData grows with the
	// data): a 16-byte file may claim 2 GiB.
	payload, err = npyfile.ReadData(r, int64(total))
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: IDX header promises %d bytes of data (dims %v), file holds %v", path, total, dims, err)
	}
	// gzip checks its CRC and length only at the end of the stream: read
	// to it, so that a corrupt file is not taken for its first bytes.
	if zr, ok := r.(*gzip.Reader); ok {
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return nil, nil, fmt.Errorf("data: %s: corrupt gzip stream: %v", path, err)
		}
	}
	return dims, payload, nil
}

// readIDXHeader reads an IDX header with the given magic from r (path names
// it in errors) and returns its dimensions and the number of data bytes
// they promise. The header takes 4 bytes per dimension after the magic.
func readIDXHeader(r io.Reader, path string, magic uint32) (dims []int, total int, err error) {
	var m uint32
	if err := binary.Read(r, binary.BigEndian, &m); err != nil {
		return nil, 0, fmt.Errorf("data: %s: reading the IDX magic number: %v", path, err)
	}
	if m != magic {
		return nil, 0, fmt.Errorf("data: %s: IDX magic number 0x%08x, want 0x%08x", path, m, magic)
	}
	nd := int(magic & 0xff)
	dims = make([]int, nd)
	total = 1
	for i := range dims {
		var v uint32
		if err := binary.Read(r, binary.BigEndian, &v); err != nil {
			return nil, 0, fmt.Errorf("data: %s: reading IDX dimension %d: %v", path, i, err)
		}
		if v == 0 || v > 1<<28 || total > (1<<31)/int(v) {
			return nil, 0, fmt.Errorf("data: %s: implausible IDX dimension %d = %d", path, i, v)
		}
		dims[i] = int(v)
		total *= int(v)
	}
	return dims, total, nil
}

// LoadIDX reads an MNIST-style pair of IDX files (each gzip'd or raw; gzip is
// detected by its magic bytes): images with magic 0x803 (N×rows×cols uint8,
// scaled to [0, 1], D = rows*cols) and labels with magic 0x801.
//
// If the images file holds fewer items than the labels file, the first N
// labels are used and a line in Notes says so: files cut down to their
// first images (such as a "first20" test file) are paired with the full
// label file this way. More images than labels is an error.
func LoadIDX(imagesPath, labelsPath string) (*Dataset, error) {
	dims, pix, err := readIDX(imagesPath, idxImagesMagic)
	if err != nil {
		return nil, err
	}
	d, err := idxDataset(imagesPath, labelsPath, dims)
	if err != nil {
		return nil, err
	}
	d.X = make([]float64, len(pix))
	for i, p := range pix {
		d.X[i] = float64(p) / 255
	}
	return d, nil
}

// idxDataset reads the labels of an IDX pair whose images file has the
// given dimensions and returns the dataset without its features.
func idxDataset(imagesPath, labelsPath string, dims []int) (*Dataset, error) {
	ldims, lab, err := readIDX(labelsPath, idxLabelsMagic)
	if err != nil {
		return nil, err
	}
	n, nl := dims[0], ldims[0]
	d := &Dataset{
		Name:   strings.TrimSuffix(stem(imagesPath), "-images-idx3-ubyte"),
		Source: imagesPath + " + " + labelsPath,
		N:      n,
		D:      dims[1] * dims[2],
	}
	switch {
	case n > nl:
		return nil, fmt.Errorf("data: %s: %d images but %s holds only %d labels", imagesPath, n, labelsPath, nl)
	case n < nl:
		d.Notes = append(d.Notes, fmt.Sprintf("%s holds %d images and %s %d labels: used the first %d labels", imagesPath, n, labelsPath, nl, n))
	}
	d.Labels = make([]int, n)
	for i := range d.Labels {
		d.Labels[i] = int(lab[i])
		d.Classes = max(d.Classes, d.Labels[i]+1)
	}
	return d, nil
}
