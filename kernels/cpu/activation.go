package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Activate sets a = s(z) and, where d1 and d2 are non-nil, d1 = s'(z) and
// d2 = s"(z) (the second derivative), elementwise, each evaluated in float64 by ActivationAt and
// rounded once to T. a may alias z; d1 and d2 may not.
//
//	for i := range z { a[i], d1[i], d2[i] = ActivationAt(act, z[i]) }
func (*Backend[T]) Activate(act kernels.Activation, z, a, d1, d2 kernels.Buffer) {
	zs, as := data[T](z), data[T](a)
	d1s, d2s := data[T](d1), data[T](d2)
	n := len(zs)
	if len(as) != n || (d1 != nil && len(d1s) != n) || (d2 != nil && len(d2s) != n) {
		panic("kernels: Activate length mismatch")
	}
	if act < kernels.Linear || act > kernels.Softplus {
		panic("kernels: unknown activation")
	}
	cost := costTranscendental
	if act == kernels.Linear || act == kernels.ReLU {
		cost = costMemory
	}
	parallel(n, cost, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s, s1, s2 := ActivationAt(act, float64(zs[i]))
			// z[i] is read before a[i] is written, so a may alias z.
			as[i] = T(s)
			if d1s != nil {
				d1s[i] = T(s1)
			}
			if d2s != nil {
				d2s[i] = T(s2)
			}
		}
	})
}

const (
	invSqrt2   = 1 / math.Sqrt2
	invSqrt2Pi = 0.398942280401432677939946059934381868 // 1/sqrt(2 pi)
)

// ActivationAt returns s(x), s'(x) and s"(x) (the second derivative) for the activation act, in
// float64. It is the scalar reference of Activate:
//
//	Linear:   x, 1, 0
//	ReLU:     max(x, 0), 1 if x > 0 else 0, 0 (so s'(0) = 0)
//	Tanh:     t = tanh x, 1 - t², -2t(1 - t²)
//	Sigmoid:  s = 1/(1 + e^-x), s(1 - s), s(1 - s)(1 - 2s)
//	Gelu:     x Φ(x), Φ(x) + x φ(x), φ(x)(2 - x²)   (exact erf form)
//	Softplus: log(1 + e^x), sigmoid(x), s(1 - s)
//
// with 1 - s computed as sigmoid(-x) and softplus as max(x,0) + log1p(e^-|x|)
// so that no result overflows or cancels for large |x|.
func ActivationAt(act kernels.Activation, x float64) (s, d1, d2 float64) {
	switch act {
	case kernels.Linear:
		return x, 1, 0
	case kernels.ReLU:
		if x > 0 {
			return x, 1, 0
		}
		if x <= 0 {
			return 0, 0, 0
		}
		return x, x, x // NaN
	case kernels.Tanh:
		t := math.Tanh(x)
		d := 1 - t*t
		return t, d, -2 * t * d
	case kernels.Sigmoid:
		p, q := sigmoid(x), sigmoid(-x)
		return p, p * q, p * q * (q - p)
	case kernels.Gelu:
		cdf := 0.5 * math.Erfc(-x*invSqrt2)
		pdf := invSqrt2Pi * math.Exp(-0.5*x*x)
		return x * cdf, cdf + x*pdf, pdf * (2 - x*x)
	case kernels.Softplus:
		p, q := sigmoid(x), sigmoid(-x)
		return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))), p, p * q
	}
	panic("kernels: unknown activation")
}

// sigmoid returns 1/(1 + e^-x) without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
