package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Activate sets a = s(z) and, where d1 and d2 are non-nil, d1 = s'(z) and
// d2 = s"(z) (the second derivative), elementwise. a may alias z; d1 and d2
// may not alias anything.
//
// float64 elements are evaluated in float64 by ActivationAt:
//
//	for i := range z { a[i], d1[i], d2[i] = ActivationAt(act, z[i]) }
//
// float32 tanh, sigmoid, softplus and gelu are evaluated in float32 by the
// same formulas from one exponential per element (act32.go; AVX2+FMA
// assembly where the CPU has it), within a few ulp of ActivationAt
// (act32_test.go states the bounds). Linear and ReLU are exact in either
// type.
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
	switch act {
	case kernels.Linear:
		copy(as, zs)
		fill(d1s, 1)
		fill(d2s, 0)
		return
	case kernels.ReLU:
		if is32[T]() {
			relu32(f32(zs), f32(as), f32or(d1s), f32or(d2s))
			return
		}
		relu(zs, as, d1s, d2s)
		return
	}
	if is32[T]() {
		z32, a32, d132, d232 := f32(zs), f32(as), f32or(d1s), f32or(d2s)
		parallel(n, costActivate32, func(lo, hi int) {
			activate32(act, z32[lo:hi], a32[lo:hi], sub(d132, lo, hi), sub(d232, lo, hi))
		})
		return
	}
	parallel(n, costTranscendental, func(lo, hi int) {
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

// f32or is f32(s), or nil for nil s (an output not asked for).
func f32or[T kernels.Float](s []T) []float32 {
	if s == nil {
		return nil
	}
	return f32(s)
}

// sub returns s[lo:hi], or nil for nil s.
func sub[T any](s []T, lo, hi int) []T {
	if s == nil {
		return nil
	}
	return s[lo:hi]
}

// fill sets every element of s to v.
func fill[T kernels.Float](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// relu sets a = max(z, 0) (NaN stays NaN), d1 = 1 where z > 0 and 0
// elsewhere (NaN for NaN), d2 = 0 (NaN for NaN), as ActivationAt.
func relu[T kernels.Float](z, a, d1, d2 []T) {
	for i, x := range z {
		s, s1, s2 := x, T(1), T(0)
		if x <= 0 {
			s, s1 = 0, 0
		} else if x != x {
			s1, s2 = x, x
		}
		a[i] = s
		if d1 != nil {
			d1[i] = s1
		}
		if d2 != nil {
			d2[i] = s2
		}
	}
}

// relu32 is relu for float32 without a branch on the sign, which random
// signs mispredict half the time (BenchmarkRelu, 2^18 normal values, with
// s': 7.3 ns per element with the branch, 2.9 without): eight lanes at a
// time in AVX2 (reluF32), and for the rest, with the bits b of x as an
// int32, x > 0 exactly when b > 0 and x is not NaN; a NaN takes relu's
// branch.
func relu32(z, a, d1, d2 []float32) {
	const one = 0x3f800000 // float32 1
	a = a[:len(z)]
	if k := reluF32(z, a, d1, d2); k > 0 {
		z, a, d1, d2 = z[k:], a[k:], sub(d1, k, len(d1)), sub(d2, k, len(d2))
	}
	for i, x := range z {
		if x != x {
			relu(z[i:i+1], a[i:i+1], sub(d1, i, i+1), sub(d2, i, i+1))
			continue
		}
		b := int32(math.Float32bits(x))
		pos := uint32(^((b - 1) >> 31) & ^(b >> 31)) // all ones when b > 0
		a[i] = math.Float32frombits(uint32(b) & pos)
		if d1 != nil {
			d1[i] = math.Float32frombits(one & pos)
		}
		if d2 != nil {
			d2[i] = 0
		}
	}
}

const (
	tanhSmall  = 0.625 // math.Tanh's switch from its rational function to Exp
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
// evaluated from one exponential per element in forms that neither
// overflow nor cancel (except gelu, by Erfc and Exp, whose s' and s" cancel
// only near their roots, and which gives its limits at ±Inf):
//
//	tanh:     for |x| < 0.625, t = math.Tanh(x) (a rational function there)
//	          and 1 - t² (t² < 0.31: no cancellation); beyond, e = e^-2|x|,
//	          t = sign(x)(1 - e)/(1 + e), 1 - t² = 4e/(1 + e)²
//	sigmoid:  e = e^-|x|; s = 1/(1 + e) or e/(1 + e) (x < 0); s(1 - s) = e/(1 + e)²;
//	          1 - 2s = -tanh(x/2) = -sign(x)(1 - e)/(1 + e), with 1 - e = -expm1(-|x|)
//	softplus: max(x, 0) + log1p(e^-|x|), and its derivatives as sigmoid's
//
// where, for sigmoid, expm1 replaces exp for |x| < 1, so that 1 - e keeps
// its relative accuracy near 0, and exp is used beyond, so that e does.
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
		if math.Abs(x) < tanhSmall {
			t := math.Tanh(x) // its rational branch: no exponential
			d := 1 - t*t
			return t, d, -2 * t * d
		}
		e := math.Exp(-2 * math.Abs(x)) // NaN for NaN x
		r := 1 / (1 + e)
		t := math.Copysign((1-e)*r, x)
		d := 4 * e * r * r
		return t, d, -2 * t * d
	case kernels.Sigmoid:
		e, om := expOneMinus(-math.Abs(x))
		r := 1 / (1 + e)
		p := r
		if math.Signbit(x) {
			p = e * r
		}
		d := e * r * r
		return p, d, -d * math.Copysign(om*r, x)
	case kernels.Gelu:
		if math.IsInf(x, 0) { // the limits, not Inf·0
			if x > 0 {
				return x, 1, math.Copysign(0, -1)
			}
			return math.Copysign(0, -1), 0, math.Copysign(0, -1)
		}
		cdf := 0.5 * math.Erfc(-x*invSqrt2)
		pdf := invSqrt2Pi * math.Exp(-0.5*x*x)
		return x * cdf, cdf + x*pdf, pdf * (2 - x*x)
	case kernels.Softplus:
		e := math.Exp(-math.Abs(x))
		r := 1 / (1 + e)
		p := r
		if math.Signbit(x) {
			p = e * r
		}
		return max(x, 0) + math.Log1p(e), p, e * r * r
	}
	panic("kernels: unknown activation")
}

// expOneMinus returns e = exp(y) and 1 - e for y <= 0 (or NaN), both to
// full relative accuracy: from one Expm1 for y > -1, where 1 - e would
// cancel, and from one Exp below, where 1 + expm1(y) would.
func expOneMinus(y float64) (e, oneMinus float64) {
	if y > -1 {
		m := math.Expm1(y)
		return 1 + m, -m
	}
	e = math.Exp(y)
	return e, 1 - e
}
