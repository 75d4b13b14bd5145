package data

import (
	"fmt"
	"math"
	"slices"
)

// ReadX reads the features of samples [start, start+n) into dst, n =
// len(dst)/D, row-major, as the in-memory loaders would hold them (images
// divided by 255, standardised after Standardize). A file that changed or
// shrank since Open is an error naming it and wrapping ErrChanged. It
// panics if the samples are out of range.
func (s *Source) ReadX(dst []float64, start int) error {
	n := len(dst) / s.D
	if len(dst) != n*s.D || start < 0 || start+n > s.N {
		panic(fmt.Sprintf("data: ReadX of %d values from sample %d of %d×%d", len(dst), start, s.N, s.D))
	}
	if s.mem != nil {
		for k := 0; k < n; k++ {
			copy(dst[k*s.D:(k+1)*s.D], s.mem.Row(s.row(start+k)))
		}
	} else {
		// Runs of consecutive rows in one file are one read.
		for k := 0; k < n; {
			r := s.row(start + k)
			g := s.segOf(r)
			run := 1
			for k+run < n && s.row(start+k+run) == r+run && r+run < g.first+g.n {
				run++
			}
			if err := s.readRun(dst[k*s.D:(k+run)*s.D], g, r-g.first, run); err != nil {
				return err
			}
			k += run
		}
	}
	if s.mean != nil {
		for k := 0; k < n; k++ {
			standardizeRow(dst[k*s.D:(k+1)*s.D], s.mean, s.std)
		}
	}
	return nil
}

// row is the file's sample of s's sample k.
func (s *Source) row(k int) int {
	if s.idx != nil {
		return s.idx[k]
	}
	return k
}

// segOf returns the segment holding the file's sample r.
func (s *Source) segOf(r int) *segment {
	for i := range s.segs {
		if g := &s.segs[i]; r < g.first+g.n {
			return g
		}
	}
	panic("data: sample beyond the source's files")
}

// readRun reads n rows of g from its row r on into dst.
func (s *Source) readRun(dst []float64, g *segment, r, n int) error {
	rowBytes := int64(s.D * s.size)
	off := g.off + int64(r)*g.stride
	length := int64(n-1)*g.stride + rowBytes
	if g.check {
		st, err := g.f.Stat()
		if err != nil {
			return fmt.Errorf("data: %s: %v", g.path, err)
		}
		if st.Size() != g.size || !st.ModTime().Equal(g.mod) {
			return fmt.Errorf("data: %s: %w (size %d bytes, modified %s; at open %d bytes, %s)", g.path, ErrChanged,
				st.Size(), st.ModTime().Format("2006-01-02 15:04:05.000000000"), g.size, g.mod.Format("2006-01-02 15:04:05.000000000"))
		}
	}
	if off+length > g.size {
		return fmt.Errorf("data: %s: sample %d needs bytes up to %d, the file holds %d: %w", g.path, g.first+r+n-1, off+length, g.size, ErrChanged)
	}
	if int64(cap(s.raw)) < length {
		s.raw = make([]byte, length)
	}
	raw := s.raw[:length]
	// The size was checked: a short read is a file cut since.
	if k, err := g.f.ReadAt(raw, off); k < len(raw) {
		return fmt.Errorf("data: %s: read %d of %d bytes at offset %d (%v): %w", g.path, k, length, off, err, ErrChanged)
	}
	for k := 0; k < n; k++ {
		row := dst[k*s.D : (k+1)*s.D]
		b := raw[int64(k)*g.stride : int64(k)*g.stride+rowBytes]
		if s.div255 {
			for j, p := range b {
				row[j] = float64(p) / 255
			}
			continue
		}
		decodeTo(row, b, s.order, s.kind, s.size)
	}
	return nil
}

// ReadBatch reads samples [start, start+n), n = len(x)/D: their features
// into x (as ReadX), their labels into labels unless it is nil, their
// targets (or one-hot labels, after OneHot) into targets unless it is nil.
// It is the models.Source of a data set read from a file.
func (s *Source) ReadBatch(start int, x []float64, labels []int, targets []float64) error {
	if err := s.ReadX(x, start); err != nil {
		return err
	}
	n := len(x) / s.D
	if labels != nil {
		if s.Labels == nil {
			panic("data: ReadBatch of labels from a source without them")
		}
		copy(labels, s.Labels[start:start+n])
	}
	if targets != nil {
		if len(targets) != n*s.C || !s.oneHot && s.Targets == nil {
			panic(fmt.Sprintf("data: ReadBatch of %d targets for %d samples of %d", len(targets), n, s.C))
		}
		for k := range n {
			t := targets[k*s.C : (k+1)*s.C]
			r := start + k
			if s.oneHot {
				clear(t)
				t[s.Labels[r]] = 1
			} else {
				copy(t, s.Targets[r*s.C:(r+1)*s.C])
			}
		}
	}
	return nil
}

// View returns samples [start, start+n) as ReadBatch reads them, sharing
// their storage instead of copying them, when they lie in memory as they
// are read: for a Source made by FromDataset (or an in-memory Open), one-hot
// encoded or not, and not sampled or standardised; ok is false otherwise.
// Labels or targets are nil where s has none. It is the models.ViewSource
// of a data set in memory. It panics if the samples are out of range.
func (s *Source) View(start, n int) (x []float64, labels []int, targets []float64, ok bool) {
	if start < 0 || n < 0 || start+n > s.N {
		panic(fmt.Sprintf("data: View of samples [%d, %d) of %d", start, start+n, s.N))
	}
	if s.mem == nil || s.idx != nil || s.mean != nil {
		return nil, nil, nil, false
	}
	x = s.mem.X[start*s.D : (start+n)*s.D]
	if s.Labels != nil {
		labels = s.Labels[start : start+n]
	}
	if s.Targets != nil {
		targets = s.Targets[start*s.C : (start+n)*s.C]
	}
	return x, labels, targets, true
}

// Sample returns n of s's samples chosen with seed, the samples
// Dataset.Sample chooses, in the same order and with the same errors: a
// class-balanced subset when s has labels, else the first n of a seeded
// shuffle. n = 0 or n = N returns s itself. The result shares s's files:
// closing either closes both.
func (s *Source) Sample(n int, seed uint64) (*Source, error) {
	switch {
	case n < 0 || n > s.N:
		return nil, fmt.Errorf("only %d samples", s.N)
	case n == 0 || n == s.N:
		return s, nil
	}
	var idx []int
	if s.Labels != nil {
		var err error
		if idx, err = balancedIndex(s.Labels, s.Classes, n, seed, s.Where); err != nil {
			return nil, err
		}
	} else {
		idx = newRand(seed, streamShuffle).Perm(s.N)[:n]
	}
	c := *s
	c.N, c.raw = n, nil
	c.idx = make([]int, n)
	if s.Labels != nil {
		c.Labels = make([]int, n)
	}
	if s.Targets != nil {
		c.Targets = make([]float64, n*s.C)
	}
	for k, i := range idx {
		c.idx[k] = s.row(i)
		if c.Labels != nil {
			c.Labels[k] = s.Labels[i]
		}
		if c.Targets != nil {
			copy(c.Targets[k*s.C:(k+1)*s.C], s.Targets[i*s.C:(i+1)*s.C])
		}
	}
	return &c, nil
}

// Standardize makes reads standardise every feature to zero mean and unit
// variance over s's samples (population variance; a constant feature gets
// std 1), with the values Dataset.Standardize computes, in the same order
// of operations, from one pass over the file; it returns them.
func (s *Source) Standardize() (mean, std []float64, err error) {
	if s.mean != nil {
		panic("data: Standardize of a standardised source")
	}
	mean = make([]float64, s.D)
	std = make([]float64, s.D)
	rows := max(1, (1<<20)/(s.D*8))
	buf := make([]float64, rows*s.D)
	pass := func(f func(row []float64)) error {
		for start := 0; start < s.N; start += rows {
			b := buf[:min(rows, s.N-start)*s.D]
			if err := s.ReadX(b, start); err != nil {
				return err
			}
			for k := 0; k < len(b)/s.D; k++ {
				f(b[k*s.D : (k+1)*s.D])
			}
		}
		return nil
	}
	if s.N > 0 {
		if err := pass(func(row []float64) {
			for j, v := range row {
				mean[j] += v
			}
		}); err != nil {
			return nil, nil, err
		}
		for j := range mean {
			mean[j] /= float64(s.N)
		}
		if err := pass(func(row []float64) {
			for j, v := range row {
				dv := v - mean[j]
				std[j] += dv * dv
			}
		}); err != nil {
			return nil, nil, err
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(max(s.N, 1)))
		if std[j] == 0 {
			std[j] = 1
		}
	}
	s.mean, s.std = mean, std
	return slices.Clone(mean), slices.Clone(std), nil
}

// SetClasses states the number of classes, as Dataset.SetClasses, with its
// errors.
func (s *Source) SetClasses(k int) error {
	d := &Dataset{Name: s.Name, Source: s.Where, Labels: s.Labels, Classes: s.Classes}
	if err := d.SetClasses(k); err != nil {
		return err
	}
	s.Classes = k
	if s.ClassNames != nil && len(s.ClassNames) != k {
		s.ClassNames = nil
	}
	return nil
}

// OneHot makes ReadBatch give the one-hot encoding of the labels as
// targets (C = Classes), as Dataset.OneHot does for a mean-squared-error
// loss: made on read for a Source read from a file, held in Targets (N×C
// floats) for one in memory, so that View hands them out. It panics if s
// has no labels.
func (s *Source) OneHot() {
	if s.Labels == nil {
		panic("data: OneHot on a source without labels")
	}
	s.oneHot, s.Targets, s.C = true, nil, s.Classes
	if s.mem != nil {
		s.Targets = make([]float64, s.N*s.C)
		for i, l := range s.Labels {
			s.Targets[i*s.C+l] = 1
		}
	}
}

// Load returns s's samples as a Dataset in memory: for a Source made by
// FromDataset (or an in-memory Open) and not sampled or standardised, that
// dataset itself; else a new one holding the samples ReadBatch gives.
func (s *Source) Load() (*Dataset, error) {
	if s.mem != nil && s.idx == nil && s.mean == nil && !s.oneHot {
		return s.mem, nil
	}
	d := &Dataset{Name: s.Name, Source: s.Where, N: s.N, D: s.D, Classes: s.Classes, C: s.C,
		X: make([]float64, s.N*s.D), Labels: slices.Clone(s.Labels), ClassNames: slices.Clone(s.ClassNames), Notes: slices.Clone(s.Notes)}
	if s.Targets != nil || s.oneHot {
		d.Targets = make([]float64, s.N*s.C)
	}
	if err := s.ReadBatch(0, d.X, nil, d.Targets); err != nil {
		return nil, err
	}
	return d, nil
}
