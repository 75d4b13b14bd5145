// Package torchfile reads the tensor files PyTorch users save, defensively,
// and writes safetensors files that PyTorch reads back:
//
//   - safetensors (safetensors.torch.save_file): an 8-byte little-endian
//     header length, a JSON header {"name": {"dtype", "shape",
//     "data_offsets"}, "__metadata__": {...}}, then the raw little-endian data;
//   - torch.save's zip archive (PyTorch 1.6 and later): ARCHIVE/data.pkl, a
//     pickle of the saved object whose tensors point, through persistent ids,
//     at the storages ARCHIVE/data/KEY.
//
// The pickle is read by a small restricted unpickler of our own: only the
// opcodes torch.save writes for dictionaries of tensors, only the globals
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 (and
// _rebuild_parameter) and the torch.*Storage classes; nothing is ever
// executed. github.com/nlpodyssey/gopickle v0.2.0 (its last release,
// 2023-01) was not used: it allocates the element count a pickle claims for
// a storage before reading it (a crafted 1 KB file asks for any amount of
// memory), and panics on legacy archives and storage views.
//
// Invariants: every length, offset and shape a file claims is checked
// against the file's size before anything is allocated; tensor data are
// read in bounded chunks; an error names the file and, where there is one,
// the tensor's key; a corrupt file is an error, never a panic.
package torchfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/curvprobe/curvprobe/internal/half"
)

// DType is a tensor element type, named as in safetensors headers.
type DType string

// The element types. The float types are widened to float64 on reading; the
// others are recognised, so that their files parse, but are not read.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
)

// sizes are the element sizes of the dtypes safetensors defines.
var sizes = map[DType]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
	"F8_E4M3": 1, "F8_E5M2": 1,
}

// Size returns the element size of d in bytes, 0 for an unknown dtype.
func (d DType) Size() int { return sizes[d] }

// IsFloat reports whether d is one of the float types read as float64.
func (d DType) IsFloat() bool { return d == F64 || d == F32 || d == F16 || d == BF16 }

// Format names the kind of a tensor file.
type Format int

// The formats Detect tells apart.
const (
	Unknown     Format = iota
	Safetensors        // safetensors
	TorchZip           // torch.save's zip archive
	TorchLegacy        // torch.save with _use_new_zipfile_serialization=False: a bare pickle
	Zip                // another zip archive (an NPZ, say)
)

// String returns the format's name.
func (f Format) String() string {
	return [...]string{"unknown", "safetensors", "torch.save zip", "legacy torch.save", "zip"}[f]
}

// Detect tells the format of a file from its first bytes (at least 9 of
// them for safetensors) and, for a zip archive, whether it holds a
// data.pkl record: the file's content decides, not its name.
func Detect(head []byte, zipNames []string) Format {
	switch {
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		for _, n := range zipNames {
			if n == "data.pkl" || strings.HasSuffix(n, "/data.pkl") {
				return TorchZip
			}
		}
		return Zip
	case len(head) >= 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) >= 2:
		// Before the pickle test: a header of 128 bytes starts 0x80 0x00.
		return Safetensors
	case len(head) >= 3 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5 && head[2] == 0x8a:
		// PROTO, then LONG1: the magic number legacy torch.save files
		// start with.
		return TorchLegacy
	}
	return Unknown
}

// Tensor is one named array of a file: its type and shape, read from the
// header; its values are read by Floats.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	// read writes the tensor's values, C order, widened, into dst (len Len()).
	read func(dst []float64) error
}

// Len returns the number of elements of t.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Floats reads t's values in C (row-major) order, widened to float64, into
// dst (allocated when nil; it must hold Len() values otherwise).
func (t *Tensor) Floats(dst []float64) ([]float64, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("tensor %s has dtype %s, want F64, F32, F16 or BF16", t.Name, t.DType)
	}
	if dst == nil {
		dst = make([]float64, t.Len())
	}
	if len(dst) != t.Len() {
		panic("torchfile: Floats: dst length mismatch")
	}
	if err := t.read(dst); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
	}
	return dst, nil
}

// File is an open tensor file: its tensors in the file's order and its
// metadata (safetensors' __metadata__; nil for torch.save files).
type File struct {
	Path     string
	Format   Format
	Tensors  []*Tensor
	Metadata map[string]string
	closer   io.Closer
}

// Close releases the file.
func (f *File) Close() error { return f.closer.Close() }

// Tensor returns the tensor named name, or nil.
func (f *File) Tensor(name string) *Tensor {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Open opens a safetensors file or a torch.save zip archive, detected from
// its content, and reads its header (not yet its data). Errors name path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	tf, err := OpenReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	tf.closer = f
	return tf, nil
}

// OpenReader is Open on the size bytes of r, named name in errors. The
// File's Close does nothing: r belongs to the caller.
func OpenReader(r io.ReaderAt, size int64, name string) (*File, error) {
	var head [16]byte
	n, _ := r.ReadAt(head[:], 0)
	var tf *File
	var err error
	switch format := Detect(head[:n], nil); format {
	case Safetensors:
		tf, err = readSafetensors(r, size)
	case Zip:
		tf, err = readTorchZip(r, size)
	case TorchLegacy:
		err = errors.New("a legacy torch.save file (a bare pickle, _use_new_zipfile_serialization=False): save it again with torch.save's default zip format, or with safetensors")
	default:
		err = fmt.Errorf("neither safetensors nor a torch.save zip archive (starts %q)", head[:n])
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tf.Path = name
	tf.closer = io.NopCloser(nil)
	for _, t := range tf.Tensors {
		read := t.read
		t.read = func(dst []float64) error {
			if err := read(dst); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		}
	}
	return tf, nil
}

// chunk is the number of bytes converted at a time.
const chunk = 1 << 20

// decode widens n elements of dtype d from r (little-endian) into dst.
func decode(dst []float64, r io.Reader, d DType) error {
	size := d.Size()
	buf := make([]byte, min(chunk, len(dst)*size))
	for done := 0; done < len(dst); {
		k := min(len(buf)/size, len(dst)-done)
		if _, err := io.ReadFull(r, buf[:k*size]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("truncated data after %d of %d values: %w", done, len(dst), err)
		}
		widen(dst[done:done+k], buf[:k*size], d)
		done += k
	}
	return nil
}

// widen converts little-endian elements of dtype d in src to dst.
func widen(dst []float64, src []byte, d DType) {
	switch d {
	case F64:
		for i := range dst {
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
		}
	case F32:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case BF16:
		for i := range dst {
			dst[i] = half.BFloat16(binary.LittleEndian.Uint16(src[2*i:]))
		}
	case F16:
		for i := range dst {
			dst[i] = half.Float16(binary.LittleEndian.Uint16(src[2*i:]))
		}
	default:
		panic("torchfile: widen: not a float dtype")
	}
}

// Array is a tensor to write: its name, shape and values, written as dtype
// F64 or F32. Values are in C order, or, with Transposed, a matrix's
// values in the C order of its transpose: Shape [r, c] written from Values
// holding [c, r] (our [in, out] weights written as PyTorch's [out, in]
// without a copy).
type Array struct {
	Name       string
	Shape      []int
	Values     []float64
	Transposed bool
}

// WriteSafetensors writes arrays as a safetensors file to w, in the given
// order, elements of dtype (F64 or F32), with metadata as __metadata__.
// safetensors.torch.load_file reads it back.
func WriteSafetensors(w io.Writer, arrays []Array, dtype DType, metadata map[string]string) error {
	if dtype != F64 && dtype != F32 {
		panic("torchfile: WriteSafetensors: dtype must be F64 or F32")
	}
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		hdr.WriteString(`"__metadata__":`)
		hdr.Write(mustJSON(metadata))
		hdr.WriteByte(',')
	}
	off := 0
	for i, a := range arrays {
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if n != len(a.Values) || (a.Transposed && len(a.Shape) != 2) {
			panic("torchfile: WriteSafetensors: shape does not match the values")
		}
		if i > 0 {
			hdr.WriteByte(',')
		}
		end := off + n*dtype.Size()
		shape := a.Shape
		if shape == nil {
			shape = []int{}
		}
		fmt.Fprintf(&hdr, `%s:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, mustJSON(a.Name), dtype, mustJSON(shape), off, end)
		off = end
	}
	hdr.WriteByte('}')
	// Pad with spaces to a multiple of 8 bytes, as the reference writer
	// does, so that the data are aligned.
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	bw := bufio.NewWriterSize(w, chunk)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(hdr.Len()))
	bw.Write(n[:])
	bw.Write(hdr.Bytes())
	var b [8]byte
	put := func(v float64) {
		if dtype == F64 {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			bw.Write(b[:8])
		} else {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(float32(v)))
			bw.Write(b[:4])
		}
	}
	for _, a := range arrays {
		if !a.Transposed {
			for _, v := range a.Values {
				put(v)
			}
			continue
		}
		rows, cols := a.Shape[0], a.Shape[1]
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				put(a.Values[c*rows+r])
			}
		}
	}
	return bw.Flush()
}

// mustJSON marshals v, which cannot fail for the strings, ints and string
// maps given to it.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("torchfile: " + err.Error())
	}
	return b
}
