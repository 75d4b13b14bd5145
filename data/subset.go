package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// Subset returns a new dataset holding the samples idx, in that order
// (repeats allowed). It panics if an index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{
		Name: d.Name, Source: d.Source,
		N: len(idx), D: d.D, Classes: d.Classes, C: d.C,
		X:          make([]float64, len(idx)*d.D),
		ClassNames: slices.Clone(d.ClassNames),
		Notes:      slices.Clone(d.Notes),
	}
	if d.Labels != nil {
		s.Labels = make([]int, len(idx))
	}
	if d.Targets != nil {
		s.Targets = make([]float64, len(idx)*d.C)
	}
	for k, i := range idx {
		if i < 0 || i >= d.N {
			panic("data: Subset index out of range")
		}
		copy(s.X[k*d.D:(k+1)*d.D], d.X[i*d.D:(i+1)*d.D])
		if s.Labels != nil {
			s.Labels[k] = d.Labels[i]
		}
		if s.Targets != nil {
			copy(s.Targets[k*d.C:(k+1)*d.C], d.Targets[i*d.C:(i+1)*d.C])
		}
	}
	return s
}

// First returns the first n samples (all of them when n >= N) as a new
// dataset. It panics if n < 0.
func (d *Dataset) First(n int) *Dataset {
	if n < 0 {
		panic("data: First with negative n")
	}
	n = min(n, d.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return d.Subset(idx)
}

// Stream constants keep the PCG streams of different uses apart, so that
// the same seed gives unrelated draws for a shuffle and a subset.
const (
	streamShuffle  = 0x5348554646 // "SHUFF"
	streamBalanced = 0x42414c414e // "BALAN"
	streamSynth    = 0x53594e5448 // "SYNTH"
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// Perm returns a seeded random permutation of 0..N-1, the one Shuffle uses.
func (d *Dataset) Perm(seed uint64) []int {
	return newRand(seed, streamShuffle).Perm(d.N)
}

// EpochPerm returns the order in which mini-batch training visits the
// samples in epoch e (0-based): a permutation of 0..N-1 that depends only on
// (seed, epoch), so a resumed run sees the same batches. Cut it into batches
// with Batches after Subset.
func (d *Dataset) EpochPerm(seed uint64, epoch int) []int {
	return newRand(seed, uint64(epoch)+0x5eed).Perm(d.N)
}

// Sample returns n of d's samples chosen with seed: a class-balanced subset
// (ClassBalanced) when d has labels, else the first n of a seeded shuffle.
// n = 0 or n = N returns d itself; n > N is an error ("only N samples").
func (d *Dataset) Sample(n int, seed uint64) (*Dataset, error) {
	switch {
	case n < 0 || n > d.N:
		return nil, fmt.Errorf("only %d samples", d.N)
	case n == 0 || n == d.N:
		return d, nil
	case d.Labels != nil:
		return d.ClassBalanced(n, seed)
	}
	return d.Shuffle(seed).First(n), nil
}

// Shuffle returns a new dataset with the samples in a seeded random order.
func (d *Dataset) Shuffle(seed uint64) *Dataset {
	return d.Subset(d.Perm(seed))
}

// Split shuffles the samples with seed and returns the first nTrain as train
// and the rest as test. nTrain must lie in [0, N].
func (d *Dataset) Split(nTrain int, seed uint64) (train, test *Dataset, err error) {
	if nTrain < 0 || nTrain > d.N {
		return nil, nil, fmt.Errorf("data: %s: split of %d training samples out of %d", d.where(), nTrain, d.N)
	}
	p := d.Perm(seed)
	return d.Subset(p[:nTrain]), d.Subset(p[nTrain:]), nil
}

// ErrNoLabels is returned by operations that need class labels on a
// dataset that has none.
var ErrNoLabels = errors.New("data: dataset has no class labels")

// ClassBalanced returns a seeded, class-balanced subset of n samples: n/Classes
// of each class, and one more for each of the first n%Classes classes (in
// label order) that have a sample to spare. Within a class the samples are
// drawn at random with the seed; the result keeps them in their original
// order (call Shuffle for a random order). The same seed always gives the
// same subset. It is an error if a class has too few samples.
func (d *Dataset) ClassBalanced(n int, seed uint64) (*Dataset, error) {
	if d.Labels == nil {
		return nil, fmt.Errorf("%w: %s: a class-balanced subset needs labels", ErrNoLabels, d.where())
	}
	idx, err := balancedIndex(d.Labels, d.Classes, n, seed, d.where())
	if err != nil {
		return nil, err
	}
	return d.Subset(idx), nil
}

// balancedIndex returns the sorted indices of ClassBalanced's subset of n
// of the given labels in [0, classes); where names the data in errors.
func balancedIndex(labels []int, classes, n int, seed uint64, where string) ([]int, error) {
	if n <= 0 || n > len(labels) {
		return nil, fmt.Errorf("data: %s: class-balanced subset of %d samples out of %d", where, n, len(labels))
	}
	byClass := make([][]int, classes)
	for i, l := range labels {
		byClass[l] = append(byClass[l], i)
	}
	per, rem := n/classes, n%classes
	want := make([]int, classes)
	for c := range want {
		want[c] = per
		if len(byClass[c]) < per {
			return nil, fmt.Errorf("data: %s: class %d has %d samples, a balanced subset of %d needs %d per class",
				where, c, len(byClass[c]), n, per)
		}
	}
	for c := 0; c < classes && rem > 0; c++ {
		if len(byClass[c]) > per {
			want[c]++
			rem--
		}
	}
	if rem > 0 {
		return nil, fmt.Errorf("data: %s: too few samples to spread the remainder of a balanced subset of %d", where, n)
	}
	rng := newRand(seed, streamBalanced)
	idx := make([]int, 0, n)
	for c, members := range byClass {
		// Partial Fisher-Yates: the first want[c] entries become a
		// uniform random sample without replacement.
		m := slices.Clone(members)
		for k := 0; k < want[c]; k++ {
			j := k + rng.IntN(len(m)-k)
			m[k], m[j] = m[j], m[k]
		}
		idx = append(idx, m[:want[c]]...)
	}
	slices.Sort(idx)
	return idx, nil
}
