package data

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/curvprobe/curvprobe/internal/npyfile"
)

// Source is a dataset whose features are read from its file a batch at a
// time (Open), or a Dataset held in memory seen through the same methods
// (FromDataset). Its labels or targets are held in memory: N ints or N×C
// floats, small beside the N×D features.
//
// A Source is not safe for concurrent use: reads share one buffer.
type Source struct {
	// Name is a short human-readable name and Where lists the files, for
	// messages.
	Name, Where string
	// N, D, Labels, Classes, Targets, C, ClassNames and Notes are as in
	// Dataset (after OneHot, Targets stays nil for a Source read from a
	// file, which makes them on read).
	N, D       int
	Labels     []int
	Classes    int
	Targets    []float64
	C          int
	ClassNames []string
	Notes      []string

	mem  *Dataset  // not nil: features held in memory
	segs []segment // else the files the features are read from
	// How a feature is stored: a NumPy dtype, and whether it is divided by
	// 255 (IDX and CIFAR bytes).
	order  binary.ByteOrder
	kind   byte
	size   int
	div255 bool

	idx       []int     // not nil: sample k is the file's sample idx[k]
	mean, std []float64 // not nil: features standardised on read
	oneHot    bool      // targets are the one-hot encoding of Labels

	raw   []byte   // read buffer
	own   *owned   // files to close (shared by the Sources Sample makes)
	check []string // spilled files to remove on Close, when they could not be at once
}

// segment is one file of a Source's features: its samples [first,
// first+n) lie at off, off+stride, ..., D*size bytes each.
type segment struct {
	f           *os.File
	path        string // the user's file, named in errors
	first, n    int
	off, stride int64
	// size and mod are the file's at open; a read compares them with its
	// state then, unless the file is a spilled copy of ours.
	size  int64
	mod   time.Time
	check bool
}

// owned are the open files of a Source and the temporary files to remove.
type owned struct {
	files  []*os.File
	remove []string
}

// ErrChanged is wrapped by the error of a read from a file that changed
// (its size or modification time) since it was opened.
var ErrChanged = errors.New("changed since it was opened")

// Open opens the dataset at path (a file or a folder, as Load finds it, in
// format or detected) for reading its features on demand: IDX pairs, NPY
// files, NPZ archives and CIFAR-10 batches keep only their labels or
// targets in memory, and ReadX reads samples from the file, checking each
// time that it has not changed since it was opened. Uncompressed data are
// read where they lie; gzip'd IDX or CIFAR files and deflated NPZ members
// are decompressed once into a temporary file, removed from its folder as
// soon as it is made (it stays readable until Close) so that nothing is left
// behind. CSV files, built-in data and Fortran-ordered NPY arrays are read
// into memory.
//
// Open checks what Load checks, in one pass over the file, with the same
// errors naming the file, array, sample and column. Close releases the files.
func Open(path, format string) (*Source, error) {
	format, err := canonicalFormat(strings.ToLower(strings.TrimSpace(format)))
	if err != nil {
		return nil, err
	}
	if path == "builtin:digits" {
		d, err := Load(path, format)
		if err != nil {
			return nil, err
		}
		return FromDataset(d), nil
	}
	loc, err := locate(path, format)
	if err != nil {
		return nil, err
	}
	s := &Source{own: &owned{}}
	switch loc.format {
	case FormatIDX:
		err = s.openIDX(loc.paths[0], loc.paths[1])
	case FormatNPY:
		err = s.openNPY(loc.paths[0], loc.paths[1])
	case FormatNPZ:
		err = s.openNPZ(loc.paths[0])
	case FormatCIFAR:
		err = s.openCIFAR(loc.paths)
	default:
		var d *Dataset
		if d, err = loc.load(); err == nil {
			s.Close()
			s = FromDataset(d)
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if loc.note != "" {
		s.Notes = append(s.Notes, loc.note)
	}
	return s, nil
}

// FromDataset returns a Source over d's samples in memory, sharing them.
func FromDataset(d *Dataset) *Source {
	return &Source{Name: d.Name, Where: d.where(), N: d.N, D: d.D, Labels: d.Labels, Classes: d.Classes,
		Targets: d.Targets, C: d.C, ClassNames: d.ClassNames, Notes: slices.Clone(d.Notes), mem: d, own: &owned{}}
}

// Streamed reports whether the features are read from a file on demand.
func (s *Source) Streamed() bool { return s.mem == nil }

// Close closes the files of s (and of the Sources Sample made from it) and
// removes its temporary files.
func (s *Source) Close() error {
	var first error
	for _, f := range s.own.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	for _, p := range s.own.remove {
		os.Remove(p)
	}
	s.own.files, s.own.remove = nil, nil
	return first
}

// openFile opens the user's file path, registers it to be closed and
// returns its segment (checked on every read) and a reader at its start
// that decompresses it when it starts with gzip's magic bytes (zr is then
// that reader, else nil).
func (s *Source) openFile(path string) (seg segment, r io.Reader, zr *gzip.Reader, err error) {
	f, err := os.Open(path)
	if err != nil {
		return segment{}, nil, nil, fmt.Errorf("data: %w", err)
	}
	if seg, err = s.addFile(f, path, true); err != nil {
		return segment{}, nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	if head, _ := br.Peek(2); string(head) != string(gzipMagic) {
		return seg, br, nil, nil
	}
	if zr, err = gzip.NewReader(br); err != nil {
		return segment{}, nil, nil, fmt.Errorf("data: %s: bad gzip stream: %v", path, err)
	}
	return seg, zr, zr, nil
}

// addFile registers f to be closed and returns a segment reading it. check
// says whether reads compare the file's size and time with what they are now.
func (s *Source) addFile(f *os.File, path string, check bool) (segment, error) {
	s.own.files = append(s.own.files, f)
	st, err := f.Stat()
	if err != nil {
		return segment{}, fmt.Errorf("data: %s: %v", path, err)
	}
	return segment{f: f, path: path, size: st.Size(), mod: st.ModTime(), check: check}, nil
}

// spill copies n bytes of r (all of it when n < 0) into a new temporary
// file and returns it open for reading, already removed from its folder
// (or to be removed by Close, where the system cannot remove an open
// file), and registered to be closed by Close. path names the data in
// errors; short makes the error of a copy that ends early (given
// npyfile.ShortError's).
func (s *Source) spill(r io.Reader, n int64, path string, short func(error) error) (segment, error) {
	f, err := os.CreateTemp("", "curvprobe-data-*")
	if err != nil {
		return segment{}, fmt.Errorf("data: %s: a temporary file for its decompressed data: %v", path, err)
	}
	if os.Remove(f.Name()) != nil {
		s.own.remove = append(s.own.remove, f.Name())
	}
	seg, err := s.addFile(f, path, false)
	if err != nil {
		return segment{}, err
	}
	ew := &errWriter{w: f}
	w := bufio.NewWriterSize(ew, 1<<16)
	var k int64
	if n < 0 {
		_, err = io.Copy(w, r)
	} else if k, err = io.CopyN(w, r, n); err != nil && ew.err == nil {
		err = npyfile.ShortError(k, n, err)
	}
	if err == nil {
		err = w.Flush()
	}
	switch {
	case ew.err != nil:
		return segment{}, fmt.Errorf("data: %s: writing its decompressed data to a temporary file: %v", path, ew.err)
	case err != nil:
		return segment{}, short(err)
	}
	st, err := f.Stat()
	if err != nil {
		return segment{}, fmt.Errorf("data: %s: %v", path, err)
	}
	seg.size = st.Size()
	return seg, nil
}

// errWriter records the first error of its writer.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// openIDX opens an IDX pair: the labels in memory, the images on demand.
func (s *Source) openIDX(imagesPath, labelsPath string) error {
	seg, r, zr, err := s.openFile(imagesPath)
	if err != nil {
		return err
	}
	dims, total, err := readIDXHeader(r, imagesPath, idxImagesMagic)
	if err != nil {
		return err
	}
	promise := func(holds any) error {
		return fmt.Errorf("data: %s: IDX header promises %d bytes of data (dims %v), file holds %v", imagesPath, total, dims, holds)
	}
	if zr != nil {
		if seg, err = s.spill(zr, int64(total), imagesPath, func(e error) error { return promise(e) }); err != nil {
			return err
		}
		// gzip checks its CRC and length only at the end of the stream.
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return fmt.Errorf("data: %s: corrupt gzip stream: %v", imagesPath, err)
		}
	} else {
		seg.off = int64(4 + 4*len(dims))
		if avail := seg.size - seg.off; avail < int64(total) {
			return promise(npyfile.ShortError(max(avail, 0), int64(total), io.EOF))
		}
	}
	d, err := idxDataset(imagesPath, labelsPath, dims)
	if err != nil {
		return err
	}
	s.fromMeta(d)
	seg.n, seg.stride = d.N, int64(d.D)
	s.segs = []segment{seg}
	s.order, s.kind, s.size, s.div255 = binary.BigEndian, 'u', 1, true
	return nil
}

// fromMeta takes the sizes, labels, targets and names of d (whose X is nil).
func (s *Source) fromMeta(d *Dataset) {
	s.Name, s.Where, s.N, s.D = d.Name, d.Source, d.N, d.D
	s.Labels, s.Classes, s.Targets, s.C = d.Labels, d.Classes, d.Targets, d.C
	s.Notes = append(s.Notes, d.Notes...)
}

// openNPY opens x.npy (read on demand) with y.npy (read into memory).
func (s *Source) openNPY(xPath, yPath string) error {
	f, err := os.Open(xPath)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	seg, err := s.addFile(f, xPath, true)
	if err != nil {
		return err
	}
	x, _, hlen, err := readNPYHeader(bufio.NewReaderSize(f, 1<<12), seg.size)
	if err != nil {
		return fmt.Errorf("data: %s: %v", xPath, err)
	}
	if x.fortran && len(x.shape) > 1 {
		return s.inMemory(LoadNPY(xPath, yPath))
	}
	seg.off = hlen
	return s.fromArrays(seg, x, func() (*array, error) { return readNPYFile(yPath) }, xPath+": x", yPath+": y", stem(xPath), xPath+" + "+yPath)
}

// inMemory makes s a Source over the dataset a loader returned.
func (s *Source) inMemory(d *Dataset, err error) error {
	if err != nil {
		return err
	}
	s.Close()
	*s = *FromDataset(d)
	return nil
}

// fromArrays finishes opening an x array (without values) stored in seg
// from its data offset on, with the y that readY returns: the checks of
// the in-memory fromArrays, in its order, with its errors.
func (s *Source) fromArrays(seg segment, x *array, readY func() (*array, error), xw, yw, name, where string) error {
	// Load reads y before it checks x's shape and values.
	y, err := readY()
	if err != nil {
		return err
	}
	n, dim, err := xShape(x, xw)
	if err != nil {
		return err
	}
	seg.n, seg.stride = n, int64(dim*x.size)
	s.segs = []segment{seg}
	s.N, s.D, s.Name, s.Where = n, dim, name, where
	s.order, s.kind, s.size = x.order, x.kind, x.size
	if x.kind == 'f' {
		if err := s.checkFinite(xw); err != nil {
			return err
		}
	}
	d := &Dataset{N: n}
	if err := d.setY(y, x, yw); err != nil {
		return err
	}
	s.Labels, s.Classes, s.Targets, s.C = d.Labels, d.Classes, d.Targets, d.C
	return nil
}

// checkFinite reads every feature once and returns the in-memory loaders'
// error for the first NaN or Inf; xw names the array.
func (s *Source) checkFinite(xw string) error {
	rows := max(1, (1<<20)/(s.D*8))
	buf := make([]float64, rows*s.D)
	for start := 0; start < s.N; start += rows {
		b := buf[:min(rows, s.N-start)*s.D]
		if err := s.ReadX(b, start); err != nil {
			return err
		}
		if r, c, ok := firstNonFinite(b, s.D); !ok {
			return fmt.Errorf("data: %s: %v at row %d, column %d", xw, b[r*s.D+c], start+r, c)
		}
	}
	return nil
}

// openNPZ opens an NPZ archive: y in memory, x on demand, where it lies
// when stored, from a decompressed copy when deflated.
func (s *Source) openNPZ(path string) error {
	z, err := openNPZ(path)
	if err != nil {
		return err
	}
	seg, err := s.addFile(z.f, path, true)
	if err != nil {
		return err
	}
	zf, name, err := z.find("x", "X")
	if err != nil {
		return err
	}
	arrErr := func(err error) error { return fmt.Errorf("data: %s: array %q: %v", path, name, err) }
	limit := int64(min(zf.UncompressedSize64, math.MaxInt64))
	var x *array
	if zf.Method == zip.Store {
		off, err := zf.DataOffset()
		if err != nil {
			return arrErr(err)
		}
		if zf.CompressedSize64 != zf.UncompressedSize64 || off < 0 || limit > seg.size-off {
			return arrErr(fmt.Errorf("stored member of %d bytes at offset %d in a file of %d", limit, off, seg.size))
		}
		// Like the in-memory loader, which reads no further than the
		// array's data, this does not read to the member's end to check
		// its CRC.
		var hlen int64
		x, _, hlen, err = readNPYHeader(bufio.NewReaderSize(io.NewSectionReader(z.f, off, limit), 1<<12), limit)
		if err != nil {
			return arrErr(err)
		}
		seg.off = off + hlen
	} else {
		rc, err := zf.Open()
		if err != nil {
			return arrErr(err)
		}
		defer rc.Close()
		br := bufio.NewReaderSize(rc, 1<<16)
		var n int64
		x, n, _, err = readNPYHeader(br, limit)
		if err != nil {
			return arrErr(err)
		}
		if !(x.fortran && len(x.shape) > 1) {
			seg, err = s.spill(br, n*int64(x.size), path, func(e error) error {
				return arrErr(fmt.Errorf("truncated data for shape %s: %v", x.shapeString(), e))
			})
			if err != nil {
				return err
			}
		}
	}
	if x.fortran && len(x.shape) > 1 {
		return s.inMemory(LoadNPZ(path))
	}
	return s.fromArrays(seg, x, func() (*array, error) { return z.read("y", "Y") }, path+`: array "x"`, path+`: array "y"`, stem(path), path)
}

// openCIFAR opens CIFAR-10 batches: labels read in one pass at open,
// images on demand.
func (s *Source) openCIFAR(paths []string) error {
	s.Name, s.Where, s.D, s.Classes = stem(paths[0]), strings.Join(paths, " + "), cifarD, 10
	s.ClassNames = slices.Clone(cifarClassNames)
	if len(paths) > 1 {
		s.Name = filepath.Base(filepath.Dir(paths[0]))
	}
	for _, p := range paths {
		seg, r, zr, err := s.openFile(p)
		if err != nil {
			return err
		}
		if zr != nil {
			// The decompressed size is known only at the end.
			seg, err = s.spill(zr, -1, p, func(e error) error { return fmt.Errorf("data: %s: %v", p, e) })
			if err != nil {
				return err
			}
			r = io.NewSectionReader(seg.f, 0, seg.size)
		}
		br := bufio.NewReaderSize(r, 1<<16)
		if err := cifarSize(p, seg.size); err != nil {
			return err
		}
		n := int(seg.size / cifarRecord)
		rec := make([]byte, cifarRecord)
		for k := 0; k < n; k++ {
			if _, err := io.ReadFull(br, rec); err != nil {
				return fmt.Errorf("data: %s: record %d: %v", p, k, err)
			}
			if err := cifarLabel(p, k, rec[0]); err != nil {
				return err
			}
			s.Labels = append(s.Labels, int(rec[0]))
		}
		seg.first, seg.n, seg.off, seg.stride = s.N, n, 1, cifarRecord
		s.segs = append(s.segs, seg)
		s.N += n
	}
	s.order, s.kind, s.size, s.div255 = binary.BigEndian, 'u', 1, true
	return nil
}
