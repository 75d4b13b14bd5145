package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

var activations = []struct {
	act  kernels.Activation
	name string
}{
	{kernels.Linear, "linear"}, {kernels.ReLU, "relu"}, {kernels.Tanh, "tanh"},
	{kernels.Sigmoid, "sigmoid"}, {kernels.Gelu, "gelu"}, {kernels.Softplus, "softplus"},
}

// activationRef is the specification of Activate: s(x), s'(x), s"(x) (the second derivative) in
// float64, written directly from the definitions.
func activationRef(act kernels.Activation, x float64) (s, d1, d2 float64) {
	sig := func(x float64) float64 {
		if x < 0 {
			return math.Exp(x) / (1 + math.Exp(x))
		}
		return 1 / (1 + math.Exp(-x))
	}
	switch act {
	case kernels.Linear:
		return x, 1, 0
	case kernels.ReLU:
		if x > 0 {
			return x, 1, 0
		}
		return 0, 0, 0 // s'(0) = 0
	case kernels.Tanh:
		t := math.Tanh(x)
		return t, 1 - t*t, -2 * t * (1 - t*t)
	case kernels.Sigmoid:
		p, q := sig(x), sig(-x) // q = 1 - p without cancellation
		return p, p * q, p * q * (1 - 2*p)
	case kernels.Gelu:
		phi := math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) // standard normal pdf
		cdf := math.Erfc(-x/math.Sqrt2) / 2            // its cdf
		return x * cdf, cdf + x*phi, phi * (2 - x*x)
	case kernels.Softplus:
		p := sig(x)
		return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))), p, p * sig(-x)
	}
	panic("kerneltest: unknown activation")
}

// actTol is the tolerance of an activation value or derivative want: a
// backend evaluating in T with its own libm (CUDA's single-precision expf,
// tanhf, erfcf: at most 2-4 ulp) and a few operations after it, such as
// 1 - t², errs by a few Eps absolutely for results of magnitude up to 1 and
// relatively beyond; 8*Eps*(1+|want|) bounds both. The CPU computes in
// float64 and rounds once, within Eps/2*|want| + tiny.
func actTol[T kernels.Float](want float64) float64 {
	return 8 * Eps[T]() * (1 + math.Abs(want))
}

// actModes are the derivative outputs requested: d1 and d2 both, neither,
// or one of them.
var actModes = []struct{ d1, d2 bool }{{true, true}, {false, false}, {true, false}, {false, true}}

func (s *suite[T]) testActivate(t *testing.T) {
	for _, ac := range activations {
		for _, n := range testLengths() {
			s.activateCase(t, ac.act, ac.name, s.vals(n, 1e-3, 6))
		}
	}
}

// testActivateSpecial checks zero (s'(0) = 0 for relu), the points where
// formulas cancel, and large arguments, where naive formulas overflow.
func (s *suite[T]) testActivateSpecial(t *testing.T) {
	special := []T{0, 1e-3, -1e-3, 0.5, -0.5, 1, -1, T(math.Sqrt2), T(-math.Sqrt2),
		10, -10, 30, -30, 88.5, -88.5, 100, -100, 1000, -1000}
	for _, ac := range activations {
		s.activateCase(t, ac.act, ac.name, special)
	}
}

func (s *suite[T]) activateCase(t *testing.T, act kernels.Activation, name string, z []T) {
	t.Helper()
	n := len(z)
	want := [3][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
	for i, x := range z {
		want[0][i], want[1][i], want[2][i] = activationRef(act, float64(x))
	}
	for _, mode := range actModes {
		for _, alias := range []bool{false, true} {
			what := fmt.Sprintf("%s n=%d d1=%t d2=%t a=z:%t", name, n, mode.d1, mode.d2, alias)
			zm := s.put(z)
			am := zm
			if !alias {
				am = s.put(s.vals(n, 0.1, 10))
			}
			var d1m, d2m *mem[T]
			var d1, d2 kernels.Buffer
			if mode.d1 {
				d1m = s.put(s.vals(n, 0.1, 10))
				d1 = d1m.view
			}
			if mode.d2 {
				d2m = s.put(s.vals(n, 0.1, 10))
				d2 = d2m.view
			}
			s.b.Activate(act, zm.view, am.view, d1, d2)
			for k, m := range []*mem[T]{am, d1m, d2m} {
				if m == nil {
					continue
				}
				w := want[k]
				compare(t, fmt.Sprintf("%s output %d", what, k), s.get(m), w, func(i int) float64 { return actTol[T](w[i]) })
				s.checkGuards(t, fmt.Sprintf("%s output %d", what, k), m)
			}
			if !alias {
				s.checkUnchanged(t, what+" z", zm)
				s.free(am)
			}
			s.free(zm, d1m, d2m)
		}
	}
}

// testProducts runs Mul, MulAdd or Mul3Add (arity inputs) against ref,
// with dst separate and aliasing each input in turn, and with the first
// two inputs the same buffer. ref returns the result and its tolerance
// given the old dst and the inputs.
func (s *suite[T]) testProducts(t *testing.T, arity int, op func(dst kernels.Buffer, in []kernels.Buffer), ref func(d float64, in []float64) (want, tol float64)) {
	for _, n := range testLengths() {
		for alias := -1; alias < arity; alias++ {
			for _, same := range []bool{false, true} {
				what := fmt.Sprintf("n=%d dst=input %d same(x,y)=%t", n, alias, same)
				in := make([][]T, arity)
				ms := make([]*mem[T], arity)
				for k := range in {
					in[k] = s.vals(n, 0.1, 10)
					if same && k == 1 {
						in[1] = in[0]
						ms[1] = ms[0]
						continue
					}
					ms[k] = s.put(in[k])
				}
				var dm *mem[T]
				d0 := s.vals(n, 0.1, 10)
				if alias >= 0 {
					dm, d0 = ms[alias], in[alias]
				} else {
					dm = s.put(d0)
				}
				views := make([]kernels.Buffer, arity)
				for k := range ms {
					views[k] = ms[k].view
				}
				op(dm.view, views)
				want, tol := make([]float64, n), make([]float64, n)
				x := make([]float64, arity)
				for i := range n {
					for k := range in {
						x[k] = float64(in[k][i])
					}
					want[i], tol[i] = ref(float64(d0[i]), x)
				}
				compare(t, what, s.get(dm), want, func(i int) float64 { return tol[i] })
				s.checkGuards(t, what, dm)
				for k, m := range ms {
					s.checkUnchangedUnless(t, fmt.Sprintf("%s input %d", what, k), m, dm)
				}
				freed := map[*mem[T]]bool{}
				for _, m := range append(ms, dm) {
					if !freed[m] {
						freed[m] = true
						s.free(m)
					}
				}
			}
		}
	}
}

func (s *suite[T]) testMul(t *testing.T) {
	eps := Eps[T]()
	s.testProducts(t, 2, func(d kernels.Buffer, in []kernels.Buffer) { s.b.Mul(d, in[0], in[1]) },
		func(_ float64, x []float64) (float64, float64) {
			// One rounding: Eps/2*|xy|, doubled for slack.
			p := x[0] * x[1]
			return p, eps * math.Abs(p)
		})
}

func (s *suite[T]) testMulAdd(t *testing.T) {
	eps := Eps[T]()
	s.testProducts(t, 2, func(d kernels.Buffer, in []kernels.Buffer) { s.b.MulAdd(d, in[0], in[1]) },
		func(d float64, x []float64) (float64, float64) {
			// Two roundings in T (product, sum), or one in float64.
			p := x[0] * x[1]
			return d + p, eps * (math.Abs(p) + math.Abs(d))
		})
}

func (s *suite[T]) testMul3Add(t *testing.T) {
	eps := Eps[T]()
	s.testProducts(t, 3, func(d kernels.Buffer, in []kernels.Buffer) { s.b.Mul3Add(d, in[0], in[1], in[2]) },
		func(d float64, x []float64) (float64, float64) {
			// Three roundings in T (two products, sum).
			p := x[0] * x[1] * x[2]
			return d + p, 2 * eps * (math.Abs(p) + math.Abs(d))
		})
}
