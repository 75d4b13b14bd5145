package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// HeaderMode says whether a CSV file's first line is a header.
type HeaderMode int

const (
	// HeaderAuto treats the first line as a header when its field count
	// differs from the second line's, or when it has a non-numeric field in
	// a column that is numeric on the second line.
	HeaderAuto HeaderMode = iota
	// HeaderPresent always skips the first line.
	HeaderPresent
	// HeaderAbsent never skips the first line.
	HeaderAbsent
)

// CSVOptions configures LoadCSV. The zero value reads a comma-separated
// file, detects a header, and takes the last column as the class label.
type CSVOptions struct {
	// LabelColumn selects the label column: 0 means the last column, k > 0
	// the k-th column counting from 1, and k < 0 the k-th from the end
	// (-1 is the last). Ignored when Targets > 0.
	LabelColumn int
	// Targets, when positive, makes the last Targets columns regression
	// targets (floats) instead of taking a label column.
	Targets int
	// Header says whether the first line is a header; HeaderAuto detects it.
	Header HeaderMode
	// Comma is the field separator; 0 means ','.
	Comma rune
}

// LoadCSV reads a CSV file (gzip'd or plain; gzip is detected by its magic
// bytes). Every field other than the label column must be a number. Labels
// may be non-negative integers, or names, which are numbered in sorted
// order and kept in ClassNames.
//
// A header line is skipped (see HeaderMode). scikit-learn's bundled CSV
// header "n_samples,n_features,name0,name1,..." (iris.csv starts
// "150,4,setosa,versicolor,virginica") is recognised by its counts and gives
// the class names. Skipped headers are recorded in Notes.
func LoadCSV(path string, opts CSVOptions) (*Dataset, error) {
	r, closeFn, err := openMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return readCSV(r, path, opts)
}

// readCSV parses CSV text from r; path names it in errors.
func readCSV(r io.Reader, path string, opts CSVOptions) (*Dataset, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("data: %s: %v", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("data: %s: empty CSV file", path)
	}
	d := &Dataset{Name: stem(path), Source: path}
	first := 0 // index of the first data record
	switch opts.Header {
	case HeaderPresent:
		first = 1
	case HeaderAuto:
		if len(recs) > 1 && isHeader(recs[0], recs[1]) {
			first = 1
		}
	}
	if first == 1 {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: skipped header line %q", path, strings.Join(recs[0], string(cr.Comma))))
	}
	data := recs[first:]
	if len(data) == 0 {
		return nil, fmt.Errorf("data: %s: no data lines after the header", path)
	}
	cols := len(data[0])
	for i, rec := range data {
		if len(rec) != cols {
			return nil, fmt.Errorf("data: %s: line %d has %d fields, line %d has %d", path, first+i+1, len(rec), first+1, cols)
		}
	}
	// Columns holding the outputs: [yLo, yHi).
	var yLo, yHi int
	switch {
	case opts.Targets > 0:
		if opts.Targets >= cols {
			return nil, fmt.Errorf("data: %s: %d target columns leave no features among %d columns", path, opts.Targets, cols)
		}
		yLo, yHi = cols-opts.Targets, cols
	default:
		c := opts.LabelColumn
		switch {
		case c == 0:
			c = cols - 1
		case c > 0:
			c--
		default:
			c += cols
		}
		if c < 0 || c >= cols {
			return nil, fmt.Errorf("data: %s: label column %d outside the %d columns", path, opts.LabelColumn, cols)
		}
		if cols < 2 {
			return nil, fmt.Errorf("data: %s: one column: no features besides the label", path)
		}
		yLo, yHi = c, c+1
	}
	d.N = len(data)
	d.D = cols - (yHi - yLo)
	d.X = make([]float64, 0, d.N*d.D)
	var yv []float64
	var names []string // raw label strings, when labels are names
	labelsAreNames := opts.Targets == 0 && !isNumber(data[0][yLo])
	for i, rec := range data {
		for j, s := range rec {
			inY := j >= yLo && j < yHi
			if inY && labelsAreNames {
				names = append(names, strings.TrimSpace(s))
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("data: %s: line %d (row %d), column %d: %q is not a finite number", path, first+i+1, i, j+1, s)
			}
			if inY {
				yv = append(yv, v)
			} else {
				d.X = append(d.X, v)
			}
		}
	}
	switch {
	case opts.Targets > 0:
		d.Targets, d.C = yv, opts.Targets
	case labelsAreNames:
		d.ClassNames = slices.Compact(slices.Sorted(slices.Values(names)))
		d.Classes = len(d.ClassNames)
		d.Labels = make([]int, d.N)
		for i, s := range names {
			d.Labels[i], _ = slices.BinarySearch(d.ClassNames, s)
		}
	default:
		labels, classes, err := toLabels(yv, false)
		if err != nil {
			return nil, fmt.Errorf("data: %s: label column %d: %v (the last CSV column must hold class labels; for regression targets use an NPZ with a float y of shape [N, C])", path, yLo+1, err)
		}
		d.Labels, d.Classes = labels, classes
	}
	if first == 1 && d.Labels != nil && len(d.ClassNames) == 0 {
		d.ClassNames = sklearnClassNames(recs[0], d.N, d.D, d.Classes)
	}
	return d, nil
}

// isHeader reports whether line a looks like a header above data line b.
func isHeader(a, b []string) bool {
	if len(a) != len(b) {
		return true
	}
	for j := range a {
		if !isNumber(a[j]) && isNumber(b[j]) {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// sklearnClassNames returns the class names of a scikit-learn style header
// "n_samples,n_features,name0,...", or nil when h is not one for this data.
func sklearnClassNames(h []string, n, dim, classes int) []string {
	if len(h) != 2+classes {
		return nil
	}
	hn, err1 := strconv.Atoi(strings.TrimSpace(h[0]))
	hd, err2 := strconv.Atoi(strings.TrimSpace(h[1]))
	if err1 != nil || err2 != nil || hn != n || hd != dim {
		return nil
	}
	names := make([]string, classes)
	for i, s := range h[2:] {
		names[i] = strings.TrimSpace(s)
	}
	return names
}
