package kerneltest

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/curvprobe/curvprobe/kernels"
)

// Eps returns kernels.Eps[T](), the machine epsilon of T, under the name
// the suite's tolerances use.
func Eps[T kernels.Float]() float64 { return kernels.Eps[T]() }

// eps64 is the machine epsilon of float64, the precision in which the
// interface promises reductions accumulate.
const eps64 = 0x1p-52

// Tiny returns the smallest positive normal number of T; tolerances add it
// where a result may underflow to a subnormal or zero.
func Tiny[T kernels.Float]() float64 {
	if unsafe.Sizeof(T(0)) == 4 {
		return 0x1p-126
	}
	return 0x1p-1022
}

// Within reports whether got is within tol of want: |got - want| <= tol,
// where equal values (including equal infinities) are always within, a NaN
// is within only of a NaN, and an infinity only of the same infinity.
func Within(got, want, tol float64) bool {
	switch {
	case got == want:
		return true
	case math.IsNaN(want):
		return math.IsNaN(got)
	case math.IsNaN(got), math.IsInf(got, 0), math.IsInf(want, 0):
		return false
	}
	return math.Abs(got-want) <= tol
}

// Mismatch describes the worst element of a failed comparison.
type Mismatch struct {
	Index          int     // index of the worst element
	Got, Want, Tol float64 // its values and tolerance
	Bad, N         int     // elements outside tolerance, elements compared
}

// Error describes the worst mismatch and how many elements were outside tolerance.
func (m *Mismatch) Error() string {
	return fmt.Sprintf("%d of %d elements outside tolerance; worst at index %d: got %.17g, want %.17g, |diff| %.3g, tol %.3g (%.3g tols)",
		m.Bad, m.N, m.Index, m.Got, m.Want, math.Abs(m.Got-m.Want), m.Tol, math.Abs(m.Got-m.Want)/m.Tol)
}

// Compare compares got with want elementwise under the tolerances tol(i)
// (see Within) and returns nil if all are within, or the worst element:
// the largest |got - want|/tol(i), NaN and infinite mismatches first.
// It panics if got and want differ in length.
func Compare(got, want []float64, tol func(i int) float64) *Mismatch {
	if len(got) != len(want) {
		panic("kerneltest: Compare length mismatch")
	}
	var worst *Mismatch
	worstRatio := -1.0
	bad := 0
	for i := range got {
		t := tol(i)
		if Within(got[i], want[i], t) {
			continue
		}
		bad++
		r := math.Abs(got[i]-want[i]) / t
		if math.IsNaN(r) || math.IsInf(r, 0) {
			r = math.Inf(1)
		}
		if worst == nil || r > worstRatio {
			worst = &Mismatch{Index: i, Got: got[i], Want: want[i], Tol: t}
			worstRatio = r
		}
	}
	if worst != nil {
		worst.Bad, worst.N = bad, len(got)
	}
	return worst
}
