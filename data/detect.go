package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Format names accepted by Load.
const (
	FormatAuto  = ""      // detect from the path
	FormatNPZ   = "npz"   // NumPy archive with arrays x and y
	FormatNPY   = "npy"   // x.npy with a y.npy beside it
	FormatCSV   = "csv"   // CSV, plain or gzip'd, label in the last column
	FormatIDX   = "idx"   // MNIST-style IDX images/labels pair, gzip'd or raw
	FormatCIFAR = "cifar" // CIFAR-10 binary batches
)

// Supported describes the formats Load understands, for error messages and
// help texts.
const Supported = `npz (arrays x and y), npy (x.npy with y.npy beside it), csv (.csv or .csv.gz, label last), ` +
	`idx (an MNIST-style train-/t10k- images/labels pair, gzip'd or raw; alias mnist), ` +
	`cifar (CIFAR-10 binary *_batch*.bin files; alias cifar10)`

// Builtins lists the names of the embedded datasets Load reads.
const Builtins = "builtin:digits"

// Generators lists the names of the synthetic datasets that training
// configurations generate to fit their model (probe/run's
// TrainConfig.Data, with GaussianClasses and TeacherStudent). Load does not
// read them: it returns ErrGenerated.
const Generators = "synthetic:gaussian, synthetic:teacher"

// ErrGenerated is returned by Load for the name of a synthetic dataset
// (see Generators), whose samples depend on a model's shape and a seed.
var ErrGenerated = errors.New("synthetic data are generated to fit a model by a training run, not loaded by name")

// Load reads the dataset at path, a file or a folder. format is one of the
// Format names ("mnist" and "cifar10" are accepted as aliases), or "" to
// detect it:
//
//   - a folder holding an MNIST-style images/labels pair
//     (train-images-idx3-ubyte[.gz] with train-labels-idx1-ubyte[.gz], or
//     t10k-...; the train pair is preferred when its images are there;
//     images files with a suffix such as "-first20" count),
//   - else a folder holding CIFAR-10 batches *_batch*.bin (data_batch_* all
//     together when present, else test_batch*),
//   - else a folder holding exactly one .npz, .csv or .csv.gz file, or x.npy
//     with y.npy;
//   - a file by its extension (.npz, .npy, .csv, .csv.gz, .bin for CIFAR)
//     or else by its magic bytes (zip, NumPy, IDX, gzip'd IDX). An IDX file
//     of either half of a pair finds the other half beside it.
//
// The path "builtin:digits" gives the embedded Digits set. Other names
// starting with "builtin:" or "synthetic:" that are not files are errors
// listing the known names; the synthetic generators' own names give
// ErrGenerated.
//
// CSV files are read with the zero CSVOptions. A folder whose only data are
// several stand-alone files (two CSVs, say) is an error asking for the file;
// when an IDX pair or CIFAR batches were chosen over other files, a line in
// the dataset's Notes says what else the folder holds.
func Load(path, format string) (*Dataset, error) {
	format = strings.ToLower(strings.TrimSpace(format))
	if path == "builtin:digits" {
		if format != "" && format != FormatAuto && format != "auto" {
			return nil, fmt.Errorf("data: builtin:digits is embedded; a format (%q) applies to files only", format)
		}
		return Digits()
	}
	format, err := canonicalFormat(format)
	if err != nil {
		return nil, err
	}
	loc, err := locate(path, format)
	if err != nil {
		return nil, err
	}
	d, err := loc.load()
	if err != nil {
		return nil, err
	}
	if loc.note != "" {
		d.Notes = append(d.Notes, loc.note)
	}
	return d, nil
}

// located is a dataset found on disk by locate: its format and files.
type located struct {
	format string
	// paths are the files: the images and labels of an IDX pair, the x and
	// y of NPY, the batches of CIFAR, the one file of NPZ and CSV.
	paths []string
	// note, if not empty, says what else the folder held.
	note string
}

// locate finds the dataset at path in format (a canonical Format name,
// FormatAuto to detect it), as Load documents.
func locate(path, format string) (located, error) {
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := unknownName(path); err != nil {
			return located{}, err
		}
	}
	if err != nil {
		return located{}, fmt.Errorf("data: %w", err)
	}
	if st.IsDir() {
		return locateDir(path, format)
	}
	if format == FormatAuto {
		format, err = detectFile(path)
		if err != nil {
			return located{}, err
		}
	}
	return locateFile(path, format)
}

// canonicalFormat returns the Format name of a format or alias.
func canonicalFormat(format string) (string, error) {
	switch format {
	case "auto":
		return FormatAuto, nil
	case "mnist", "fashion-mnist":
		return FormatIDX, nil
	case "cifar10", "cifar-10":
		return FormatCIFAR, nil
	case FormatAuto, FormatNPZ, FormatNPY, FormatCSV, FormatIDX, FormatCIFAR:
		return format, nil
	}
	return "", fmt.Errorf("data: unknown data format %q; supported: %s", format, Supported)
}

// load reads the located dataset into memory.
func (l located) load() (*Dataset, error) {
	switch l.format {
	case FormatNPZ:
		return LoadNPZ(l.paths[0])
	case FormatNPY:
		return LoadNPY(l.paths[0], l.paths[1])
	case FormatCSV:
		return LoadCSV(l.paths[0], CSVOptions{})
	case FormatCIFAR:
		return LoadCIFAR(l.paths...)
	case FormatIDX:
		return LoadIDX(l.paths[0], l.paths[1])
	}
	panic("data: unreachable format " + l.format)
}

// unknownName reports a name in the builtin: or synthetic: namespace that
// Load does not read, or nil for any other path.
func unknownName(path string) error {
	switch {
	case strings.HasPrefix(path, "builtin:"):
		return fmt.Errorf("data: unknown built-in dataset %q; known: %s", path, Builtins)
	case strings.HasPrefix(path, "synthetic:"):
		for _, g := range strings.Split(Generators, ", ") {
			if path == g {
				return fmt.Errorf("data: %s: %w", path, ErrGenerated)
			}
		}
		return fmt.Errorf("data: unknown synthetic dataset %q; known: %s (generated by training runs), and the built-in %s", path, Generators, Builtins)
	}
	return nil
}

// locateFile finds the files of the dataset that the file path of the
// given format belongs to.
func locateFile(path, format string) (located, error) {
	switch format {
	case FormatNPY:
		y, err := npyLabelsBeside(path)
		if err != nil {
			return located{}, err
		}
		return located{format: format, paths: []string{path, y}}, nil
	case FormatIDX:
		images, labels, err := idxPairOf(path)
		if err != nil {
			return located{}, err
		}
		return located{format: format, paths: []string{images, labels}}, nil
	}
	return located{format: format, paths: []string{path}}, nil
}

// detectFile picks a format from the file's name, then from its first bytes.
func detectFile(path string) (string, error) {
	lower := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(lower, ".npz"):
		return FormatNPZ, nil
	case strings.HasSuffix(lower, ".npy"):
		return FormatNPY, nil
	case strings.HasSuffix(lower, ".csv"), strings.HasSuffix(lower, ".csv.gz"):
		return FormatCSV, nil
	case strings.HasSuffix(lower, ".bin"), strings.HasSuffix(lower, ".bin.gz"):
		return FormatCIFAR, nil
	}
	head, err := fileHead(path, 8)
	if err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return FormatNPZ, nil
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return FormatNPY, nil
	case len(head) >= 4 && (binary.BigEndian.Uint32(head) == idxImagesMagic || binary.BigEndian.Uint32(head) == idxLabelsMagic):
		return FormatIDX, nil
	}
	return "", fmt.Errorf("data: %s: cannot tell the data format from the name or contents; supported: %s", path, Supported)
}

// fileHead returns up to n leading bytes of path, decompressed if gzip'd.
func fileHead(path string, n int) ([]byte, error) {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	buf := make([]byte, n)
	k, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("data: %s: %v", path, err)
	}
	return buf[:k], nil
}

// idxName matches MNIST-style names: split, kind, and the rest
// ("t10k-images-idx3-ubyte.gz", "train-labels.idx1-ubyte",
// "t10k-images-idx3-ubyte-first20").
var idxName = regexp.MustCompile(`(?i)^(train|t10k|test)[-_.](images|labels)`)

// idxPairOf returns the images and labels files of the pair path belongs to.
func idxPairOf(path string) (images, labels string, err error) {
	dir, base := filepath.Split(path)
	m := idxName.FindStringSubmatch(base)
	if m == nil {
		return "", "", fmt.Errorf("data: %s: an IDX file must be named like train-images-idx3-ubyte[.gz] or t10k-labels-idx1-ubyte[.gz] to find its other half", path)
	}
	names, err := dirFiles(dir)
	if err != nil {
		return "", "", err
	}
	split := strings.ToLower(m[1])
	if strings.ToLower(m[2]) == "images" {
		l, ok := pickIDX(names, split, "labels", base)
		if !ok {
			return "", "", fmt.Errorf("data: %s: no %s-labels file beside it", path, split)
		}
		return path, filepath.Join(dir, l), nil
	}
	im, ok := pickIDX(names, split, "images", base)
	if !ok {
		return "", "", fmt.Errorf("data: %s: no %s-images file beside it", path, split)
	}
	return filepath.Join(dir, im), path, nil
}

// pickIDX chooses among names the split-kind file, preferring the one whose
// name mirrors other (images ↔ labels, idx3 ↔ idx1), then a gzip'd one, then
// the first in sorted order.
func pickIDX(names []string, split, kind, other string) (string, bool) {
	mirror := strings.NewReplacer("images", "labels", "labels", "images", "idx3", "idx1", "idx1", "idx3").Replace(strings.ToLower(other))
	var cands []string
	for _, n := range names {
		m := idxName.FindStringSubmatch(n)
		if m != nil && strings.ToLower(m[1]) == split && strings.ToLower(m[2]) == kind {
			cands = append(cands, n)
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	for _, c := range cands {
		if strings.ToLower(c) == mirror {
			return c, true
		}
	}
	for _, c := range cands {
		if strings.HasSuffix(strings.ToLower(c), ".gz") {
			return c, true
		}
	}
	return cands[0], true
}

// dirFiles lists the regular files in dir, sorted.
func dirFiles(dir string) ([]string, error) {
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

var cifarName = regexp.MustCompile(`(?i)_batch.*\.bin(\.gz)?$`)

// locateDir finds a dataset of the given format ("" for any) in dir.
func locateDir(dir, format string) (located, error) {
	names, err := dirFiles(dir)
	if err != nil {
		return located{}, err
	}
	var found []string // what else the folder holds, for the note
	var pick *located
	choose := func(what string, l located) {
		if pick == nil {
			pick = &l
		}
		found = append(found, what)
	}

	if format == FormatAuto || format == FormatIDX {
		for _, split := range []string{"train", "t10k", "test"} {
			im, ok := pickIDX(names, split, "images", "")
			if !ok {
				continue
			}
			lb, ok := pickIDX(names, split, "labels", im)
			if !ok {
				continue
			}
			choose("IDX pair "+im+" + "+lb, located{format: FormatIDX, paths: []string{filepath.Join(dir, im), filepath.Join(dir, lb)}})
			break
		}
	}
	if format == FormatAuto || format == FormatCIFAR {
		var train, test []string
		for _, n := range names {
			if !cifarName.MatchString(n) {
				continue
			}
			p := filepath.Join(dir, n)
			if strings.HasPrefix(strings.ToLower(n), "test") {
				test = append(test, p)
			} else {
				train = append(train, p)
			}
		}
		if batches := firstNonEmpty(train, test); batches != nil {
			choose("CIFAR batches "+strings.Join(baseNames(batches), ", "), located{format: FormatCIFAR, paths: batches})
		}
	}
	for _, n := range names {
		lower := strings.ToLower(n)
		p := filepath.Join(dir, n)
		switch {
		case (format == FormatAuto || format == FormatNPZ) && strings.HasSuffix(lower, ".npz"):
			choose(n, located{format: FormatNPZ, paths: []string{p}})
		case (format == FormatAuto || format == FormatCSV) && (strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz")):
			choose(n, located{format: FormatCSV, paths: []string{p}})
		case (format == FormatAuto || format == FormatNPY) && (lower == "x.npy"):
			if y, err := npyLabelsBeside(p); err == nil {
				choose(n+" + "+filepath.Base(y), located{format: FormatNPY, paths: []string{p, y}})
			}
		}
	}
	if pick == nil {
		what := "dataset"
		if format != FormatAuto {
			what = format + " dataset"
		}
		return located{}, fmt.Errorf("data: %s: found no %s in the folder (files: %s); supported: %s", dir, what, strings.Join(names, ", "), Supported)
	}
	// A folder with one kind of IDX/CIFAR data beside files of other kinds
	// takes the first found, in the order documented on Load; a folder of
	// several stand-alone files is ambiguous.
	if len(found) > 1 && !strings.HasPrefix(found[0], "IDX") && !strings.HasPrefix(found[0], "CIFAR") {
		return located{}, fmt.Errorf("data: %s: several datasets in the folder (%s); name the file", dir, strings.Join(found, "; "))
	}
	if len(found) > 1 {
		pick.note = fmt.Sprintf("%s: loaded %s; the folder also holds %s", dir, found[0], strings.Join(found[1:], "; "))
	}
	return *pick, nil
}

// firstNonEmpty returns a when it is not empty, else b.
func firstNonEmpty(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

func baseNames(paths []string) []string {
	b := make([]string, len(paths))
	for i, p := range paths {
		b[i] = filepath.Base(p)
	}
	return b
}

// npyLabelsBeside finds the y file for an x .npy file: the name with a
// standalone x or X (a whole name part between '_', '-' or '.') turned
// into y or Y ("x.npy" → "y.npy", "X_train.npy" → "y_train.npy").
func npyLabelsBeside(xPath string) (string, error) {
	dir, base := filepath.Split(xPath)
	var tried []string
	sep := func(c byte) bool { return c == '_' || c == '-' || c == '.' }
	for k := 0; k < len(base); k++ {
		if base[k] != 'x' && base[k] != 'X' {
			continue
		}
		if (k > 0 && !sep(base[k-1])) || (k+1 < len(base) && !sep(base[k+1])) {
			continue
		}
		for _, y := range []string{"y", "Y"} {
			c := filepath.Join(dir, base[:k]+y+base[k+1:])
			tried = append(tried, filepath.Base(c))
			if st, err := os.Stat(c); err == nil && !st.IsDir() {
				return c, nil
			}
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("data: %s: a .npy file holds only x; name it x.npy (or X_train.npy ...) with y.npy beside it, or use an .npz with arrays x and y", xPath)
	}
	return "", fmt.Errorf("data: %s: no labels file beside it (looked for %s)", xPath, strings.Join(tried, ", "))
}
