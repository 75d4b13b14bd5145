package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// lengths are the vector lengths every vector operation is tested at: all
// of 0..40, sizes around powers of two, and sizes past the point where a
// backend may split work (the CPU backend at 1<<15 elements).
var lengths = func() []int {
	var l []int
	for n := range 41 {
		l = append(l, n)
	}
	return append(l, 63, 64, 65, 127, 1000, 1023, 4097, 1<<15+3, 100_003)
}()

// testLengths returns lengths, less 100_003 under -short: 1<<15+3 already
// takes every path a longer vector takes. On the CPU backend both lie
// below parallelMin (1<<17) for the cost-1 splits (float32 activations,
// Rademacher) and above it for the cost-8 ones (float64 activations,
// Normal, Adam), so each is split by both or by neither; on CUDA both
// span many blocks and lie below one reduction grid (1024 blocks of 256)
// and one elementwise grid (4096 blocks), so neither strides.
func testLengths() []int {
	if testing.Short() {
		return lengths[:len(lengths)-1]
	}
	return lengths
}

// shape is a rows×cols matrix shape.
type shape struct{ rows, cols int }

// shapes are the matrix shapes of the row-wise operations: empty, one
// row, one column, sizes that are not multiples of 32, tall, wide, and
// large enough for a backend to go parallel.
var shapes = []shape{
	{0, 3}, {3, 0}, {1, 1}, {1, 10}, {10, 1}, {1, 40}, {40, 1}, {2, 3}, {7, 3},
	{17, 33}, {33, 10}, {1000, 37}, {37, 1000}, {300, 130}, {2, 40_000},
}

// Run runs the conformance suite against the backend newBackend returns.
// It uses the backend only through the kernels.Backend interface.
func Run[T kernels.Float](t *testing.T, newBackend func() kernels.Backend[T]) {
	b := newBackend()
	t.Logf("backend %s, Eps %g", b.Name(), Eps[T]())
	tests := []struct {
		name string
		f    func(*suite[T], *testing.T)
	}{
		{"Memory", (*suite[T]).testMemory},
		{"Copy", (*suite[T]).testCopy},
		{"Fill", (*suite[T]).testFill},
		{"Dot", (*suite[T]).testDot},
		{"Axpy", (*suite[T]).testAxpy},
		{"Scale", (*suite[T]).testScale},
		{"Nrm2", (*suite[T]).testNrm2},
		{"Rademacher", (*suite[T]).testRademacher},
		{"Normal", (*suite[T]).testNormal},
		{"Gemm", (*suite[T]).testGemm},
		{"AddRow", (*suite[T]).testAddRow},
		{"ColSum", (*suite[T]).testColSum},
		{"Activate", (*suite[T]).testActivate},
		{"ActivateSpecial", (*suite[T]).testActivateSpecial},
		{"Mul", (*suite[T]).testMul},
		{"MulAdd", (*suite[T]).testMulAdd},
		{"Mul3Add", (*suite[T]).testMul3Add},
		{"SoftmaxCE", (*suite[T]).testSoftmaxCE},
		{"SoftmaxCELarge", (*suite[T]).testSoftmaxCELarge},
		{"SoftmaxHVP", (*suite[T]).testSoftmaxHVP},
		{"SquaredError", (*suite[T]).testSquaredError},
		{"CountCorrect", (*suite[T]).testCountCorrect},
		{"AdamUpdate", (*suite[T]).testAdamUpdate},
		{"AdamPrecondition", (*suite[T]).testAdamPrecondition},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &suite[T]{b: b, rnd: rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))}
			tc.f(s, t)
			if err := b.Sync(); err != nil {
				t.Errorf("Sync after %s: %v", tc.name, err)
			}
		})
	}
}

func (s *suite[T]) testMemory(t *testing.T) {
	for _, n := range testLengths() {
		a := s.b.Alloc(n)
		if a.Len() != n {
			t.Fatalf("Alloc(%d).Len() = %d", n, a.Len())
		}
		got := make([]T, n)
		s.b.Download(got, a)
		for i, v := range got {
			if v != 0 {
				t.Fatalf("Alloc(%d): element %d = %v, want 0", n, i, v)
			}
		}
		s.b.Free(a)

		// Upload and Download round-trip bits, and views see their window.
		x := s.vals(n, 0.1, 10)
		m := s.put(x)
		back := s.getT(m)
		for i := range x {
			if bitsOf(back[i]) != bitsOf(x[i]) {
				t.Fatalf("n=%d: round trip element %d: got %v, want %v", n, i, back[i], x[i])
			}
		}
		if n >= 3 {
			v := s.b.View(m.view, 1, n-2)
			vv := s.b.View(v, 1, n-3)
			got := make([]T, n-3)
			s.b.Download(got, vv)
			for i := range got {
				if got[i] != x[i+2] {
					t.Fatalf("n=%d: view of view element %d = %v, want %v", n, i, got[i], x[i+2])
				}
			}
			// Upload through a view writes the parent's storage.
			y := s.vals(n-3, 0.1, 10)
			s.b.Upload(vv, y)
			all := s.getT(m)
			for i := range y {
				if all[i+2] != y[i] {
					t.Fatalf("n=%d: upload through view: element %d = %v, want %v", n, i+2, all[i+2], y[i])
				}
			}
			s.b.Free(v) // a no-op for views
		}
		s.checkGuards(t, fmt.Sprintf("n=%d", n), m)
		s.free(m)
	}
}

func (s *suite[T]) testCopy(t *testing.T) {
	for _, n := range testLengths() {
		x := s.vals(n, 0.1, 10)
		src, dst := s.put(x), s.put(s.vals(n, 0.1, 10))
		s.b.Copy(dst.view, src.view)
		got := s.getT(dst)
		for i := range x {
			if bitsOf(got[i]) != bitsOf(x[i]) {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, got[i], x[i])
			}
		}
		s.checkGuards(t, fmt.Sprintf("n=%d dst", n), dst)
		s.checkUnchanged(t, fmt.Sprintf("n=%d src", n), src)
		s.b.Copy(src.view, src.view) // dst aliasing src is the identity
		s.checkUnchanged(t, fmt.Sprintf("n=%d Copy(x, x)", n), src)
		s.free(src, dst)
	}
}

func (s *suite[T]) testFill(t *testing.T) {
	for _, n := range testLengths() {
		for _, a := range []float64{0, 1, -0.1, math.Pi * 1e3} {
			dst := s.put(s.vals(n, 0.1, 10))
			s.b.Fill(dst.view, a)
			// Exact: Fill stores T(a).
			for i, v := range s.getT(dst) {
				if v != T(a) {
					t.Fatalf("n=%d a=%g: element %d = %v, want %v", n, a, i, v, T(a))
				}
			}
			s.checkGuards(t, fmt.Sprintf("n=%d a=%g", n, a), dst)
			s.free(dst)
		}
	}
}

// dotTol is the tolerance of a float64-accumulated sum of n terms whose
// absolute values sum to abs, each term formed with at most one rounding
// to T: Eps/2*abs for the terms (doubled for slack) and the classical
// n*eps64 bound (Higham, Accuracy and Stability, eq. 3.5) for any order
// of summation, with 2 more terms for the final operations.
func dotTol[T kernels.Float](n int, abs float64) float64 {
	return (Eps[T]() + float64(n+2)*eps64) * abs
}

func (s *suite[T]) testDot(t *testing.T) {
	for _, n := range testLengths() {
		x, y := s.vals(n, 0.1, 10), s.vals(n, 0.1, 10)
		xm, ym := s.put(x), s.put(y)
		var want, abs, want2, abs2 float64
		for i := range x {
			p := float64(x[i]) * float64(y[i])
			want += p
			abs += math.Abs(p)
			want2 += float64(x[i]) * float64(x[i])
		}
		abs2 = want2
		compareScalar(t, fmt.Sprintf("n=%d Dot(x, y)", n), s.b.Dot(xm.view, ym.view), want, dotTol[T](n, abs))
		compareScalar(t, fmt.Sprintf("n=%d Dot(x, x)", n), s.b.Dot(xm.view, xm.view), want2, dotTol[T](n, abs2))
		s.checkUnchanged(t, fmt.Sprintf("n=%d x", n), xm)
		s.checkUnchanged(t, fmt.Sprintf("n=%d y", n), ym)
		s.free(xm, ym)
	}
}

func (s *suite[T]) testAxpy(t *testing.T) {
	eps := Eps[T]()
	for _, n := range testLengths() {
		for _, alpha := range []float64{0.7, -1.3, 0} {
			x, y := s.vals(n, 0.1, 10), s.vals(n, 0.1, 10)
			want := make([]float64, n)
			for i := range x {
				want[i] = alpha*float64(x[i]) + float64(y[i])
			}
			// Rounding alpha to T, the product and the sum: three
			// roundings of Eps/2 each, bounded by Eps*(|alpha x| + |y|)
			// plus the same again for slack.
			tol := func(i int) float64 { return 2 * eps * (math.Abs(alpha*float64(x[i])) + math.Abs(float64(y[i]))) }
			xm, ym := s.put(x), s.put(y)
			s.b.Axpy(alpha, xm.view, ym.view)
			what := fmt.Sprintf("n=%d alpha=%g", n, alpha)
			compare(t, what, s.get(ym), want, tol)
			s.checkGuards(t, what, ym)
			s.checkUnchanged(t, what+" x", xm)

			// y aliasing x: y = (alpha + 1) x.
			for i := range x {
				want[i] = (alpha + 1) * float64(x[i])
			}
			s.b.Axpy(alpha, xm.view, xm.view)
			compare(t, what+" Axpy(alpha, x, x)", s.get(xm), want, func(i int) float64 { return 2 * eps * (math.Abs(alpha) + 1) * math.Abs(float64(x[i])) })
			s.checkGuards(t, what+" Axpy(alpha, x, x)", xm)
			s.free(xm, ym)
		}
	}
}

func (s *suite[T]) testScale(t *testing.T) {
	eps := Eps[T]()
	for _, n := range testLengths() {
		for _, alpha := range []float64{0.7, -2.5, 0, 1} {
			x := s.vals(n, 0.1, 10)
			want := make([]float64, n)
			for i := range x {
				want[i] = alpha * float64(x[i])
			}
			xm := s.put(x)
			s.b.Scale(alpha, xm.view)
			what := fmt.Sprintf("n=%d alpha=%g", n, alpha)
			// Two roundings (alpha to T, the product) of Eps/2 each.
			compare(t, what, s.get(xm), want, func(i int) float64 { return eps * math.Abs(want[i]) })
			s.checkGuards(t, what, xm)
			s.free(xm)
		}
	}
}

func (s *suite[T]) testNrm2(t *testing.T) {
	for _, n := range testLengths() {
		x := s.vals(n, 0.1, 10)
		var ss float64
		for _, v := range x {
			ss += float64(v) * float64(v)
		}
		want := math.Sqrt(ss)
		xm := s.put(x)
		// The sum of squares within dotTol; the square root halves its
		// relative error.
		compareScalar(t, fmt.Sprintf("n=%d", n), s.b.Nrm2(xm.view), want, dotTol[T](n, ss)/ss*want)
		s.checkUnchanged(t, fmt.Sprintf("n=%d", n), xm)
		s.free(xm)
	}
	// Scaling: float32 values whose squares would overflow float32.
	x := []T{T(3e30), T(-4e30)}
	xm := s.put(x)
	compareScalar(t, "large values", s.b.Nrm2(xm.view), math.Hypot(float64(x[0]), float64(x[1])), 4*Eps[T]()*5e30)
	s.free(xm)
}

var seeds = []uint64{0, 1, 12345, 1<<63 + 7}

func (s *suite[T]) testRademacher(t *testing.T) {
	for _, n := range testLengths() {
		for _, seed := range seeds {
			dst := s.put(s.vals(n, 0.1, 10))
			s.b.Rademacher(dst.view, seed)
			// Exact: ±1 is representable; element i is relative to the view.
			for i, v := range s.getT(dst) {
				if w := T(kernels.RademacherAt(seed, uint64(i))); v != w {
					t.Fatalf("n=%d seed=%d: element %d = %v, want %v", n, seed, i, v, w)
				}
			}
			s.checkGuards(t, fmt.Sprintf("n=%d seed=%d", n, seed), dst)
			s.free(dst)
		}
	}
}

func (s *suite[T]) testNormal(t *testing.T) {
	eps := Eps[T]()
	for _, n := range testLengths() {
		for _, seed := range seeds {
			dst := s.put(s.vals(n, 0.1, 10))
			s.b.Normal(dst.view, seed)
			want := make([]float64, n)
			for i := range want {
				want[i] = kernels.NormalAt(seed, uint64(i))
			}
			// A backend evaluating Box-Muller in float64 with another libm
			// (CUDA's log, sqrt, cos: at most 1-2 ulp each) may differ from
			// Go's by a few eps64, which can move the rounding to T by one
			// T ulp: Eps*|want| + 64*eps64*(1+|want|). The CPU is exact.
			tol := func(i int) float64 { return eps*math.Abs(want[i]) + 64*eps64*(1+math.Abs(want[i])) }
			what := fmt.Sprintf("n=%d seed=%d", n, seed)
			compare(t, what, s.get(dst), want, tol)
			s.checkGuards(t, what, dst)
			s.free(dst)
		}
	}
}
