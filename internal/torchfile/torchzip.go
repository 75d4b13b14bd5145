package torchfile

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxPickle bounds data.pkl. A state_dict's pickle takes about 150 bytes a
// tensor; 64 MB is far beyond any MLP's.
const MaxPickle = 64 << 20

// storageDTypes maps torch's storage classes to dtypes.
var storageDTypes = map[string]DType{
	"DoubleStorage": F64, "FloatStorage": F32, "HalfStorage": F16, "BFloat16Storage": BF16,
	"LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
	"ByteStorage": "U8", "BoolStorage": "BOOL",
}

// readTorchZip reads the archive torch.save writes: ARCHIVE/data.pkl (the
// pickled object, here a dictionary of tensors, a state_dict) and the
// storages ARCHIVE/data/KEY it points at.
func readTorchZip(r io.ReaderAt, size int64) (*File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	var pkl *zip.File
	records := map[string]*zip.File{}
	prefix := ""
	for _, f := range zr.File {
		if f.Name == "data.pkl" || strings.HasSuffix(f.Name, "/data.pkl") {
			if pkl != nil {
				return nil, fmt.Errorf("two data.pkl records (%s, %s)", pkl.Name, f.Name)
			}
			pkl, prefix = f, strings.TrimSuffix(f.Name, "data.pkl")
		}
	}
	if pkl == nil {
		return nil, errors.New("a zip archive without data.pkl: not a torch.save file")
	}
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok {
			return nil, fmt.Errorf("record %s is outside the archive's folder %s", f.Name, prefix)
		}
		if _, dup := records[name]; dup {
			return nil, fmt.Errorf("record %s appears twice", f.Name)
		}
		records[name] = f
	}
	if _, ok := records["constants.pkl"]; ok {
		return nil, errors.New("a TorchScript archive (torch.jit.save): save the model's state_dict with torch.save or safetensors instead")
	}
	if bo, ok := records["byteorder"]; ok {
		b, err := readSmall(bo, 16)
		if err != nil {
			return nil, fmt.Errorf("record byteorder: %w", err)
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("byte order %q: only little-endian archives are read", b)
		}
	}
	if pkl.UncompressedSize64 > MaxPickle {
		return nil, fmt.Errorf("record %s is %d bytes, over the limit of %d", pkl.Name, pkl.UncompressedSize64, MaxPickle)
	}
	code, err := readSmall(pkl, MaxPickle)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", pkl.Name, err)
	}
	obj, err := unpickle(code)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", pkl.Name, err)
	}
	dict, ok := obj.(*pdict)
	if !ok {
		return nil, fmt.Errorf("record %s holds a %s, want a dictionary of tensors (torch.save(model.state_dict(), path))", pkl.Name, typeName(obj))
	}
	out := &File{Format: TorchZip}
	seen := map[string]bool{}
	for i, k := range dict.keys {
		key, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("state_dict key %v is a %s, want a string", k, typeName(k))
		}
		if seen[key] {
			return nil, fmt.Errorf("state_dict key %q appears twice", key)
		}
		seen[key] = true
		pt, ok := dict.vals[i].(*ptensor)
		if !ok {
			return nil, fmt.Errorf("state_dict entry %q is a %s, not a tensor", key, typeName(dict.vals[i]))
		}
		t, err := pt.tensor(key, records, size)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", key, err)
		}
		out.Tensors = append(out.Tensors, t)
	}
	return out, nil
}

// readSmall reads a record of at most limit bytes whole.
func readSmall(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("over the limit of %d bytes", limit)
	}
	return b, nil
}

// storage is a persistent id's storage: its dtype, record key and element
// count.
type storage struct {
	dtype DType
	key   string
	numel int64
}

// ptensor is _rebuild_tensor_v2's arguments: a view of a storage.
type ptensor struct {
	st      *storage
	offset  int64
	shape   []int64
	strides []int64
}

// tensor checks the view against its storage record and returns the
// Tensor that reads it.
func (p *ptensor) tensor(key string, records map[string]*zip.File, archiveSize int64) (*Tensor, error) {
	size := int64(p.st.dtype.Size())
	rec, ok := records["data/"+p.st.key]
	if !ok {
		return nil, fmt.Errorf("storage record data/%s is missing", p.st.key)
	}
	// torch.save stores storages uncompressed: their sizes, which bound
	// every allocation below, are then bounded by the archive's.
	if rec.Method != zip.Store || rec.CompressedSize64 != rec.UncompressedSize64 || rec.CompressedSize64 > uint64(archiveSize) {
		return nil, fmt.Errorf("storage record data/%s is compressed (method %d) or claims %d bytes in an archive of %d: torch.save stores storages as they are",
			p.st.key, rec.Method, rec.UncompressedSize64, archiveSize)
	}
	if p.st.numel < 0 || p.st.numel > (1<<62)/size {
		return nil, fmt.Errorf("storage data/%s claims %d elements", p.st.key, p.st.numel)
	}
	if rec.UncompressedSize64 != uint64(p.st.numel*size) {
		return nil, fmt.Errorf("storage data/%s holds %d bytes, want %d elements of %s (%d bytes): the file is truncated or corrupt",
			p.st.key, rec.UncompressedSize64, p.st.numel, p.st.dtype, p.st.numel*size)
	}
	if len(p.strides) != len(p.shape) {
		return nil, fmt.Errorf("shape %v with strides %v", p.shape, p.strides)
	}
	shape := make([]int, len(p.shape))
	empty := false
	count := int64(1)
	for i, d := range p.shape {
		if d < 0 || p.strides[i] < 0 {
			return nil, fmt.Errorf("shape %v with strides %v", p.shape, p.strides)
		}
		// More elements than the storage holds (an expanded view) are
		// refused: what is allocated stays bounded by the file.
		if d > 0 && count > p.st.numel/d {
			return nil, fmt.Errorf("shape %v holds more elements than its storage of %d", p.shape, p.st.numel)
		}
		count *= d
		empty = empty || d == 0
		shape[i] = int(d)
	}
	// The last element's index, offset + sum (d_k - 1) stride_k, lies in
	// the storage; checked term by term so that nothing overflows.
	last := p.offset
	if !empty {
		if p.offset < 0 || p.offset >= p.st.numel {
			return nil, fmt.Errorf("offset %d is outside its storage of %d elements", p.offset, p.st.numel)
		}
		for i, d := range p.shape {
			s := p.strides[i]
			if d > 1 && s > 0 && d-1 > (p.st.numel-1-last)/s {
				return nil, fmt.Errorf("shape %v with strides %v at offset %d runs past its storage of %d elements", p.shape, p.strides, p.offset, p.st.numel)
			}
			last += (d - 1) * s
		}
	}
	dtype := p.st.dtype
	t := &Tensor{Name: key, DType: dtype, Shape: shape}
	t.read = func(dst []float64) error {
		rc, err := rec.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		if empty {
			return nil
		}
		if contiguous(p.shape, p.strides) {
			if _, err := io.CopyN(io.Discard, rc, p.offset*size); err != nil {
				return fmt.Errorf("storage data/%s: truncated: %w", p.st.key, err)
			}
			return decode(dst, rc, dtype)
		}
		// A strided view: the storage elements up to the last one read,
		// widened, then gathered. Their count is bounded by the record's
		// size, checked above.
		all := make([]float64, last+1)
		if err := decode(all, rc, dtype); err != nil {
			return fmt.Errorf("storage data/%s: %w", p.st.key, err)
		}
		gather(dst, all, p.offset, p.shape, p.strides)
		return nil
	}
	return t, nil
}

// contiguous reports whether strides are C order for shape.
func contiguous(shape, strides []int64) bool {
	want := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && strides[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}

// gather copies the strided view (offset, shape, strides) of src into dst in
// C order.
func gather(dst, src []float64, offset int64, shape, strides []int64) {
	idx := make([]int64, len(shape))
	for i := range dst {
		pos := offset
		for k := range idx {
			pos += idx[k] * strides[k]
		}
		dst[i] = src[pos]
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
}
