package kerneltest

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/curvprobe/curvprobe/kernels"
)

// guardLen is the number of guard elements on each side of a destination
// view: odd, so that views start at unaligned offsets.
const guardLen = 5

// Guard NaNs carry a payload that no arithmetic produces (hardware
// generates the default NaN, which has none), so a guard overwritten by a
// computed NaN is detected by comparing bits.
const (
	guardBits32 = 0x7fc0_0bad
	guardBits64 = 0x7ff8_0000_0000_0bad
)

func guard[T kernels.Float]() T {
	var g T
	if unsafe.Sizeof(g) == 4 {
		*(*uint32)(unsafe.Pointer(&g)) = guardBits32
	} else {
		*(*uint64)(unsafe.Pointer(&g)) = guardBits64
	}
	return g
}

func bitsOf[T kernels.Float](x T) uint64 {
	if unsafe.Sizeof(x) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&x)))
	}
	return *(*uint64)(unsafe.Pointer(&x))
}

// mem is a backend buffer under test: a view into the middle of a larger
// allocation whose other elements, and the padding of strided matrices, are
// guard NaNs.
type mem[T kernels.Float] struct {
	full, view kernels.Buffer
	init       []T    // contents of full as uploaded
	payload    []bool // payload[i]: element i of full is in the matrix or vector
}

// suite holds the backend under test and the shared input generator.
type suite[T kernels.Float] struct {
	b   kernels.Backend[T]
	rnd *rand.Rand
}

// put uploads data into a guarded view of len(data) elements.
func (s *suite[T]) put(data []T) *mem[T] {
	return s.putStrided(1, len(data), len(data), data)
}

// putStrided uploads the rows×cols row-major data into a guarded view of
// rows*ld elements whose row i starts at element i*ld; the ld-cols padding
// elements of each row are guards.
func (s *suite[T]) putStrided(rows, cols, ld int, data []T) *mem[T] {
	if len(data) != rows*cols || ld < cols {
		panic("kerneltest: bad putStrided call")
	}
	n := rows * ld
	m := &mem[T]{init: make([]T, n+2*guardLen), payload: make([]bool, n+2*guardLen)}
	g := guard[T]()
	for i := range m.init {
		m.init[i] = g
	}
	for i := range rows {
		for j := range cols {
			m.init[guardLen+i*ld+j] = data[i*cols+j]
			m.payload[guardLen+i*ld+j] = true
		}
	}
	m.full = s.b.Alloc(len(m.init))
	s.b.Upload(m.full, m.init)
	m.view = s.b.View(m.full, guardLen, n)
	return m
}

// get returns the view's contents in float64.
func (s *suite[T]) get(m *mem[T]) []float64 {
	v := make([]T, m.view.Len())
	s.b.Download(v, m.view)
	return f64s(v)
}

// getT returns the view's contents.
func (s *suite[T]) getT(m *mem[T]) []T {
	v := make([]T, m.view.Len())
	s.b.Download(v, m.view)
	return v
}

// checkGuards reports any guard or padding element of m that changed.
func (s *suite[T]) checkGuards(t *testing.T, what string, m *mem[T]) {
	t.Helper()
	s.checkBits(t, what, m, false)
}

// checkUnchanged reports any element of m, guards included, that changed.
func (s *suite[T]) checkUnchanged(t *testing.T, what string, m *mem[T]) {
	t.Helper()
	s.checkBits(t, what, m, true)
}

// checkUnchangedUnless checks that the input m is unchanged, guards and
// payload, unless it is dst, the output the kernel wrote into it.
func (s *suite[T]) checkUnchangedUnless(t *testing.T, what string, m, dst *mem[T]) {
	t.Helper()
	if m != dst {
		s.checkUnchanged(t, what, m)
	}
}

func (s *suite[T]) checkBits(t *testing.T, what string, m *mem[T], all bool) {
	t.Helper()
	full := make([]T, len(m.init))
	s.b.Download(full, m.full)
	for i, v := range full {
		if (all || !m.payload[i]) && bitsOf(v) != bitsOf(m.init[i]) {
			kind := "guard"
			if m.payload[i] {
				kind = "input"
			}
			t.Errorf("%s: %s element %d of the allocation (view offset %d) changed from %v to %v",
				what, kind, i, guardLen, m.init[i], v)
			return
		}
	}
}

func (s *suite[T]) free(ms ...*mem[T]) {
	for _, m := range ms {
		if m != nil {
			s.b.Free(m.full)
		}
	}
}

// vals returns n values of random sign with magnitudes uniform in
// [lo, hi], lo > 0: never zero.
func (s *suite[T]) vals(n int, lo, hi float64) []T {
	v := make([]T, n)
	for i := range v {
		x := T(lo + (hi-lo)*s.rnd.Float64())
		if x == 0 {
			x = T(lo)
		}
		if s.rnd.IntN(2) == 0 {
			x = -x
		}
		v[i] = x
	}
	return v
}

// labels returns n random class labels in [0, cols), stored as T.
func (s *suite[T]) labels(n, cols int) []T {
	v := make([]T, n)
	for i := range v {
		v[i] = T(s.rnd.IntN(cols))
	}
	return v
}

func f64s[T kernels.Float](v []T) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// compare fails t with the worst mismatch of got against want.
func compare(t *testing.T, what string, got, want []float64, tol func(i int) float64) {
	t.Helper()
	if m := Compare(got, want, tol); m != nil {
		t.Errorf("%s: %v", what, m)
	}
}

// compareScalar fails t unless got is within tol of want.
func compareScalar(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !Within(got, want, tol) {
		t.Errorf("%s: got %.17g, want %.17g, |diff| %.3g > tol %.3g", what, got, want, math.Abs(got-want), tol)
	}
}
