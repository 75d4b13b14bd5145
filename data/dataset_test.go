package data

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// labelled returns a dataset whose sample i has the single feature i and
// the given label, so that a subset shows which samples it took.
func labelled(labels ...int) *Dataset {
	d := &Dataset{Name: "toy", N: len(labels), D: 1, Labels: labels}
	for i, l := range labels {
		d.X = append(d.X, float64(i))
		d.Classes = max(d.Classes, l+1)
	}
	return d
}

func TestClassBalanced(t *testing.T) {
	// 10 of class 0, 6 of class 1, 4 of class 2, interleaved.
	var labels []int
	for i := range 20 {
		labels = append(labels, []int{0, 0, 1, 0, 1, 2, 0, 1, 0, 2}[i%10])
	}
	d := labelled(labels...)
	for _, c := range []struct {
		n    int
		want []int
	}{
		{3, []int{1, 1, 1}},
		{9, []int{3, 3, 3}},
		{10, []int{4, 3, 3}}, // remainder to the lowest labels
		{11, []int{4, 4, 3}},
		{12, []int{4, 4, 4}},
		{14, []int{5, 5, 4}}, // class 2 has no sample to spare: the remainder goes to 0 and 1
	} {
		s, err := d.ClassBalanced(c.n, 42)
		if err != nil {
			t.Errorf("n=%d: %v", c.n, err)
			continue
		}
		if got := s.ClassCounts(); !slices.Equal(got, c.want) || s.N != c.n {
			t.Errorf("n=%d: counts %v, want %v", c.n, got, c.want)
		}
		// Stable order: the samples keep their original order.
		if !slices.IsSorted(s.X) {
			t.Errorf("n=%d: order not kept: %v", c.n, s.X)
		}
		for i := range s.N {
			if s.Labels[i] != labels[int(s.X[i])] {
				t.Errorf("n=%d: sample %v has label %d", c.n, s.X[i], s.Labels[i])
			}
		}
	}
	a, _ := d.ClassBalanced(9, 1)
	b, _ := d.ClassBalanced(9, 1)
	if !slices.Equal(a.X, b.X) {
		t.Error("same seed, different subsets")
	}
	differ := false
	for seed := uint64(2); seed < 6; seed++ {
		c, _ := d.ClassBalanced(9, seed)
		differ = differ || !slices.Equal(a.X, c.X)
	}
	if !differ {
		t.Error("seeds 1..5 all give the same subset")
	}
	if _, err := d.ClassBalanced(15, 1); err == nil {
		t.Error("15 of 3 classes with class 2 holding 4: no error")
	}
	if _, err := d.ClassBalanced(21, 1); err == nil {
		t.Error("more samples than the dataset: no error")
	}
	reg, _ := TeacherStudent(5, 2, 1, 3, 1)
	if _, err := reg.ClassBalanced(2, 1); !errors.Is(err, ErrNoLabels) {
		t.Errorf("regression data: %v", err)
	}
}

func TestClassBalancedUniform(t *testing.T) {
	// Every member of a class is picked about equally often over seeds:
	// 1 of 4 each time, 4000 seeds, so each count is Binomial(4000, 1/4)
	// with sd ≈ 27; allow 5 sd.
	d := labelled(0, 0, 0, 0, 1, 1, 1, 1)
	hits := make([]int, d.N)
	const seeds = 4000
	for seed := range uint64(seeds) {
		s, err := d.ClassBalanced(2, seed)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range s.X {
			hits[int(x)]++
		}
	}
	for i, h := range hits {
		if math.Abs(float64(h)-seeds/4) > 5*math.Sqrt(seeds*0.25*0.75) {
			t.Errorf("sample %d picked %d times of %d", i, h, seeds)
		}
	}
}

func TestShuffleSplitFirst(t *testing.T) {
	d := labelled(0, 1, 2, 0, 1, 2, 0, 1)
	s1, s2 := d.Shuffle(9), d.Shuffle(9)
	if !slices.Equal(s1.X, s2.X) || slices.Equal(s1.X, d.X) {
		t.Errorf("Shuffle(9) twice: %v %v", s1.X, s2.X)
	}
	for i := range s1.N {
		if s1.Labels[i] != d.Labels[int(s1.X[i])] {
			t.Fatal("labels not moved with their samples")
		}
	}
	if sorted := slices.Sorted(slices.Values(s1.X)); !slices.Equal(sorted, d.X) {
		t.Errorf("not a permutation: %v", s1.X)
	}
	tr, te, err := d.Split(5, 3)
	if err != nil || tr.N != 5 || te.N != 3 {
		t.Fatalf("Split: %v", err)
	}
	all := slices.Sorted(slices.Values(append(slices.Clone(tr.X), te.X...)))
	if !slices.Equal(all, d.X) {
		t.Errorf("split loses samples: %v + %v", tr.X, te.X)
	}
	if _, _, err := d.Split(9, 3); err == nil {
		t.Error("Split(9) of 8: no error")
	}
	if f := d.First(3); !slices.Equal(f.X, []float64{0, 1, 2}) || f.N != 3 {
		t.Errorf("First(3) = %v", f.X)
	}
	if f := d.First(100); f.N != 8 {
		t.Errorf("First(100).N = %d", f.N)
	}
	// Subsets are copies.
	f := d.First(2)
	f.X[0] = 99
	if d.X[0] != 0 {
		t.Error("First shares storage")
	}
}

func TestStandardize(t *testing.T) {
	d := &Dataset{N: 4, D: 3, X: []float64{1, 5, 2, 3, 5, 4, 5, 5, 6, 7, 5, 8}, Labels: []int{0, 0, 1, 1}, Classes: 2}
	test := d.Clone()
	mean, std := d.Standardize()
	if !slices.Equal(mean, []float64{4, 5, 5}) || std[1] != 1 || math.Abs(std[0]-math.Sqrt(5)) > 1e-15 {
		t.Errorf("mean %v std %v", mean, std)
	}
	for j := range 3 {
		var s, s2 float64
		for i := range 4 {
			v := d.X[i*3+j]
			s += v
			s2 += v * v
		}
		// The constant column is centred, not scaled.
		wantVar := 1.0
		if j == 1 {
			wantVar = 0
		}
		// Tolerance: a few ulps of the O(1) values summed over 4 rows.
		if math.Abs(s/4) > 1e-15 || math.Abs(s2/4-wantVar) > 1e-14 {
			t.Errorf("column %d: mean %v, variance %v", j, s/4, s2/4)
		}
	}
	test.ApplyStandardize(mean, std)
	if !slices.Equal(test.X, d.X) {
		t.Error("ApplyStandardize differs from Standardize")
	}
	test.Scale(2)
	if test.X[0] != 2*d.X[0] {
		t.Error("Scale")
	}
}

func TestOneHotBatchesValidate(t *testing.T) {
	d := labelled(2, 0, 1)
	o := d.OneHot()
	if o.C != 3 || !slices.Equal(o.Targets, []float64{0, 0, 1, 1, 0, 0, 0, 1, 0}) || !slices.Equal(o.Labels, d.Labels) || o.Outputs() != 3 {
		t.Errorf("OneHot: %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
	if d.Targets != nil {
		t.Error("OneHot changed its receiver")
	}
	big := labelled(make([]int, 10)...)
	for size, want := range map[int][][2]int{
		3:  {{0, 3}, {3, 6}, {6, 9}, {9, 10}},
		5:  {{0, 5}, {5, 10}},
		0:  {{0, 10}},
		10: {{0, 10}},
		50: {{0, 10}},
	} {
		if got := big.Batches(size); !slices.Equal(got, want) {
			t.Errorf("Batches(%d) = %v, want %v", size, got, want)
		}
	}
	if s := big.Slice(3, 6); s.N != 3 || s.X[0] != 3 || len(s.Labels) != 3 {
		t.Errorf("Slice(3, 6): %+v", s)
	}
	bad := d.Clone()
	bad.X[1] = math.Inf(-1)
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepts -Inf")
	}
	bad = d.Clone()
	bad.Labels = bad.Labels[:2]
	if err := bad.Validate(); err == nil {
		t.Error("Validate accepts 2 labels for 3 samples")
	}
}

func TestBuiltinDigits(t *testing.T) {
	d, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 1797 || d.D != 64 || d.Classes != 10 {
		t.Fatalf("digits: N=%d D=%d classes=%d", d.N, d.D, d.Classes)
	}
	want := []int{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}
	for c, n := range d.ClassCounts() {
		if n != want[c] {
			t.Errorf("class %d: %d samples, want %d", c, n, want[c])
		}
	}
}

// Each epoch's order is a permutation fixed by (seed, epoch): the same on a
// rerun, different across epochs and seeds.
func TestEpochPerm(t *testing.T) {
	d := &Dataset{N: 50}
	p0, p1 := d.EpochPerm(3, 0), d.EpochPerm(3, 1)
	if !slices.Equal(p0, d.EpochPerm(3, 0)) || slices.Equal(p0, p1) || slices.Equal(p0, d.EpochPerm(4, 0)) {
		t.Errorf("epoch orders: %v %v", p0, p1)
	}
	s := slices.Clone(p1)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatalf("EpochPerm is not a permutation: %v", p1)
		}
	}
}

// Sample is ClassBalanced with labels, a seeded shuffle's head without, the
// dataset itself for 0 or N, and an error past N.
func TestSample(t *testing.T) {
	d := labelled(0, 1, 2, 0, 1, 2, 0, 1, 2, 0)
	s, err := d.Sample(6, 4)
	want, _ := d.ClassBalanced(6, 4)
	if err != nil || !slices.Equal(s.Labels, want.Labels) || !slices.Equal(s.X, want.X) {
		t.Errorf("Sample(6) = %v, %v; want ClassBalanced's %v", s, err, want.Labels)
	}
	if s, err := d.Sample(0, 4); err != nil || s != d {
		t.Errorf("Sample(0) = %v, %v; want d", s, err)
	}
	if s, err := d.Sample(d.N, 4); err != nil || s != d {
		t.Errorf("Sample(N) = %v, %v; want d", s, err)
	}
	if _, err := d.Sample(11, 4); err == nil || !strings.Contains(err.Error(), "only 10 samples") {
		t.Errorf("Sample(11): %v", err)
	}
	u := &Dataset{N: 10, D: 1, X: []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	s, err = u.Sample(4, 4)
	if err != nil || !slices.Equal(s.X, u.Shuffle(4).First(4).X) {
		t.Errorf("unlabelled Sample(4) = %v, %v", s, err)
	}
}
