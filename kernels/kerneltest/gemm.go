package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// gemmShapes are the (m, n, k) of the Gemm tests: empty dimensions, ones,
// sizes that are not multiples of 32 or of typical register blocks, and
// one long and one deep product.
var gemmShapes = [][3]int{
	{0, 3, 2}, {3, 0, 2}, {3, 2, 0}, {1, 1, 1}, {1, 7, 5}, {7, 1, 5}, {5, 7, 1},
	{2, 3, 4}, {13, 17, 19}, {33, 31, 65}, {64, 64, 64}, {1000, 37, 5}, {37, 5, 1000},
}

func (s *suite[T]) testGemm(t *testing.T) {
	eps := Eps[T]()
	for _, mnk := range gemmShapes {
		m, n, k := mnk[0], mnk[1], mnk[2]
		for _, tA := range []kernels.Trans{kernels.NoTrans, kernels.Transpose} {
			for _, tB := range []kernels.Trans{kernels.NoTrans, kernels.Transpose} {
				for _, pad := range []int{0, 3} {
					for _, ab := range [][2]float64{{1, 0}, {-0.7, 0.5}, {1.3, 1}} {
						s.gemmCase(t, eps, tA, tB, m, n, k, pad, ab[0], ab[1])
					}
				}
			}
		}
	}
}

func (s *suite[T]) gemmCase(t *testing.T, eps float64, tA, tB kernels.Trans, m, n, k, pad int, alpha, beta float64) {
	t.Helper()
	what := fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d pad=%d alpha=%g beta=%g", tA, tB, m, n, k, pad, alpha, beta)
	ar, ac, br, bc := kernels.GemmShapes(tA, tB, m, n, k)
	// Leading dimensions pad elements longer than the minimum (the padding
	// is guard NaN, which would poison any result that read it), at least 1.
	lda, ldb, ldc := max(1, ac+pad), max(1, bc+pad), max(1, n+pad)
	a, b := s.vals(ar*ac, 0.5, 1), s.vals(br*bc, 0.5, 1)
	c := s.vals(m*n, 0.5, 1)
	if beta == 0 {
		// With beta = 0, C is output only: NaN there must not propagate.
		for i := range c {
			c[i] = T(math.NaN())
		}
	}
	am, bm, cm := s.putStrided(ar, ac, lda, a), s.putStrided(br, bc, ldb, b), s.putStrided(m, n, ldc, c)
	s.b.Gemm(tA, tB, m, n, k, alpha, am.view, lda, bm.view, ldb, beta, cm.view, ldc)

	opA := func(i, l int) float64 {
		if tA {
			return float64(a[l*ac+i])
		}
		return float64(a[i*ac+l])
	}
	opB := func(l, j int) float64 {
		if tB {
			return float64(b[j*bc+l])
		}
		return float64(b[l*bc+j])
	}
	got := make([]float64, m*n)
	want := make([]float64, m*n)
	tol := make([]float64, m*n)
	full := s.get(cm)
	for i := range m {
		for j := range n {
			var sum, abs float64
			for l := range k {
				p := opA(i, l) * opB(l, j)
				sum += p
				abs += math.Abs(p)
			}
			w := alpha * sum
			e := math.Abs(alpha) * abs
			if beta != 0 {
				w += beta * float64(c[i*n+j])
				e += math.Abs(beta * float64(c[i*n+j]))
			}
			want[i*n+j] = w
			got[i*n+j] = full[i*ldc+j]
			// Higham's bound for an inner product of length k in T,
			// gamma_k ≈ k*Eps/2, on sum|alpha a b| + |beta c|, with 2 more
			// roundings for alpha, beta and the update; blocked and
			// parallel BLAS stay within it.
			tol[i*n+j] = float64(k+2)*eps*e + Tiny[T]()
		}
	}
	compare(t, what, got, want, func(i int) float64 { return tol[i] })
	s.checkGuards(t, what+" C", cm)
	s.checkUnchanged(t, what+" A", am)
	s.checkUnchanged(t, what+" B", bm)
	s.free(am, bm, cm)
}
