package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Float32 activations: tanh, sigmoid, softplus and gelu with their first
// and second derivatives, evaluated in float32 from one exponential per
// element (exp32, Cephes expf) in forms that do not cancel:
//
//	tanh:     e = exp(-2|x|); t = sign(x)(1-e)/(1+e) for |x| >= 0.625, else
//	          sign(x) times Cephes tanhf's odd polynomial at |x|;
//	          s' = 4e/(1+e)²; s" = -2t s'
//	sigmoid:  e = exp(-|x|); r = 1/(1+e); s = r or e r (x < 0); s' = e r²;
//	          s" = -s' tanh(x/2), tanh(x/2) = sign(x)(1-e)r for |x| >= 1.25,
//	          else the tanh polynomial at x/2
//	softplus: e = exp(-|x|); s = max(x, 0) + log1p(e), log1p(e) =
//	          2 atanh(u), u = e/(2+e) <= 1/3, by its Taylor series to u^15;
//	          s' = sigmoid(x); s" = e r²
//	gelu:     see gelu32Go
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
func exp32(y float32) float32 { return expSplit32(y, 0, 0) }

// expSplit32 returns e^(y + lo) 2^k for y <= 0 (or NaN), |lo| <= ulp(y)
// and 0 <= k <= 64. lo is the low part of an argument that float32 cannot
// hold (gelu's -x²/2), added after the range reduction, where it is not
// lost; 2^k keeps results that would be subnormal in the normal range, for
// the caller to scale back after further products.
func expSplit32(y, lo float32, k int32) float32 {
	if ymin := expMin32 - float32(k)*math.Ln2; y < ymin {
		y = ymin // e^ymin 2^k rounds to 0 once scaled back
	}
	// Round to nearest even by adding and subtracting 1.5·2^23 (|y log2e|
	// < 2^22 here), as VROUNDPS does, without a float64 round trip.
	n := (y*log2e32 + 0x1.8p23) - 0x1.8p23
	r := y - n*ln2Hi32
	r -= n * ln2Lo32
	r += lo
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*(r*r) + r + 1
	// 2^n in two normal halves, so that results down to the subnormals
	// are scaled exactly and rounded once; NaN y leaves p NaN.
	ni := int32(n) + k
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
	case kernels.Gelu:
		gelu32Go(z, a, d1, d2)
	default:
		panic("kernels: activate32 of an unsupported activation")
	}
}

// Gelu in float32. With q = Φ(-|x|) = erfc(z)/2, z = |x|/√2:
//
//	q = t G(t) e/2, t = 1/(1 + z/2), e = exp(-x²/2) (x² split exactly into
//	    two float32s, expSplit32; e, q and φ held scaled by 2^64 until the
//	    last product, so that they are not rounded as subnormals), G(t) = erfc(z) exp(z²)/t a degree-10
//	    polynomial in u = (t - 7/12)·12/5 (Chebyshev fit on t in [1/6, 1],
//	    z <= 10; relative error below 0.13 of 2^-24, and 1.7 ulp evaluated
//	    in float32); beyond, e < 2^-144 and q underflows whatever G is
//	Φ(x) = q for x <= -1, 1 - q for x >= 1, and 1/2 + erf(x/√2)/2 between,
//	    with Cephes erff's polynomial (erf(v) = v P(v²), |v| < 1), where
//	    q's roundings near 1/2 would cost several ulp; φ(x) = e/√(2π)
//	s = x Φ(x), s' = Φ(x) + x φ(x), s" = φ(x)(2 - x²) (2 - x² with x² exact)
//
// x is clamped to ±geluClamp (φ(20) = 0 in float32) in s' and s", and in s
// below -geluClamp, so that ±Inf give the limits 0 (+Inf), 1 (0) and 0,
// not NaN from Inf·0.
const (
	geluClamp   = 20
	geluTc      = 0.58333333333333333 // 7/12, the centre of t's interval
	geluInvH    = 2.4                 // 12/5, one over its half width
	invSqrt2f   = 0.70710678118654752
	invSqrt2Pif = 0.398942280401432677939946059934381868
)

// geluSmall is the |x| below which Φ is 1/2 + erf(x/√2)/2.
const geluSmall = 1

// geluErf are Cephes erff's coefficients, highest degree first.
var geluErf = [...]float32{
	7.853861353153693e-5, -8.010193625184903e-4, 5.188327685732524e-3, -2.685381193529856e-2,
	1.128358514861418e-1, -3.761262582423300e-1, 1.128379165726710e0,
}

// geluG are the coefficients of G(u), highest degree first.
var geluG = [...]float32{
	5.1099250055184012e-6,
	6.5724834173927728e-6,
	-6.5753807584320898e-5,
	4.9224164891283598e-6,
	0.00059596177630720192,
	-0.00061983609664263027,
	-0.0061540955360676784,
	0.0059628676417023381,
	0.10202978024282056,
	0.32622249716133966,
	0.57201197578536053,
}

// gelu32Go sets a = gelu z, d1 = gelu' z and d2 = gelu" z (d1, d2 unless
// nil); a may alias z.
func gelu32Go(z, a, d1, d2 []float32) {
	for i, x := range z {
		xc := min(max(x, -geluClamp), geluClamp) // NaN stays NaN
		ax := float32(math.Abs(float64(xc)))
		t := 1 / (1 + 0.5*(ax*invSqrt2f))
		u := (t - geluTc) * geluInvH
		g := geluG[0]
		for _, c := range geluG[1:] {
			g = g*u + c
		}
		h := float64(xc) * float64(xc) * 0.5 // exact
		hi := float32(h)
		// Scaled by 2^64 (exactly, below 2^64), so that nothing before the
		// last product falls into the subnormals: eS = e 2^64.
		eS := expSplit32(-hi, float32(float64(hi)-h), 64)
		qS := 0.5 * t * g * eS // Φ(-|x|) 2^64
		pdfS := invSqrt2Pif * eS
		var s, cdfS float32
		switch {
		case ax < geluSmall:
			zs := xc * invSqrt2f
			w := zs * zs
			p := geluErf[0]
			for _, c := range geluErf[1:] {
				p = p*w + c
			}
			cdf := 0.5 + 0.5*(zs*p)
			cdfS = cdf * 0x1p64
			s = x * cdf
		case math.Signbit(float64(x)):
			cdfS = qS
			s = max(x, -geluClamp) * qS * 0x1p-64
		default:
			cdf := 1 - qS*0x1p-64
			cdfS = cdf * 0x1p64
			s = x * cdf
		}
		a[i] = s
		if d1 != nil {
			d1[i] = (xc*pdfS + cdfS) * 0x1p-64
		}
		if d2 != nil {
			d2[i] = pdfS * float32(2-float64(xc)*float64(xc)) * 0x1p-64
		}
	}
}
