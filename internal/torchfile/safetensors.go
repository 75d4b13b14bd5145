package torchfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// MaxHeader bounds a safetensors header, as the reference implementation
// does (100 MB).
const MaxHeader = 100_000_000

// stEntry is a tensor's entry in a safetensors header.
type stEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// readSafetensors reads the header of a safetensors file of size bytes and
// checks it against the file: every offset inside the data, every tensor's
// byte count its shape times its element size, no two tensors overlapping,
// no byte of the data unclaimed (as the reference implementation requires).
func readSafetensors(r io.ReaderAt, size int64) (*File, error) {
	var b [8]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: truncated header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(b[:])
	if n > MaxHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeader)
	}
	if int64(n) > size-8 {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the file (%d bytes)", n, size)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading the %d-byte header: %v", n, err)
	}
	tf, err := parseSafetensorsHeader(hdr, uint64(size)-8-n)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	base := int64(8 + n)
	for _, t := range tf.Tensors {
		e := t.entry
		t.read = func(dst []float64) error {
			return decode(dst, io.NewSectionReader(r, base+int64(e.DataOffsets[0]), int64(e.DataOffsets[1]-e.DataOffsets[0])), e.DType)
		}
	}
	out := &File{Format: Safetensors, Metadata: tf.meta}
	for _, t := range tf.Tensors {
		out.Tensors = append(out.Tensors, &t.Tensor)
	}
	return out, nil
}

type stTensor struct {
	Tensor
	entry stEntry
}

type stHeader struct {
	Tensors []*stTensor
	meta    map[string]string
}

// parseSafetensorsHeader parses and checks a header whose data section is
// dataLen bytes long. Tensors keep the header's order.
func parseSafetensorsHeader(hdr []byte, dataLen uint64) (*stHeader, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("header is not a JSON object (%q...)", hdr[:min(len(hdr), 20)])
	}
	out := &stHeader{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("header: %v", err)
		}
		key := tok.(string) // object keys are strings
		if seen[key] {
			return nil, fmt.Errorf("header: key %q appears twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("header: key %q: %v", key, err)
		}
		if key == "__metadata__" {
			if err := json.Unmarshal(raw, &out.meta); err != nil {
				return nil, fmt.Errorf("header: __metadata__ is not an object of strings: %v", err)
			}
			continue
		}
		var e stEntry
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, fmt.Errorf("header: tensor %q: %v", key, err)
		}
		t, err := checkEntry(key, e, dataLen)
		if err != nil {
			return nil, fmt.Errorf("header: tensor %q: %w", key, err)
		}
		out.Tensors = append(out.Tensors, t)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if rest := bytes.TrimRight(hdr[dec.InputOffset():], " "); len(rest) > 0 {
		return nil, fmt.Errorf("header: %d bytes after the JSON object", len(rest))
	}
	// The data section is covered exactly: sorted by offset, each tensor
	// starts where the previous one ends, the last ends at the file's end.
	byOff := slices.Clone(out.Tensors)
	slices.SortStableFunc(byOff, func(a, b *stTensor) int {
		return cmpU64(a.entry.DataOffsets[0], b.entry.DataOffsets[0])
	})
	end := uint64(0)
	for i, t := range byOff {
		s := t.entry.DataOffsets[0]
		switch {
		case s < end:
			return nil, fmt.Errorf("tensor %q (bytes %d-%d) overlaps tensor %q (ending at byte %d)", t.Name, s, t.entry.DataOffsets[1], byOff[i-1].Name, end)
		case s > end:
			return nil, fmt.Errorf("bytes %d-%d of the data belong to no tensor (before tensor %q)", end, s, t.Name)
		}
		end = t.entry.DataOffsets[1]
	}
	if end != dataLen {
		return nil, fmt.Errorf("the tensors end at byte %d of the data, the file holds %d bytes of data", end, dataLen)
	}
	return out, nil
}

// checkEntry checks one header entry against a data section of dataLen
// bytes.
func checkEntry(key string, e stEntry, dataLen uint64) (*stTensor, error) {
	size := e.DType.Size()
	if size == 0 {
		return nil, fmt.Errorf("unknown dtype %q", e.DType)
	}
	if e.Shape == nil {
		return nil, errors.New("no shape")
	}
	if len(e.DataOffsets) != 2 {
		return nil, fmt.Errorf("data_offsets %v: want [begin, end]", e.DataOffsets)
	}
	shape := make([]int, len(e.Shape))
	count := uint64(1)
	for i, d := range e.Shape {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", e.Shape)
		}
		if d > 0 && count > math.MaxInt64/uint64(size)/uint64(d) {
			return nil, fmt.Errorf("shape %v is too large", e.Shape)
		}
		count *= uint64(d)
		shape[i] = int(d)
	}
	b, en := e.DataOffsets[0], e.DataOffsets[1]
	switch {
	case en < b:
		return nil, fmt.Errorf("data_offsets [%d, %d] end before they begin", b, en)
	case en > dataLen:
		return nil, fmt.Errorf("data_offsets [%d, %d] run past the end of the data (%d bytes): the file is truncated", b, en, dataLen)
	case en-b != count*uint64(size):
		return nil, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] hold %d", e.Shape, e.DType, count*uint64(size), b, en, en-b)
	}
	return &stTensor{Tensor: Tensor{Name: key, DType: e.DType, Shape: shape}, entry: e}, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
