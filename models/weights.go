package models

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/sbinet/npyio/npy"
	"github.com/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"

	"github.com/curvprobe/curvprobe/internal/atomicfile"
	"github.com/curvprobe/curvprobe/internal/npyfile"
)

// LoadWeights reads the weights of spec from path and returns the flat
// parameter vector. The format is told from the file's content
// (WeightsFormat): a PyTorch state_dict saved with safetensors or
// torch.save is read by loadTorchWeights; an NPZ holds arrays W0 b0 W1 b1
// ..., W_l shaped [in, out], b_l shaped [out]; float32 or float64; C or
// Fortran order. Errors name the file and the array: a missing array (with
// the arrays present), an array the model has no parameter for, an array
// stored twice (numpy.load would take the last), a corrupt .npy header, a
// wrong shape or dtype, truncated data, a non-finite value.
func LoadWeights(path string, spec Spec) ([]float64, error) {
	w, err := OpenWeights(path)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.Load(spec)
}

// loadNPZ reads the weights of spec from the NPZ zr, read from path
// (LoadWeights).
func loadNPZ(zr *zip.Reader, path string, spec Spec) ([]float64, error) {
	if _, err := npyfile.Members(zr.File); err != nil {
		return nil, fmt.Errorf("weights %s: %w", path, err)
	}
	// Every array's presence and shape is checked from the headers before
	// the parameters are allocated: a file for another (or an absurd)
	// model is refused without allocating the model.
	blocks := spec.Blocks()
	members := make([]*zip.File, len(blocks))
	for k, b := range blocks {
		i := slices.IndexFunc(zr.File, func(zf *zip.File) bool { return zf.Name == b.Name+".npy" })
		if i < 0 {
			keys := make([]string, len(zr.File))
			for k, zf := range zr.File {
				keys[k] = zf.Name
			}
			return nil, fmt.Errorf("weights %s: no array %q for a %s model (arrays present: %s)",
				path, b.Name, spec.Arch(), strings.Join(trimNpy(keys), " "))
		}
		members[k] = zr.File[i]
		m, err := openBlock(members[k], b, spec.Layers)
		if err != nil {
			return nil, fmt.Errorf("weights %s: %w", path, err)
		}
		m.Close()
	}
	// Arrays the model does not use mean the file is for another model
	// (biases for a model without them, another layer): not ignored.
	used := map[string]bool{}
	for _, b := range blocks {
		used[b.Name+".npy"] = true
	}
	var extra []string
	for _, zf := range zr.File {
		if !used[zf.Name] {
			extra = append(extra, zf.Name)
		}
	}
	if len(extra) > 0 {
		return nil, fmt.Errorf("weights %s: arrays %s are not parameters of the %s model (bias %v): the file is for another model",
			path, strings.Join(trimNpy(extra), " "), spec.Arch(), spec.Bias)
	}
	flat := make([]float64, spec.NumParams())
	for k, b := range blocks {
		vals, err := loadBlock(members[k], b, spec.Layers)
		if err != nil {
			return nil, fmt.Errorf("weights %s: %w", path, err)
		}
		copy(flat[b.Offset:], vals)
	}
	return flat, nil
}

// openBlock opens the .npy member zf of block b of a model with the given
// layer widths and checks its shape.
func openBlock(zf *zip.File, b Block, layers []int) (*npyMember, error) {
	m, err := openNPY(zf)
	if err != nil {
		return nil, fmt.Errorf("array %s: %w", b.Name, err)
	}
	shape := m.hdr.Descr.Shape
	want := fmt.Sprint([]int{b.Rows, b.Cols})
	okShape := len(shape) == 2 && shape[0] == b.Rows && shape[1] == b.Cols
	if b.Bias {
		want = fmt.Sprint([]int{b.Cols})
		okShape = (len(shape) == 1 && shape[0] == b.Cols) || (len(shape) == 2 && shape[0] == 1 && shape[1] == b.Cols)
	}
	if !okShape {
		m.Close()
		return nil, fmt.Errorf("array %s has shape %v, want %v for layers %v (W_l is [in, out])", b.Name, shape, want, layers)
	}
	return m, nil
}

// loadBlock reads block b of a model with the given layer widths from the
// .npy member zf and returns its values in C order.
func loadBlock(zf *zip.File, b Block, layers []int) ([]float64, error) {
	m, err := openBlock(zf, b, layers)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	vals, err := m.floats()
	if err != nil {
		return nil, fmt.Errorf("array %s: %w", b.Name, err)
	}
	if len(vals) != b.Size() {
		return nil, fmt.Errorf("array %s holds %d values, want %d", b.Name, len(vals), b.Size())
	}
	if m.hdr.Descr.Fortran && b.Rows > 1 {
		vals = transposeColMajor(vals, b.Rows, b.Cols)
	}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("array %s element [%d,%d] is %v", b.Name, i/b.Cols, i%b.Cols, v)
		}
	}
	return vals, nil
}

func trimNpy(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = strings.TrimSuffix(k, ".npy")
	}
	return out
}

// transposeColMajor turns rows×cols values stored column-major into row-major.
func transposeColMajor(v []float64, rows, cols int) []float64 {
	out := make([]float64, len(v))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[i*cols+j] = v[j*rows+i]
		}
	}
	return out
}

// SaveWeights writes the flat parameters of spec as a weights NPZ (float64
// arrays W0 [in, out], b0 [out], ...), or as safetensors in PyTorch's
// layout (SaveSafetensors) when path ends in .safetensors, atomically: the
// file appears complete or not at all.
func SaveWeights(path string, spec Spec, params []float64) error {
	if strings.HasSuffix(path, ".safetensors") {
		return SaveSafetensors(path, spec, params)
	}
	if len(params) != spec.NumParams() {
		return fmt.Errorf("weights %s: %d values for a model of %d parameters", path, len(params), spec.NumParams())
	}
	return atomicfile.Write(path, func(f *os.File) error {
		w := npz.NewWriter(f)
		for _, b := range spec.Blocks() {
			vals := params[b.Offset : b.Offset+b.Size()]
			var v any = slices.Clone(vals)
			if !b.Bias {
				v = mat.NewDense(b.Rows, b.Cols, slices.Clone(vals))
			}
			if err := w.Write(b.Name+".npy", v); err != nil {
				return err
			}
		}
		return w.Close()
	})
}

// SaveArrays writes named 1-D float64 arrays as an NPZ file, atomically.
func SaveArrays(path string, arrays map[string][]float64) error {
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		names = append(names, k)
	}
	slices.Sort(names)
	return atomicfile.Write(path, func(f *os.File) error {
		w := npz.NewWriter(f)
		for _, k := range names {
			if err := w.Write(k+".npy", arrays[k]); err != nil {
				return err
			}
		}
		return w.Close()
	})
}

// LoadArrays reads every array of an NPZ file written by SaveArrays. Errors
// name the file and the array: an array stored twice, a corrupt .npy
// header, a dtype other than float32 or float64, truncated data. Sizes the
// archive claims are not allocated before the data are read.
func LoadArrays(path string) (map[string][]float64, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	if _, err := npyfile.Members(zr.File); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string][]float64{}
	for _, zf := range zr.File {
		name := strings.TrimSuffix(zf.Name, ".npy")
		m, err := openNPY(zf)
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, name, err)
		}
		v, err := m.floats()
		m.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, name, err)
		}
		out[name] = v
	}
	return out, nil
}

// npyMember is a .npy member of an NPZ archive, opened and its header read.
type npyMember struct {
	io.ReadCloser
	hdr  npy.Header
	rest int64 // bytes after the header, by the archive's directory
}

// openNPY opens the .npy member zf and reads its header, checked
// (npyfile.ReadHeader).
func openNPY(zf *zip.File) (*npyMember, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	size := int64(min(zf.UncompressedSize64, math.MaxInt64))
	h, n, err := npyfile.ReadHeader(rc, size)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &npyMember{ReadCloser: rc, hdr: h, rest: size - n}, nil
}

// floats reads the data of a float32 or float64 array, in the order of the
// file. It reads with npyfile.ReadData (io.ReadFull underneath): npyio v0.6.0's element readers ignore
// short reads from the zip stream and corrupt arrays past ~32 KiB.
func (m *npyMember) floats() ([]float64, error) {
	typ := m.hdr.Descr.Type
	size := int64(0)
	switch strings.TrimLeft(typ, "<=|") {
	case "f8":
		size = 8
	case "f4":
		size = 4
	default:
		return nil, fmt.Errorf("dtype %s, want float32 or float64", typ)
	}
	if strings.HasPrefix(typ, ">") {
		return nil, fmt.Errorf("big-endian dtype %s is not supported", typ)
	}
	shape := m.hdr.Descr.Shape
	n := int64(1)
	for _, d := range shape { // not negative: npyfile.ReadHeader
		if d > 0 && n > math.MaxInt64/size/int64(d) {
			return nil, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int64(d)
	}
	if n*size > m.rest {
		return nil, fmt.Errorf("truncated data: shape %v of %s needs %d bytes, %d follow the header", shape, typ, n*size, m.rest)
	}
	// m.rest is the zip directory's claim, not yet checked against the
	// data: ReadData allocates as the data arrive.
	raw, err := npyfile.ReadData(m, n*size)
	if err != nil {
		return nil, fmt.Errorf("reading %d values: %w", n, err)
	}
	out := make([]float64, n)
	for i := range out {
		if size == 8 {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		} else {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	}
	return out, nil
}
