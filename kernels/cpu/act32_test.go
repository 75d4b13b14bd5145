package cpu

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// act32Ulps bounds the error of the float32 activation s, s' and s"
// against ActivationAt (float64, stable formulas), in units of the float32
// spacing at the true value (2^-149 below the normal range). That is a
// relative bound for every output, zeros and subnormals included: none of
// them is a difference that cancels (act32.go). Where the bounds come
// from: exp32 errs by at most 1 ulp and the tanh polynomial by 0.8 (both
// checked by TestExp32), r = 1/(1+e) by half an ulp (recip32, RECIP), and
// each further sum, product or quotient by half an ulp of its result: s
// ((1-e)r, e r, or max(x,0) + 2u p(u²) with u = e/(2+e)) and s' (4 e r²,
// e r²) take three or four such steps after exp32, so within 4; s" is the
// product of two outputs (-2 t s', or -s' tanh(x/2)) whose errors add, so
// within 4 + 3 + 1/2, rounded up to 8. Where e = exp32(-2|x|) is subnormal
// (|x| > 43.7, s' < 2^-124), its rounding to the subnormal grid is
// multiplied by 4 in s' = 4e r², which costs tanh's s' and s" up to 2 ulp
// more (within the same bounds). Measured on the default grid (every
// 1021st float32 and the edge values, TestActivate32Accuracy logs them):
// s 3.08 (softplus), s' 3.04 (tanh), s" 4.63 (tanh at x = 44.6).
//
// Gelu (act32Err measures its s' and s" against the larger of their two
// terms, since they cancel near their roots): Φ(x) for |x| >= 1 is
// t G(t) e/2, the product of a division, a degree-10 polynomial (1.7 ulp
// near t = 1/6), expSplit32 (1 ulp) and two more roundings, so about 5
// ulp, and s = xΦ one more rounding: within 6. Its s' and s" are sums or
// products with φ = e/√(2π) and stay within 4 and 8 of their larger term.
// Measured: s 5.16 (x = -9.18), s' 2.7, s" 2.58.
var act32Ulps = [3]float64{4, 4, 8}

// geluUlps is act32Ulps for gelu.
var geluUlps = [3]float64{6, 4, 8}

// act32Tol returns the bound on output k of act, in act32Err's units.
func act32Tol(act kernels.Activation, k int) float64 {
	if act == kernels.Gelu {
		return geluUlps[k]
	}
	return act32Ulps[k]
}

// ulp32 returns the spacing of float32 numbers at |w| (w a float64): the
// ulp of the float32 nearest to w, 2^-149 for subnormals and zero.
func ulp32(w float64) float64 {
	a := math.Abs(w)
	if a < 0x1p-126 {
		return 0x1p-149
	}
	if a >= math.MaxFloat32 {
		return 0x1p104 // the spacing at MaxFloat32
	}
	_, e := math.Frexp(a) // a = f 2^e, f in [0.5, 1)
	return math.Ldexp(1, e-24)
}

// ulpErr returns |got - want| in float32 ulps of want; 0 where both are
// the same infinity or both NaN, +Inf where only one is.
func ulpErr(got float32, want float64) float64 {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		if math.IsNaN(want) && math.IsNaN(g) {
			return 0
		}
		return math.Inf(1)
	case math.IsInf(want, 0) || math.IsInf(g, 0):
		if g == want {
			return 0
		}
		return math.Inf(1)
	}
	return math.Abs(g-want) / ulp32(want)
}

// act32Err returns the error of got, output k (0: s, 1: s', 2: s") of act
// at x, against want, in float32 ulps: of want (ulpErr), except for gelu's
// s' = Φ + xφ and s" = φ(2 - x²), which cancel near their roots (x =
// -0.7518 and ±√2): there the ulp of the larger term, Φ + |x|φ or
// φ(2 + x²), is the unit, since an error of a few ulp in either term is
// already that large.
func act32Err(act kernels.Activation, k int, x float32, got float32, want float64) float64 {
	e := ulpErr(got, want)
	if act != kernels.Gelu || k == 0 || e == 0 || math.IsInf(e, 0) || math.IsInf(float64(x), 0) {
		return e
	}
	xf := float64(x)
	cdf, pdf := 0.5*math.Erfc(-xf/math.Sqrt2), math.Exp(-xf*xf/2)/math.Sqrt(2*math.Pi)
	scale := cdf + math.Abs(xf)*pdf
	if k == 2 {
		scale = pdf * (2 + xf*xf)
	}
	return math.Abs(float64(got)-want) / max(ulp32(want), ulp32(scale))
}

var act32s = []struct {
	act  kernels.Activation
	name string
}{{kernels.Tanh, "tanh"}, {kernels.Sigmoid, "sigmoid"}, {kernels.Softplus, "softplus"}, {kernels.Gelu, "gelu"}}

// act32Impls are the implementations under test: activate32 (assembly
// where the CPU has AVX2 and FMA) and the Go twins.
var act32Impls = []struct {
	name string
	f    func(act kernels.Activation, z, a, d1, d2 []float32)
}{{"activate32", activate32}, {"go", activate32Go}}

// edge32 are the values where formulas switch, saturate, overflow or
// underflow, and the special values, each also negated.
func edge32() []float32 {
	v := []float32{0, math.SmallestNonzeroFloat32, 0x1p-126, 0x1p-126 - 0x1p-149, 1e-30, 1e-10, 1e-4,
		0.5, 1, 1.5, 2, 5, 8, 9, 10, 15, 16, 20, 44, 50, 51.9, 52.1, 87, 87.3, 88, 88.7, 89, 100, 103.5, 104, 105,
		1e10, math.MaxFloat32, float32(math.Inf(1)), float32(math.NaN())}
	for _, s := range []float32{tanhSmall32, 2 * tanhSmall32, 0.3465736, 0.6931472} { // switch points, ln2/2, ln2
		v = append(v, s, math.Nextafter32(s, 0), math.Nextafter32(s, 1))
	}
	out := v
	for _, x := range v {
		out = append(out, -x)
	}
	return out
}

// grid32 returns every float32 from +0 to +Inf stepping by step bit
// patterns (step ulps), with their negatives, and the edge values.
func grid32(step uint32) []float32 {
	var z []float32
	for b := uint32(0); b <= 0x7f800000; b += step {
		x := math.Float32frombits(b)
		z = append(z, x, -x)
	}
	return append(z, edge32()...)
}

// TestActivate32Accuracy checks the float32 activations and both
// derivatives against the float64 reference ActivationAt on a grid of
// every 1021st float32 from -Inf to +Inf (about 4.2 million points, every
// 16127th under -short) and the edge values, within act32Ulps, and logs the worst error
// of each output.
func TestActivate32Accuracy(t *testing.T) {
	step := uint32(1021)
	if testing.Short() {
		step = 16127
	}
	z := grid32(step)
	n := len(z)
	a, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n)
	for _, ac := range act32s {
		want := [3][]float64{make([]float64, n), make([]float64, n), make([]float64, n)}
		for i, x := range z {
			want[0][i], want[1][i], want[2][i] = ActivationAt(ac.act, float64(x))
		}
		for _, im := range act32Impls {
			im.f(ac.act, z, a, d1, d2)
			for k, got := range [3][]float32{a, d1, d2} {
				worst, at := 0.0, 0
				for i := range got {
					if e := act32Err(ac.act, k, z[i], got[i], want[k][i]); e > worst || math.IsNaN(e) {
						worst, at = e, i
					}
				}
				what := fmt.Sprintf("%s %s output %d", im.name, ac.name, k)
				t.Logf("%s: max error %.3g ulp at x = %g (got %g, want %g)", what, worst, z[at], got[at], want[k][at])
				if tol := act32Tol(ac.act, k); !(worst <= tol) {
					t.Errorf("%s: error %.3g ulp > %g at x = %g: got %g, want %g", what, worst, tol, z[at], got[at], want[k][at])
				}
			}
		}
	}
}

// TestActivate32Special checks exact values the ulp bound does not pin:
// signed zeros, saturation, NaN, and outputs that must not be negative.
func TestActivate32Special(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	type want struct {
		x          float32
		s, d1, d2  float32 // NaN means NaN; zeros compared with their sign
		checkZeros bool
	}
	cases := map[kernels.Activation][]want{
		kernels.Tanh: {
			{x: 0, s: 0, d1: 1, d2: negz, checkZeros: true},
			{x: negz, s: negz, d1: 1, d2: 0, checkZeros: true},
			{x: inf, s: 1, d1: 0, d2: negz, checkZeros: true},
			{x: -inf, s: -1, d1: 0, d2: 0, checkZeros: true},
			{x: 50, s: 1, d1: float32(4 * math.Exp(-100)), d2: float32(-8 * math.Exp(-100))},
			{x: math.SmallestNonzeroFloat32, s: math.SmallestNonzeroFloat32, d1: 1, d2: -0x1p-148},
			{x: nan, s: nan, d1: nan, d2: nan},
		},
		kernels.Sigmoid: {
			{x: 0, s: 0.5, d1: 0.25, d2: negz, checkZeros: true},
			{x: inf, s: 1, d1: 0, d2: negz, checkZeros: true},
			{x: -inf, s: 0, d1: 0, d2: 0, checkZeros: true},
			{x: -100, s: float32(math.Exp(-100)), d1: float32(math.Exp(-100)), d2: float32(math.Exp(-100))},
			{x: nan, s: nan, d1: nan, d2: nan},
		},
		kernels.Gelu: {
			{x: 0, s: 0, d1: 0.5, d2: float32(2 / math.Sqrt(2*math.Pi))},
			{x: inf, s: inf, d1: 1, d2: negz, checkZeros: true},
			{x: -inf, s: negz, d1: 0, d2: negz, checkZeros: true},
			{x: -30, s: negz, d1: 0, d2: negz, checkZeros: true},
			{x: 1e30, s: 1e30, d1: 1, d2: negz, checkZeros: true},
			{x: nan, s: nan, d1: nan, d2: nan},
		},
		kernels.Softplus: {
			{x: 0, s: float32(math.Ln2), d1: 0.5, d2: 0.25},
			{x: inf, s: inf, d1: 1, d2: 0, checkZeros: true},
			{x: -inf, s: 0, d1: 0, d2: 0, checkZeros: true},
			{x: -100, s: float32(math.Exp(-100)), d1: float32(math.Exp(-100)), d2: float32(math.Exp(-100))},
			{x: math.MaxFloat32, s: math.MaxFloat32, d1: 1, d2: 0, checkZeros: true},
			{x: nan, s: nan, d1: nan, d2: nan},
		},
	}
	same := func(got, want float32, zeros bool) bool {
		switch {
		case want != want:
			return got != got
		case want == 0 && zeros:
			return got == 0 && math.Signbit(float64(got)) == math.Signbit(float64(want))
		case want == 0:
			return got == 0
		}
		return got == want || ulpErr(got, float64(want)) <= act32Ulps[2]
	}
	for _, ac := range act32s {
		for _, im := range act32Impls {
			for _, c := range cases[ac.act] {
				a, d1, d2 := make([]float32, 1), make([]float32, 1), make([]float32, 1)
				im.f(ac.act, []float32{c.x}, a, d1, d2)
				if !same(a[0], c.s, c.checkZeros) || !same(d1[0], c.d1, c.checkZeros) || !same(d2[0], c.d2, c.checkZeros) {
					t.Errorf("%s %s(%g) = %g, %g, %g; want %g, %g, %g", im.name, ac.name, c.x, a[0], d1[0], d2[0], c.s, c.d1, c.d2)
				}
			}
		}
	}
	// Sigmoid and softplus and their first derivatives, and tanh's, are
	// never negative, not even -0, on the whole grid.
	z := grid32(65521)
	n := len(z)
	a, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n)
	for _, ac := range act32s {
		for _, im := range act32Impls {
			im.f(ac.act, z, a, d1, d2)
			for i, x := range z {
				if x != x || ac.act == kernels.Gelu { // gelu and its derivatives take both signs
					continue
				}
				neg := math.Signbit(float64(d1[i]))
				if ac.act != kernels.Tanh {
					neg = neg || math.Signbit(float64(a[i]))
				}
				if ac.act == kernels.Softplus {
					neg = neg || math.Signbit(float64(d2[i]))
				}
				if neg {
					t.Errorf("%s %s(%g) = %g, %g, %g: negative", im.name, ac.name, x, a[i], d1[i], d2[i])
				}
			}
		}
	}
}

// TestActivate32Edges runs Backend.Activate on every length 0..40 (past
// two 8-lane blocks and every tail), with NaN guards around each output,
// with a aliasing z and each combination of nil derivatives, and checks
// that each element equals, bit for bit, the result of one call over the
// whole input: tails and blocks are computed alike.
func TestActivate32Edges(t *testing.T) {
	const maxN, guard = 40, 5
	b := New[float32]()
	zAll := make([]float32, maxN)
	for i := range zAll {
		zAll[i] = float32(kernels.NormalAt(7, uint64(i))) * 4
	}
	zAll[3] = float32(math.NaN())
	zAll[11] = float32(math.Inf(-1))
	for _, ac := range act32s {
		ref := [3][]float32{make([]float32, maxN), make([]float32, maxN), make([]float32, maxN)}
		activate32(ac.act, zAll, ref[0], ref[1], ref[2])
		for n := 0; n <= maxN; n++ {
			for _, alias := range []bool{false, true} {
				for mode := range 4 {
					want1, want2 := mode&1 != 0, mode&2 != 0
					what := fmt.Sprintf("%s n=%d a=z:%t d1:%t d2:%t", ac.name, n, alias, want1, want2)
					// Each buffer holds guard NaNs, n elements, guard NaNs.
					mk := func(fill []float32) (kernels.Buffer, []float32) {
						all := b.Alloc(n + 2*guard)
						s := Slice[float32](all)
						for i := range s {
							s[i] = float32(math.NaN())
						}
						copy(s[guard:], fill)
						return b.View(all, guard, n), s
					}
					z, zs := mk(zAll[:n])
					a, as := z, zs
					if !alias {
						a, as = mk(make([]float32, n))
					}
					var d1, d2 kernels.Buffer
					var d1s, d2s []float32
					if want1 {
						d1, d1s = mk(make([]float32, n))
					}
					if want2 {
						d2, d2s = mk(make([]float32, n))
					}
					b.Activate(ac.act, z, a, d1, d2)
					for k, s := range [][]float32{as, d1s, d2s} {
						if s == nil {
							continue
						}
						for i, v := range s {
							if i < guard || i >= guard+n {
								if math.Float32bits(v) != math.Float32bits(float32(math.NaN())) {
									t.Errorf("%s output %d: guard %d overwritten: %g", what, k, i, v)
								}
								continue
							}
							if w := ref[k][i-guard]; math.Float32bits(v) != math.Float32bits(w) {
								t.Errorf("%s output %d [%d] = %g, want %g (the whole-input call)", what, k, i-guard, v, w)
							}
						}
					}
					if !alias {
						for i, v := range zs[guard : guard+n] {
							if math.Float32bits(v) != math.Float32bits(zAll[i]) {
								t.Errorf("%s: z[%d] changed to %g", what, i, v)
							}
						}
					}
				}
			}
		}
	}
}

// TestActivate32Split checks that splitting across goroutines does not
// change any element: Activate over a buffer well above the split
// threshold equals one activate32 call bit for bit, at GOMAXPROCS 3 (so
// that chunks are not multiples of 8).
func TestActivate32Split(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	n := 4*parallelMin/costActivate32 + 13
	b := New[float32]()
	z, a, d1, d2 := b.Alloc(n), b.Alloc(n), b.Alloc(n), b.Alloc(n)
	b.Normal(z, 3)
	zs := Slice[float32](z)
	for _, ac := range act32s {
		w0, w1, w2 := make([]float32, n), make([]float32, n), make([]float32, n)
		activate32(ac.act, zs, w0, w1, w2)
		b.Activate(ac.act, z, a, d1, d2)
		for k, pair := range [][2][]float32{{Slice[float32](a), w0}, {Slice[float32](d1), w1}, {Slice[float32](d2), w2}} {
			for i := range pair[0] {
				if math.Float32bits(pair[0][i]) != math.Float32bits(pair[1][i]) {
					t.Fatalf("%s output %d [%d] = %g split, %g whole", ac.name, k, i, pair[0][i], pair[1][i])
				}
			}
		}
	}
}

// TestExp32 checks exp32 against math.Exp on every 127th float32 in
// [-104, 0] and tanhPoly32 against math.Tanh on every 127th in [0,
// tanhSmall32), within
// the 1 and 0.8 ulp act32Ulps assumes.
func TestExp32(t *testing.T) {
	for _, c := range []struct {
		name   string
		lo, hi float32
		f      func(float32) float32
		ref    func(float64) float64
		tol    float64
	}{
		{"exp32", 0, 104, func(y float32) float32 { return exp32(-y) }, func(y float64) float64 { return math.Exp(-y) }, 1},
		{"tanhPoly32", 0, tanhSmall32, tanhPoly32, math.Tanh, 0.8},
	} {
		// Every 127th float32 of the range; under -short every 2039th
		// (both prime, so the mantissas sampled do not repeat a pattern).
		step := uint32(127)
		if testing.Short() {
			step = 2039
		}
		worst, at := 0.0, float32(0)
		for b := math.Float32bits(c.lo); b < math.Float32bits(c.hi); b += step {
			y := math.Float32frombits(b)
			if e := ulpErr(c.f(y), c.ref(float64(y))); e > worst {
				worst, at = e, y
			}
		}
		t.Logf("%s: max error %.3g ulp at %g", c.name, worst, at)
		if worst > c.tol {
			t.Errorf("%s: error %.3g ulp > %g at %g", c.name, worst, c.tol, at)
		}
	}
	if e := exp32(float32(math.NaN())); e == e {
		t.Errorf("exp32(NaN) = %g", e)
	}
	if e := exp32(float32(math.Inf(-1))); e != 0 || math.Signbit(float64(e)) {
		t.Errorf("exp32(-Inf) = %g, want +0", e)
	}
}

// BenchmarkActivate32 compares, in one run, the float32 kernels (assembly
// and Go twin) with the float64 reference loop Activate used before them
// (ActivationAt per element, rounded) and with a bare math.Tanh loop, on
// one core, all with both derivatives, on 16384 elements (in L2).
func BenchmarkActivate32(b *testing.B) {
	const n = 1 << 14
	z, a, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range z {
		z[i] = float32(kernels.NormalAt(1, uint64(i)))
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
	}
	for _, ac := range act32s {
		b.Run(ac.name+"/ActivationAt", func(b *testing.B) {
			for b.Loop() {
				for i, x := range z {
					s, s1, s2 := ActivationAt(ac.act, float64(x))
					a[i], d1[i], d2[i] = float32(s), float32(s1), float32(s2)
				}
			}
			report(b)
		})
		for _, im := range act32Impls {
			b.Run(ac.name+"/"+im.name, func(b *testing.B) {
				for b.Loop() {
					im.f(ac.act, z, a, d1, d2)
				}
				report(b)
			})
		}
	}
	b.Run("math.Tanh", func(b *testing.B) {
		for b.Loop() {
			for i, x := range z {
				a[i] = float32(math.Tanh(float64(x)))
			}
		}
		report(b)
	})
}

// FuzzActivate32 checks any float32 bit pattern (NaN payloads included)
// under each float32 activation: both implementations are within
// act32Ulps of ActivationAt, NaN exactly for NaN input, and activate32
// gives the same bits for x alone (a padded tail) as at position pos of a
// 13-element slice (a full block or the tail).
func FuzzActivate32(f *testing.F) {
	for _, x := range edge32() {
		f.Add(math.Float32bits(x), uint8(0), uint8(5))
	}
	f.Add(uint32(0x7fc00001), uint8(1), uint8(12))
	f.Add(math.Float32bits(-0.7518), uint8(2), uint8(9))
	f.Fuzz(func(t *testing.T, bits uint32, which, pos uint8) {
		ac := act32s[int(which)%len(act32s)]
		x := math.Float32frombits(bits)
		want := [3]float64{}
		want[0], want[1], want[2] = ActivationAt(ac.act, float64(x))
		var alone [3][]float32
		for _, im := range act32Impls {
			a, d1, d2 := make([]float32, 1), make([]float32, 1), make([]float32, 1)
			im.f(ac.act, []float32{x}, a, d1, d2)
			for k, got := range [3]float32{a[0], d1[0], d2[0]} {
				if (got != got) != (x != x) {
					t.Fatalf("%s %s(%g) output %d = %g: NaN iff the input is NaN", im.name, ac.name, x, k, got)
				}
				if e, tol := act32Err(ac.act, k, x, got, want[k]), act32Tol(ac.act, k); !(e <= tol) {
					t.Fatalf("%s %s(%g) output %d = %g, want %g: %.3g ulp > %g", im.name, ac.name, x, k, got, want[k], e, tol)
				}
			}
			if im.name == "activate32" {
				alone = [3][]float32{a, d1, d2}
			}
		}
		const n = 13
		p := int(pos) % n
		z := make([]float32, n)
		for i := range z {
			z[i] = float32(i) - 6
		}
		z[p] = x
		a, d1, d2 := make([]float32, n), make([]float32, n), make([]float32, n)
		activate32(ac.act, z, a, d1, d2)
		for k, s := range [3][]float32{a, d1, d2} {
			if math.Float32bits(s[p]) != math.Float32bits(alone[k][0]) {
				t.Fatalf("activate32 %s(%g) output %d: %g at position %d of %d, %g alone", ac.name, x, k, s[p], p, n, alone[k][0])
			}
		}
	})
}
