package data

import (
	"fmt"
	"math"
	"slices"
)

// Dataset is a labelled dataset held in host memory.
//
// X holds N samples of D features, row-major: sample i is X[i*D:(i+1)*D].
// A classification dataset has Labels (len N, values in [0, Classes)) and
// nil Targets. A regression dataset has Targets (N×C row-major) and nil
// Labels. A dataset made by OneHot has both: Targets for an mse loss and the
// Labels they came from, so that accuracy can still be measured.
type Dataset struct {
	// Name is a short human-readable name (usually the file or folder name).
	Name string
	// Source lists where the data came from (file paths), for messages.
	Source string
	// N is the number of samples and D the number of features per sample.
	N, D int
	// X holds the features, N×D row-major.
	X []float64
	// Labels holds the class of each sample; nil for regression data.
	Labels []int
	// Classes is the number of classes; labels lie in [0, Classes).
	Classes int
	// Targets holds the regression targets, N×C row-major; nil for
	// classification data.
	Targets []float64
	// C is the number of targets per sample (0 when Targets is nil).
	C int
	// ClassNames optionally names the classes (len Classes when set).
	ClassNames []string
	// Notes records anything a loader did that a user should know about
	// (a header line skipped, labels truncated to match the images).
	// Nothing in this package prints them.
	Notes []string
}

// IsClassification reports whether d has class labels.
func (d *Dataset) IsClassification() bool { return d.Labels != nil }

// Outputs is the width a model's last layer needs for d: C when d has
// targets, else Classes.
func (d *Dataset) Outputs() int {
	if d.Targets != nil {
		return d.C
	}
	return d.Classes
}

// Row returns sample i's features, a slice of X (not a copy).
func (d *Dataset) Row(i int) []float64 { return d.X[i*d.D : (i+1)*d.D] }

// TargetRow returns sample i's targets, a slice of Targets (not a copy).
// It panics if d has no targets.
func (d *Dataset) TargetRow(i int) []float64 {
	if d.Targets == nil {
		panic("data: TargetRow on a dataset without targets")
	}
	return d.Targets[i*d.C : (i+1)*d.C]
}

// ClassCounts returns the number of samples of each class, len Classes; nil
// for a dataset without labels.
func (d *Dataset) ClassCounts() []int {
	if d.Labels == nil {
		return nil
	}
	counts := make([]int, d.Classes)
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

func (d *Dataset) where() string {
	switch {
	case d.Source != "":
		return d.Source
	case d.Name != "":
		return d.Name
	}
	return "dataset"
}

// Validate checks d's invariants: sizes, label range, finite values.
func (d *Dataset) Validate() error {
	w := d.where()
	switch {
	case d.N < 0 || d.D < 0:
		return fmt.Errorf("data: %s: negative size N=%d D=%d", w, d.N, d.D)
	case len(d.X) != d.N*d.D:
		return fmt.Errorf("data: %s: x has %d values, want N*D = %d*%d", w, len(d.X), d.N, d.D)
	case d.Labels == nil && d.Targets == nil:
		return fmt.Errorf("data: %s: neither labels nor targets", w)
	}
	if r, c, ok := firstNonFinite(d.X, d.D); !ok {
		return fmt.Errorf("data: %s: x: %v at row %d, column %d", w, d.X[r*d.D+c], r, c)
	}
	if d.Labels != nil {
		if len(d.Labels) != d.N {
			return fmt.Errorf("data: %s: %d labels for %d samples", w, len(d.Labels), d.N)
		}
		if d.Classes <= 0 {
			return fmt.Errorf("data: %s: Classes = %d with labels present", w, d.Classes)
		}
		for i, l := range d.Labels {
			if l < 0 || l >= d.Classes {
				return fmt.Errorf("data: %s: label %d at row %d outside [0, %d)", w, l, i, d.Classes)
			}
		}
		if d.ClassNames != nil && len(d.ClassNames) != d.Classes {
			return fmt.Errorf("data: %s: %d class names for %d classes", w, len(d.ClassNames), d.Classes)
		}
	}
	if d.Targets != nil {
		if d.C <= 0 || len(d.Targets) != d.N*d.C {
			return fmt.Errorf("data: %s: targets have %d values, want N*C = %d*%d", w, len(d.Targets), d.N, d.C)
		}
		if r, c, ok := firstNonFinite(d.Targets, d.C); !ok {
			return fmt.Errorf("data: %s: targets: %v at row %d, column %d", w, d.Targets[r*d.C+c], r, c)
		}
	}
	return nil
}

// firstNonFinite returns the row and column of the first NaN or Inf in the
// row-major matrix v of width cols, and ok=false; ok=true when all are finite.
func firstNonFinite(v []float64, cols int) (row, col int, ok bool) {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i / cols, i % cols, false
		}
	}
	return 0, 0, true
}

// SetClasses states the number of classes, for instance the width of a
// model's output layer. It returns an error naming the first label outside
// [0, k) and leaves d unchanged in that case.
func (d *Dataset) SetClasses(k int) error {
	if d.Labels == nil {
		return fmt.Errorf("data: %s: SetClasses(%d) on a dataset without labels", d.where(), k)
	}
	if k <= 0 {
		return fmt.Errorf("data: %s: SetClasses(%d): need a positive number of classes", d.where(), k)
	}
	for i, l := range d.Labels {
		if l >= k {
			return fmt.Errorf("data: %s: label %d at row %d outside the stated range [0, %d)", d.where(), l, i, k)
		}
	}
	if d.ClassNames != nil && len(d.ClassNames) != k {
		d.ClassNames = nil
	}
	d.Classes = k
	return nil
}

// Clone returns a deep copy of d.
func (d *Dataset) Clone() *Dataset {
	c := *d
	c.X = slices.Clone(d.X)
	c.Labels = slices.Clone(d.Labels)
	c.Targets = slices.Clone(d.Targets)
	c.ClassNames = slices.Clone(d.ClassNames)
	c.Notes = slices.Clone(d.Notes)
	return &c
}

// Standardize rescales every feature in place to zero mean and unit variance
// (population variance) and returns the mean and standard deviation it used,
// for ApplyStandardize on other data. A constant feature gets std 1.
func (d *Dataset) Standardize() (mean, std []float64) {
	mean = make([]float64, d.D)
	std = make([]float64, d.D)
	if d.N > 0 {
		for i := 0; i < d.N; i++ {
			for j, v := range d.Row(i) {
				mean[j] += v
			}
		}
		for j := range mean {
			mean[j] /= float64(d.N)
		}
		for i := 0; i < d.N; i++ {
			for j, v := range d.Row(i) {
				dv := v - mean[j]
				std[j] += dv * dv
			}
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(max(d.N, 1)))
		if std[j] == 0 {
			std[j] = 1
		}
	}
	d.ApplyStandardize(mean, std)
	return mean, std
}

// ApplyStandardize computes x = (x - mean) / std in place for every feature.
// A zero std is treated as 1. It panics if mean or std is not of length D.
func (d *Dataset) ApplyStandardize(mean, std []float64) {
	if len(mean) != d.D || len(std) != d.D {
		panic("data: ApplyStandardize length mismatch")
	}
	for i := 0; i < d.N; i++ {
		standardizeRow(d.Row(i), mean, std)
	}
}

// standardizeRow sets row[j] = (row[j] - mean[j]) / std[j], a zero std
// counting as 1 (a constant feature): one sample of ApplyStandardize, and
// of a standardised Source's reads.
func standardizeRow(row, mean, std []float64) {
	for j := range row {
		s := std[j]
		if s == 0 {
			s = 1
		}
		row[j] = (row[j] - mean[j]) / s
	}
}

// Scale multiplies every feature by f in place.
func (d *Dataset) Scale(f float64) {
	for i := range d.X {
		d.X[i] *= f
	}
}

// OneHot returns a copy of d whose Targets are the one-hot encoding of its
// labels (N×Classes, values 0 and 1), for a mean-squared-error loss. The
// copy keeps the labels. It panics if d has no labels.
func (d *Dataset) OneHot() *Dataset {
	if d.Labels == nil {
		panic("data: OneHot on a dataset without labels")
	}
	o := d.Clone()
	o.C = d.Classes
	o.Targets = make([]float64, d.N*d.Classes)
	for i, l := range d.Labels {
		o.Targets[i*d.Classes+l] = 1
	}
	return o
}

// Batches returns the half-open ranges [start, end) that cut the N samples
// into consecutive batches of size (the last may be shorter). A size <= 0 or
// >= N gives one batch of all samples. An empty dataset gives no batches.
func (d *Dataset) Batches(size int) [][2]int {
	if d.N == 0 {
		return nil
	}
	if size <= 0 || size >= d.N {
		return [][2]int{{0, d.N}}
	}
	b := make([][2]int, 0, (d.N+size-1)/size)
	for s := 0; s < d.N; s += size {
		b = append(b, [2]int{s, min(s+size, d.N)})
	}
	return b
}

// Slice returns the samples [start, end) as a dataset sharing d's storage
// (no copy), for iterating over Batches.
func (d *Dataset) Slice(start, end int) *Dataset {
	if start < 0 || end < start || end > d.N {
		panic("data: Slice bounds out of range")
	}
	s := *d
	s.N = end - start
	s.X = d.X[start*d.D : end*d.D]
	if d.Labels != nil {
		s.Labels = d.Labels[start:end]
	}
	if d.Targets != nil {
		s.Targets = d.Targets[start*d.C : end*d.C]
	}
	return &s
}
