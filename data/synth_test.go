package data

import (
	"math"
	"slices"
	"testing"
)

func TestGaussianClasses(t *testing.T) {
	const n, dim, k, sep = 3000, 5, 3, 4.0
	d, err := GaussianClasses(n, dim, k, sep, 11)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, d, []int{1000, 1000, 1000})
	e, _ := GaussianClasses(n, dim, k, sep, 11)
	f, _ := GaussianClasses(n, dim, k, sep, 12)
	if !slices.Equal(d.X, e.X) || slices.Equal(d.X, f.X) {
		t.Error("not deterministic per seed")
	}
	// Each class mean has norm sep; the sample mean of 1000 unit-noise
	// points lies within 5 sd = 5*sqrt(dim/1000) ≈ 0.35 of it in norm.
	for c := range k {
		mu := make([]float64, dim)
		for i := range n {
			if d.Labels[i] == c {
				for j, v := range d.Row(i) {
					mu[j] += v / 1000
				}
			}
		}
		var norm float64
		for _, v := range mu {
			norm += v * v
		}
		if math.Abs(math.Sqrt(norm)-sep) > 5*math.Sqrt(dim/1000.0) {
			t.Errorf("class %d mean norm %v, want %v", c, math.Sqrt(norm), sep)
		}
	}
	if _, err := GaussianClasses(10, 2, 1, 1, 1); err == nil {
		t.Error("one class: no error")
	}
}

func TestTeacherStudent(t *testing.T) {
	d, err := TeacherStudent(500, 10, 3, 20, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.C != 3 || d.Labels != nil || d.Outputs() != 3 || len(d.Targets) != 1500 {
		t.Fatalf("shape: C=%d", d.C)
	}
	e, _ := TeacherStudent(500, 10, 3, 20, 5)
	if !slices.Equal(d.Targets, e.Targets) || !slices.Equal(d.X, e.X) {
		t.Error("not deterministic per seed")
	}
	// Targets of order one: variance between 0.05 and 2 (tanh units of
	// variance < 1 through weights of variance 1/hidden).
	var s, s2 float64
	for _, v := range d.Targets {
		s += v
		s2 += v * v
	}
	m := s / 1500
	if v := s2/1500 - m*m; v < 0.05 || v > 2 {
		t.Errorf("target variance %v", v)
	}
	if _, err := TeacherStudent(0, 1, 1, 1, 1); err == nil {
		t.Error("n=0: no error")
	}
}
