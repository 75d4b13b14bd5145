package kerneltest

import (
	"fmt"
	"math"
	"testing"
)

func (s *suite[T]) testAddRow(t *testing.T) {
	eps := Eps[T]()
	for _, sh := range shapes {
		r, c := sh.rows, sh.cols
		x, v := s.vals(r*c, 0.1, 10), s.vals(c, 0.1, 10)
		xm, vm := s.put(x), s.put(v)
		s.b.AddRow(xm.view, vm.view, r, c)
		want := make([]float64, r*c)
		for i := range r {
			for j := range c {
				want[i*c+j] = float64(x[i*c+j]) + float64(v[j])
			}
		}
		what := fmt.Sprintf("%dx%d", r, c)
		// One rounding to T: Eps/2*|want|, doubled for slack.
		compare(t, what, s.get(xm), want, func(i int) float64 { return eps * math.Abs(want[i]) })
		s.checkGuards(t, what, xm)
		s.checkUnchanged(t, what+" v", vm)
		s.free(xm, vm)
	}
}

func (s *suite[T]) testColSum(t *testing.T) {
	eps := Eps[T]()
	for _, sh := range shapes {
		r, c := sh.rows, sh.cols
		for _, ab := range [][2]float64{{1, 0}, {0.5, -1.5}, {-1, 1}} {
			alpha, beta := ab[0], ab[1]
			x, d := s.vals(r*c, 0.1, 10), s.vals(c, 0.1, 10)
			if beta == 0 {
				// With beta = 0, dst is output only (as C in Gemm).
				for i := range d {
					d[i] = T(math.NaN())
				}
			}
			xm, dm := s.put(x), s.put(d)
			s.b.ColSum(dm.view, xm.view, r, c, alpha, beta)
			want, tol := make([]float64, c), make([]float64, c)
			for j := range c {
				var sum, abs float64
				for i := range r {
					sum += float64(x[i*c+j])
					abs += math.Abs(float64(x[i*c+j]))
				}
				want[j] = alpha * sum
				e := math.Abs(alpha) * abs
				if beta != 0 {
					want[j] += beta * float64(d[j])
					e += math.Abs(beta * float64(d[j]))
				}
				// A sum of rows terms in T (gamma_rows, as in Gemm) with 2
				// more roundings for alpha, beta and the update.
				tol[j] = float64(r+2)*eps*e + Tiny[T]()
			}
			what := fmt.Sprintf("%dx%d alpha=%g beta=%g", r, c, alpha, beta)
			compare(t, what, s.get(dm), want, func(i int) float64 { return tol[i] })
			s.checkGuards(t, what, dm)
			s.checkUnchanged(t, what+" x", xm)
			s.free(xm, dm)
		}
	}
}
