package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Float32 activations: tanh, sigmoid and softplus with their first and
// second derivatives, evaluated in float32 from one exponential per element
// (exp32, Cephes expf) in forms that do not cancel:
//
//	tanh:     e = exp(-2|x|); t = sign(x)(1-e)/(1+e) for |x| >= 0.625, else sign(x) times
//	          Cephes tanhf's odd polynomial; s' = 4e/(1+e)²; s" = -2t s'
//	sigmoid:  e = exp(-|x|); r = 1/(1+e); s = r or e r (x < 0); s' = e r²;
//	          s" = -s' tanh(x/2), tanh(x/2) = sign(x)(1-e)r for |x| >= 1.25,
//	          else the tanh polynomial at x/2
//	softplus: e = exp(-|x|); s = max(x, 0) + log1p(e), log1p(e) =
//	          2 atanh(u), u = e/(2+e) <= 1/3, by its Taylor series to u^15;
//	          s' = sigmoid(x); s" = e r²
//
// The functions here are the pure-Go twins of the AVX2+FMA kernels in
// act32_amd64.s (same algorithm; the assembly fuses multiply-adds, so the
// two may differ by an ulp) and run where those do not: other
// architectures and CPUs without AVX2 and FMA. Their accuracy against the
// float64 reference ActivationAt is tested in act32_test.go.

// Constants of exp32 (Cephes expf): ln 2 split so that n*ln2Hi is exact
// for |n| < 2^9, and the degree-5 polynomial of (exp(r) - 1 - r)/r² on
// |r| <= ln2/2.
const (
	log2e32 = 1.44269504088896341
	ln2Hi32 = 0.693359375
	ln2Lo32 = -2.12194440e-4
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
	// expMin32 clamps the argument of exp32: exp(-104) is below half the
	// smallest float32 subnormal, so it and anything smaller round to 0.
	expMin32 = -104
)

// Cephes tanhf's polynomial: tanh x = x + x³ P(x²) for |x| < 0.625, the
// switch point tanhSmall32.
const (
	tanhQ0      = -5.70498872745e-3
	tanhQ1      = 2.06390887954e-2
	tanhQ2      = -5.37397155531e-2
	tanhQ3      = 1.33314422036e-1
	tanhQ4      = -3.33332819422e-1
	tanhSmall32 = 0.625
)

// exp32 returns e^y for y <= 0 (or NaN) in float32, within about an ulp
// (subnormal results are rounded once). y below expMin32 gives 0.
func exp32(y float32) float32 {
	if y < expMin32 {
		y = expMin32
	}
	n := float32(math.RoundToEven(float64(y * log2e32)))
	r := y - n*ln2Hi32
	r -= n * ln2Lo32
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*(r*r) + r + 1
	// 2^n in two normal halves, so that results down to the subnormals
	// are scaled exactly and rounded once; NaN y leaves p NaN.
	ni := int32(n)
	n1 := ni >> 1
	n2 := ni - n1
	return p * math.Float32frombits(uint32(n1+127)<<23) * math.Float32frombits(uint32(n2+127)<<23)
}

// recip32 returns 1/(1 + e) correctly rounded (1 + e is exact in float64,
// and float64 division rounded to float32 is correctly rounded). The
// assembly gets within about half an ulp by a Newton step instead.
func recip32(e float32) float32 { return float32(1 / (1 + float64(e))) }

// tanhPoly32 returns tanh x for 0 <= x < tanhSmall32 (x + x³ P(x²)); its
// callers apply the sign, since x³ P(x²) + x is +0 at x = -0.
func tanhPoly32(x float32) float32 {
	z := x * x
	q := (((tanhQ0*z+tanhQ1)*z+tanhQ2)*z+tanhQ3)*z + tanhQ4
	return x*z*q + x
}

// copysign32 returns |m| with the sign of s.
func copysign32(m, s float32) float32 {
	return math.Float32frombits(math.Float32bits(m)&^(1<<31) | math.Float32bits(s)&(1<<31))
}

// tanh32Go sets a = tanh z, d1 = tanh' z and d2 = tanh" z (d1, d2 unless
// nil); a may alias z.
func tanh32Go(z, a, d1, d2 []float32) {
	for i, x := range z {
		ax := float32(math.Abs(float64(x)))
		e := exp32(-2 * ax)
		r := recip32(e)
		t := (1 - e) * r
		if ax < tanhSmall32 {
			t = tanhPoly32(ax)
		}
		t = copysign32(t, x) // after the branch, so that tanh(-0) = -0
		s1 := 4 * (e * r * r)
		a[i] = t
		if d1 != nil {
			d1[i] = s1
		}
		if d2 != nil {
			d2[i] = -2 * t * s1
		}
	}
}

// sigmoid32Go sets a = σ(z), d1 = σ'(z) and d2 = σ"(z) (d1, d2 unless
// nil); a may alias z.
func sigmoid32Go(z, a, d1, d2 []float32) {
	for i, x := range z {
		ax := float32(math.Abs(float64(x)))
		e := exp32(-ax)
		r := recip32(e)
		er := e * r // σ(-|x|)
		s := r
		if math.Signbit(float64(x)) {
			s = er
		}
		s1 := er * r
		a[i] = s
		if d1 != nil {
			d1[i] = s1
		}
		if d2 != nil {
			th := (1 - e) * r // tanh(|x|/2)
			if ax < 2*tanhSmall32 {
				th = tanhPoly32(ax * 0.5)
			}
			th = copysign32(th, x)
			d2[i] = -s1 * th
		}
	}
}

// log1pSmall32 returns log(1 + e) for e in [0, 1] (or NaN): 2 atanh(u)
// with u = e/(2 + e) in [0, 1/3], summed to u^15 (the next term is below
// 2^-25 of the sum).
func log1pSmall32(e float32) float32 {
	u := e / (2 + e)
	w := u * u
	p := ((((((w*(1.0/15)+1.0/13)*w+1.0/11)*w+1.0/9)*w+1.0/7)*w+1.0/5)*w+1.0/3)*w + 1
	return 2 * u * p
}

// softplus32Go sets a = log(1 + e^z), d1 = σ(z) and d2 = σ'(z) (d1, d2
// unless nil); a may alias z.
func softplus32Go(z, a, d1, d2 []float32) {
	for i, x := range z {
		ax := float32(math.Abs(float64(x)))
		e := exp32(-ax)
		r := recip32(e)
		er := e * r
		a[i] = max(x, 0) + log1pSmall32(e)
		if d1 != nil {
			s := r
			if math.Signbit(float64(x)) {
				s = er
			}
			d1[i] = s
		}
		if d2 != nil {
			d2[i] = er * r
		}
	}
}

// activate32Go is activate32 by the Go twins.
func activate32Go(act kernels.Activation, z, a, d1, d2 []float32) {
	switch act {
	case kernels.Tanh:
		tanh32Go(z, a, d1, d2)
	case kernels.Sigmoid:
		sigmoid32Go(z, a, d1, d2)
	case kernels.Softplus:
		softplus32Go(z, a, d1, d2)
	default:
		panic("kernels: activate32 of an unsupported activation")
	}
}
