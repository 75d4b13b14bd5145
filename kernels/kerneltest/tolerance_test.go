package kerneltest

import (
	"math"
	"strings"
	"testing"
)

func TestEps(t *testing.T) {
	if e := Eps[float32](); float32(1+e) == 1 || float32(1+e/2) != 1 {
		t.Errorf("Eps[float32] = %g is not float32's epsilon", e)
	}
	if e := Eps[float64](); 1+e == 1 || 1+e/2 != 1 {
		t.Errorf("Eps[float64] = %g is not float64's epsilon", e)
	}
	type myFloat float32
	if Eps[myFloat]() != Eps[float32]() {
		t.Error("Eps of a type defined on float32 differs from float32's")
	}
	if x := float32(Tiny[float32]()); x != math.SmallestNonzeroFloat32*(1<<23) {
		t.Errorf("Tiny[float32] = %g", x)
	}
}

func TestWithin(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		got, want, tol float64
		ok             bool
	}{
		{1, 1, 0, true},
		{1.25, 1, 0.25, true}, // exact binary fractions: no rounding in got - want
		{1.5, 1, 0.25, false},
		{0.5, 1, 0.25, false},
		{-2, 2, 4, true},
		{inf, inf, 0, true},
		{-inf, inf, inf, false},
		{inf, 1, inf, false},
		{1, inf, inf, false},
		{nan, nan, 0, true},
		{nan, 1, inf, false},
		{1, nan, inf, false},
		{0, -0.0, 0, true},
	} {
		if ok := Within(c.got, c.want, c.tol); ok != c.ok {
			t.Errorf("Within(%g, %g, %g) = %t, want %t", c.got, c.want, c.tol, ok, c.ok)
		}
	}
}

func TestCompare(t *testing.T) {
	want := []float64{1, 2, 3, 4, 5}
	tol := func(int) float64 { return 0.1 }
	if m := Compare([]float64{1, 2.05, 3, 3.95, 5}, want, tol); m != nil {
		t.Errorf("Compare within tolerance = %v, want nil", m)
	}
	m := Compare([]float64{1.5, 2, 3, 4.3, 5}, want, tol)
	if m == nil || m.Index != 0 || m.Bad != 2 || m.N != 5 || m.Got != 1.5 || m.Want != 1 {
		t.Fatalf("Compare = %+v, want worst index 0 of 2 bad", m)
	}
	if s := m.Error(); !strings.Contains(s, "index 0") || !strings.Contains(s, "2 of 5") {
		t.Errorf("Mismatch.Error() = %q lacks the index or count", s)
	}
	// A NaN is worse than any finite difference.
	m = Compare([]float64{1.5, math.NaN(), 3, 4, 5}, want, tol)
	if m == nil || m.Index != 1 {
		t.Errorf("Compare with NaN: worst = %+v, want index 1", m)
	}
	// Per-element tolerances.
	m = Compare([]float64{1.5, 2.5, 3, 4, 5}, want, func(i int) float64 { return []float64{1, 0.1, 0, 0, 0}[i] })
	if m == nil || m.Index != 1 || m.Bad != 1 {
		t.Errorf("Compare with per-element tolerance = %+v, want index 1 only", m)
	}
	if Compare(nil, nil, tol) != nil {
		t.Error("Compare of empty slices is not nil")
	}
}
