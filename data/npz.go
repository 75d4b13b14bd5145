package data

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"github.com/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"

	"github.com/curvprobe/curvprobe/internal/half"
	"github.com/curvprobe/curvprobe/internal/npyfile"
)

// maxClasses bounds the label values a loader accepts, so that a corrupt
// label cannot make Classes (and everything sized by it) absurdly large.
const maxClasses = 1 << 20

// array is one decoded NumPy array: its shape, the kind of its dtype
// ('f' float, 'i' signed, 'u' unsigned, 'b' bool) and its values as float64
// in C (row-major) order.
type array struct {
	shape   []int
	dtype   string
	kind    byte
	order   binary.ByteOrder
	size    int  // bytes per value
	fortran bool // stored in Fortran (column-major) order
	vals    []float64
}

func (a *array) shapeString() string {
	s := make([]string, len(a.shape))
	for i, v := range a.shape {
		s[i] = strconv.Itoa(v)
	}
	if len(s) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

const supportedDtypes = "bool, int8-64, uint8-64, float16/32/64"

// readNPY decodes one .npy stream holding at most limit bytes.
func readNPY(r io.Reader, limit int64) (*array, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	a, n, _, err := readNPYHeader(br, limit)
	if err != nil {
		return nil, err
	}
	// The limit of an NPZ member is the zip directory's claim, not yet
	// checked against the data: ReadData allocates as the data arrive.
	raw, err := npyfile.ReadData(br, n*int64(a.size))
	if err != nil {
		return nil, fmt.Errorf("truncated data for shape %s: %v", a.shapeString(), err)
	}
	a.vals = decode(raw, a.order, a.kind, a.size)
	if a.fortran && len(a.shape) > 1 {
		a.vals = fortranToC(a.vals, a.shape)
	}
	return a, nil
}

// readNPYHeader reads a .npy header from br, in a stream of at most limit
// bytes, and returns the array it describes (without values), its number
// of values, and the header's length in bytes (where the data start). The
// shape is checked against what the rest of the stream can hold.
func readNPYHeader(br *bufio.Reader, limit int64) (a *array, n, hlen int64, err error) {
	h, hlen, err := npyfile.ReadHeader(br, limit)
	if err != nil {
		return nil, 0, 0, err
	}
	limit -= hlen
	a = &array{shape: slices.Clone(h.Descr.Shape), dtype: h.Descr.Type, fortran: h.Descr.Fortran}
	order, kind, size, ok := parseDtype(h.Descr.Type)
	if !ok {
		return nil, 0, 0, fmt.Errorf("unsupported dtype %q (supported: %s)", h.Descr.Type, supportedDtypes)
	}
	a.order, a.kind, a.size = order, kind, size
	// n elements of size bytes, checked against what the file can hold
	// without overflow; a zero-sized dimension holds no data (the caller
	// says what is missing).
	if !slices.Contains(a.shape, 0) {
		n = 1
		for _, s := range a.shape {
			if n > limit/int64(s) {
				return nil, 0, 0, fmt.Errorf("shape %s larger than the file", a.shapeString())
			}
			n *= int64(s)
		}
	}
	if n > limit/int64(size) {
		return nil, 0, 0, fmt.Errorf("shape %s of %s needs %d values of %d bytes, the file holds at most %d bytes", a.shapeString(), h.Descr.Type, n, size, limit)
	}
	return a, n, hlen, nil
}

// parseDtype splits a NumPy descr such as "<f4" or "|u1".
func parseDtype(s string) (order binary.ByteOrder, kind byte, size int, ok bool) {
	order = binary.LittleEndian
	if len(s) > 0 {
		switch s[0] {
		case '>':
			order = binary.BigEndian
			s = s[1:]
		case '<', '|', '=':
			s = s[1:]
		}
	}
	if len(s) < 2 {
		return nil, 0, 0, false
	}
	kind = s[0]
	size, err := strconv.Atoi(s[1:])
	if err != nil {
		return nil, 0, 0, false
	}
	switch {
	case kind == 'b' && size == 1,
		(kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8),
		kind == 'f' && (size == 2 || size == 4 || size == 8):
		return order, kind, size, true
	}
	return nil, 0, 0, false
}

func decode(raw []byte, order binary.ByteOrder, kind byte, size int) []float64 {
	v := make([]float64, len(raw)/size)
	decodeTo(v, raw, order, kind, size)
	return v
}

// decodeTo converts the len(v) values of raw into v.
func decodeTo(v []float64, raw []byte, order binary.ByteOrder, kind byte, size int) {
	// Little-endian floats, what NumPy writes on every common machine, in
	// a loop of their own: the general one below switches on the kind at
	// every element, several times slower on a data set's millions of them.
	if kind == 'f' && order == binary.LittleEndian {
		switch size {
		case 4:
			for i := range v {
				v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
			return
		case 8:
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
			return
		}
	}
	for i := range v {
		b := raw[i*size : (i+1)*size]
		switch {
		case kind == 'b' || (kind == 'u' && size == 1):
			v[i] = float64(b[0])
		case kind == 'i' && size == 1:
			v[i] = float64(int8(b[0]))
		case kind == 'u' && size == 2:
			v[i] = float64(order.Uint16(b))
		case kind == 'i' && size == 2:
			v[i] = float64(int16(order.Uint16(b)))
		case kind == 'u' && size == 4:
			v[i] = float64(order.Uint32(b))
		case kind == 'i' && size == 4:
			v[i] = float64(int32(order.Uint32(b)))
		case kind == 'u' && size == 8:
			v[i] = float64(order.Uint64(b))
		case kind == 'i' && size == 8:
			v[i] = float64(int64(order.Uint64(b)))
		case kind == 'f' && size == 2:
			v[i] = half.Float16(order.Uint16(b))
		case kind == 'f' && size == 4:
			v[i] = float64(math.Float32frombits(order.Uint32(b)))
		case kind == 'f' && size == 8:
			v[i] = math.Float64frombits(order.Uint64(b))
		}
	}
}

// fortranToC reorders column-major values of the given shape to row-major.
func fortranToC(v []float64, shape []int) []float64 {
	out := make([]float64, len(v))
	idx := make([]int, len(shape))
	for c := range out {
		// idx is the multi-index of C offset c; its Fortran offset has
		// the first axis varying fastest.
		f, stride := 0, 1
		for k := range shape {
			f += idx[k] * stride
			stride *= shape[k]
		}
		out[c] = v[f]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out
}

// LoadNPZ reads a NumPy .npz archive holding an array x of N samples (any
// integer, bool or float dtype, 2-D or more: trailing dimensions are
// flattened into D) and an array y: 1-D integer labels (or 1-D floats with
// integral values) for classification, or 2-D [N, C] targets for
// regression. Classes is the largest label plus one; use SetClasses to state
// a larger range. Errors name the file, the array and, for bad values, the
// row and column. An archive holding an array twice is refused (numpy.load
// silently takes the last one); sizes the archive or a header claims are
// not allocated before the data are read.
func LoadNPZ(path string) (*Dataset, error) {
	z, err := openNPZ(path)
	if err != nil {
		return nil, err
	}
	defer z.f.Close()
	x, err := z.read("x", "X")
	if err != nil {
		return nil, err
	}
	y, err := z.read("y", "Y")
	if err != nil {
		return nil, err
	}
	d, err := fromArrays(x, y, path+`: array "x"`, path+`: array "y"`)
	if err != nil {
		return nil, err
	}
	d.Name = stem(path)
	d.Source = path
	return d, nil
}

// npzArchive is an open NPZ file and its members by array name.
type npzArchive struct {
	path    string
	f       *os.File
	size    int64
	entries map[string]*zip.File
	names   []string // the members' array names, for errors
}

// openNPZ opens the NPZ file path and reads its zip directory. The caller
// closes z.f.
func openNPZ(path string) (*npzArchive, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data: %s: not an NPZ (zip) archive: %v", path, err)
	}
	entries, err := npyfile.Members(zr.File)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data: %s: %v", path, err)
	}
	z := &npzArchive{path: path, f: f, size: size, entries: entries}
	for _, zf := range zr.File {
		z.names = append(z.names, strings.TrimSuffix(zf.Name, ".npy"))
	}
	return z, nil
}

// find returns the first member of the archive named in want.
func (z *npzArchive) find(want ...string) (*zip.File, string, error) {
	for _, w := range want {
		if zf, ok := z.entries[w]; ok {
			return zf, w, nil
		}
	}
	return nil, "", fmt.Errorf("data: %s: no array %q (arrays present: %s)", z.path, want[0], strings.Join(z.names, ", "))
}

// read decodes the first member of the archive named in names.
func (z *npzArchive) read(names ...string) (*array, error) {
	zf, name, err := z.find(names...)
	if err != nil {
		return nil, err
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("data: %s: array %q: %v", z.path, name, err)
	}
	defer rc.Close()
	a, err := readNPY(rc, int64(min(zf.UncompressedSize64, math.MaxInt64)))
	if err != nil {
		return nil, fmt.Errorf("data: %s: array %q: %v", z.path, name, err)
	}
	return a, nil
}

// LoadNPY reads features and labels or targets from two .npy files, with
// the same rules as LoadNPZ for the arrays x (xPath) and y (yPath).
func LoadNPY(xPath, yPath string) (*Dataset, error) {
	x, err := readNPYFile(xPath)
	if err != nil {
		return nil, err
	}
	y, err := readNPYFile(yPath)
	if err != nil {
		return nil, err
	}
	d, err := fromArrays(x, y, xPath+": x", yPath+": y")
	if err != nil {
		return nil, err
	}
	d.Name = stem(xPath)
	d.Source = xPath + " + " + yPath
	return d, nil
}

// readNPYFile decodes the .npy file path; errors name it.
func readNPYFile(path string) (*array, error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := readNPY(f, size)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", path, err)
	}
	return a, nil
}

// openSized opens path for reading and returns it with its size; errors
// (from os, so they name path) are prefixed "data: ".
func openSized(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("data: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("data: %w", err)
	}
	return f, st.Size(), nil
}

// fromArrays checks and converts decoded x and y arrays; xw and yw name them
// in errors.
func fromArrays(x, y *array, xw, yw string) (*Dataset, error) {
	n, dim, err := xShape(x, xw)
	if err != nil {
		return nil, err
	}
	if r, c, ok := firstNonFinite(x.vals, dim); !ok {
		return nil, fmt.Errorf("data: %s: %v at row %d, column %d", xw, x.vals[r*dim+c], r, c)
	}
	d := &Dataset{N: n, D: dim, X: x.vals}
	if err := d.setY(y, x, yw); err != nil {
		return nil, err
	}
	return d, nil
}

// xShape checks the shape of an x array (xw names it) and returns its
// number of samples and of features (trailing dimensions flattened).
func xShape(x *array, xw string) (n, dim int, err error) {
	if len(x.shape) < 2 {
		return 0, 0, fmt.Errorf("data: %s: shape %s, want [N, D] or more dimensions", xw, x.shapeString())
	}
	n = x.shape[0]
	dim = 1
	for _, s := range x.shape[1:] {
		dim *= s
	}
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("data: %s: shape %s: no samples", xw, x.shapeString())
	case dim == 0:
		return 0, 0, fmt.Errorf("data: %s: shape %s: no features", xw, x.shapeString())
	}
	return n, dim, nil
}

// setY checks the decoded y array (yw names it) against d.N samples of the
// x array and sets d's labels or targets from it.
func (d *Dataset) setY(y, x *array, yw string) error {
	n := d.N
	if len(y.shape) == 0 || len(y.shape) > 2 {
		return fmt.Errorf("data: %s: shape %s, want [N] labels or [N, C] targets", yw, y.shapeString())
	}
	if y.shape[0] != n {
		return fmt.Errorf("data: %s: %d rows, but x has %d (shape %s)", yw, y.shape[0], n, x.shapeString())
	}
	if len(y.shape) == 2 {
		c := y.shape[1]
		if c == 0 {
			return fmt.Errorf("data: %s: shape %s has no target columns", yw, y.shapeString())
		}
		if r, cc, ok := firstNonFinite(y.vals, c); !ok {
			return fmt.Errorf("data: %s: %v at row %d, column %d", yw, y.vals[r*c+cc], r, cc)
		}
		d.Targets, d.C = y.vals, c
		return nil
	}
	labels, classes, err := toLabels(y.vals, y.kind == 'f')
	if err != nil {
		return fmt.Errorf("data: %s: %v", yw, err)
	}
	d.Labels, d.Classes = labels, classes
	return nil
}

// toLabels converts label values, checking they are integral (when from
// floats), non-negative and below maxClasses. classes is the largest plus one.
func toLabels(v []float64, fromFloat bool) (labels []int, classes int, err error) {
	labels = make([]int, len(v))
	for i, f := range v {
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0):
			return nil, 0, fmt.Errorf("%v at row %d", f, i)
		case f != math.Trunc(f):
			if fromFloat {
				return nil, 0, fmt.Errorf("1-D float labels with non-integral value %v at row %d (regression targets must be 2-D [N, C])", f, i)
			}
			return nil, 0, fmt.Errorf("non-integral label %v at row %d", f, i)
		case f < 0:
			return nil, 0, fmt.Errorf("negative label %v at row %d", f, i)
		case f >= maxClasses:
			return nil, 0, fmt.Errorf("label %v at row %d exceeds the limit of %d classes", f, i, maxClasses)
		}
		labels[i] = int(f)
		classes = max(classes, labels[i]+1)
	}
	return labels, classes, nil
}

// SaveNPZ writes d to path as an .npz archive that LoadNPZ (and numpy.load)
// reads back: x as float64 [N, D] and y as int64 [N] labels, or float64
// [N, C] targets when d has targets (a OneHot dataset saves its targets).
// The file is written atomically (internal/atomicfile), so readers never
// see a partial file.
func SaveNPZ(path string, d *Dataset) (err error) {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.N == 0 || d.D == 0 {
		return fmt.Errorf("data: %s: cannot save an empty dataset to %s", d.where(), path)
	}
	err = atomicfile.Write(path, func(f *os.File) error {
		w := npz.NewWriter(f)
		if err := w.Write("x.npy", mat.NewDense(d.N, d.D, d.X)); err != nil {
			return err
		}
		var y any
		if d.Targets != nil {
			y = mat.NewDense(d.N, d.C, d.Targets)
		} else {
			l := make([]int64, d.N)
			for i, v := range d.Labels {
				l[i] = int64(v)
			}
			y = l
		}
		if err := w.Write("y.npy", y); err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// stem is the file name without folder and extensions (".csv.gz" → "").
func stem(path string) string {
	b := filepath.Base(path)
	b = strings.TrimSuffix(b, ".gz")
	return strings.TrimSuffix(b, filepath.Ext(b))
}
