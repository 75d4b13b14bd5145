package kerneltest

import (
	"fmt"
	"math"
	"testing"
)

// testAdamUpdate checks one Adam step against the float64 recurrence, with
// gradients of both signs, moments of realistic sizes and weight decay.
// Tolerance: each output is a handful of roundings of O(1)-conditioned
// expressions; 8 Eps of the magnitudes involved.
func (s *suite[T]) testAdamUpdate(t *testing.T) {
	eps := Eps[T]()
	const lr, b1, b2, ae, bc1, bc2, wd = 0.01, 0.9, 0.999, 1e-8, 0.271, 0.00299, 0.05
	for _, n := range testLengths() {
		what := fmt.Sprintf("n=%d", n)
		p0, g0 := s.vals(n, 0.1, 3), s.vals(n, 0.1, 3)
		m0, v0 := s.vals(n, 0.1, 1), s.vals(n, 0.1, 1)
		for i := range g0 {
			if i%2 == 1 {
				g0[i], m0[i] = -g0[i], -m0[i]
			}
			v0[i] *= v0[i] // second moments are non-negative
		}
		pm, gm, mm, vm := s.put(p0), s.put(g0), s.put(m0), s.put(v0)
		s.b.AdamUpdate(pm.view, gm.view, mm.view, vm.view, lr, b1, b2, ae, bc1, bc2, wd)
		wp, wm, wv := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			g := float64(g0[i])
			wm[i] = b1*float64(m0[i]) + (1-b1)*g
			wv[i] = b2*float64(v0[i]) + (1-b2)*g*g
			p := float64(p0[i])
			wp[i] = p - lr*((wm[i]/bc1)/(math.Sqrt(wv[i]/bc2)+ae)+wd*p)
		}
		tol := func(w []float64) func(int) float64 {
			return func(i int) float64 { return 8 * eps * (math.Abs(w[i]) + 1) }
		}
		compare(t, what+" params", s.get(pm), wp, tol(wp))
		compare(t, what+" m", s.get(mm), wm, tol(wm))
		compare(t, what+" v", s.get(vm), wv, tol(wv))
		for _, m := range []*mem[T]{pm, mm, vm} {
			s.checkGuards(t, what, m)
		}
		s.checkUnchanged(t, what+" gradient", gm)
		s.free(pm, gm, mm, vm)
	}
}

// testAdamPrecondition checks dst = 1/sqrt(sqrt(v/bc2)+eps), in place and not.
func (s *suite[T]) testAdamPrecondition(t *testing.T) {
	eps := Eps[T]()
	const bc2, ae = 0.0199, 1e-8
	for _, n := range testLengths() {
		for _, inPlace := range []bool{false, true} {
			what := fmt.Sprintf("n=%d in-place=%t", n, inPlace)
			v0 := s.vals(n, 1e-6, 2)
			vm := s.put(v0)
			dm := vm
			if !inPlace {
				dm = s.put(s.vals(n, 0.1, 1))
			}
			s.b.AdamPrecondition(dm.view, vm.view, bc2, ae)
			want := make([]float64, n)
			for i, v := range v0 {
				want[i] = 1 / math.Sqrt(math.Sqrt(float64(v)/bc2)+ae)
			}
			compare(t, what, s.get(dm), want, func(i int) float64 { return 4 * eps * want[i] })
			s.checkGuards(t, what, dm)
			if !inPlace {
				s.checkUnchanged(t, what+" v", vm)
				s.free(dm)
			}
			s.free(vm)
		}
	}
}
