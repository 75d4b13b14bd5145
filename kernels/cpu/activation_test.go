package cpu

import (
	"math"
	"strconv"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// TestActivationAtStable checks ActivationAt where naive formulas cancel:
// tanh's 1 - t² for large |x| (t rounds to ±1) and sigmoid's 1 - 2s near 0
// (s rounds to 1/2), against closed forms that do not: tanh' = 4e/(1+e)²
// with e = exp(-2|x|), and sigmoid" = -x/8 (1 - x²/4 + ...) for tiny x.
// Gelu at ±Inf gives its limits. The tolerance, 8 float64 epsilons relative, covers the few roundings of
// either side; the naive formulas are off by 100% there.
func TestActivationAtStable(t *testing.T) {
	const tol = 8 * 0x1p-52
	check := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Abs(want) {
			t.Errorf("%s = %.17g, want %.17g", what, got, want)
		}
	}
	for _, x := range []float64{20, -20, 40, -300} {
		e := math.Exp(-2 * math.Abs(x))
		d := 4 * e / ((1 + e) * (1 + e))
		_, d1, d2 := ActivationAt(kernels.Tanh, x)
		check("tanh'("+ftoa(x)+")", d1, d)
		check("tanh\"("+ftoa(x)+")", d2, -2*math.Copysign(1, x)*d)
	}
	for _, x := range []float64{1e-10, -1e-10, 1e-300, 3e-9} {
		_, d1, d2 := ActivationAt(kernels.Sigmoid, x)
		check("sigmoid'("+ftoa(x)+")", d1, 0.25*(1-x*x/4))
		check("sigmoid\"("+ftoa(x)+")", d2, -x/8*(1-x*x/3))
		_, _, d2 = ActivationAt(kernels.Tanh, x)
		check("tanh\"("+ftoa(x)+")", d2, -2*x*(1-4*x*x/3))
	}
	if s, d1, d2 := ActivationAt(kernels.Tanh, math.Copysign(0, -1)); !math.Signbit(s) || d1 != 1 || d2 != 0 {
		t.Errorf("tanh(-0) = %g, %g, %g; want -0, 1, 0", s, d1, d2)
	}
	// Gelu's limits at ±Inf, not NaN from Inf·0.
	if s, d1, d2 := ActivationAt(kernels.Gelu, math.Inf(-1)); s != 0 || d1 != 0 || d2 != 0 {
		t.Errorf("gelu(-Inf) = %g, %g, %g; want 0, 0, 0", s, d1, d2)
	}
	if s, d1, d2 := ActivationAt(kernels.Gelu, math.Inf(1)); !math.IsInf(s, 1) || d1 != 1 || d2 != 0 {
		t.Errorf("gelu(+Inf) = %g, %g, %g; want +Inf, 1, 0", s, d1, d2)
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// activationAtOld is ActivationAt as it was before the stable forms (two
// or three transcendental calls for sigmoid and softplus), kept as the
// baseline of BenchmarkActivationAt.
func activationAtOld(act kernels.Activation, x float64) (s, d1, d2 float64) {
	sig := func(x float64) float64 {
		if x >= 0 {
			return 1 / (1 + math.Exp(-x))
		}
		e := math.Exp(x)
		return e / (1 + e)
	}
	switch act {
	case kernels.Tanh:
		t := math.Tanh(x)
		d := 1 - t*t
		return t, d, -2 * t * d
	case kernels.Sigmoid:
		p, q := sig(x), sig(-x)
		return p, p * q, p * q * (q - p)
	case kernels.Softplus:
		p, q := sig(x), sig(-x)
		return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))), p, p * q
	}
	panic("unreachable")
}

// BenchmarkActivationAt compares, in one run, the float64 reference with
// its former formulas (the float64 Activate path), per element.
func BenchmarkActivationAt(b *testing.B) {
	const n = 1 << 12
	z := make([]float64, n)
	for i := range z {
		z[i] = kernels.NormalAt(1, uint64(i))
	}
	var sink float64
	for _, c := range []struct {
		name string
		act  kernels.Activation
	}{{"tanh", kernels.Tanh}, {"sigmoid", kernels.Sigmoid}, {"softplus", kernels.Softplus}} {
		for _, f := range []struct {
			name string
			f    func(kernels.Activation, float64) (float64, float64, float64)
		}{{"old", activationAtOld}, {"new", ActivationAt}} {
			b.Run(c.name+"/"+f.name, func(b *testing.B) {
				for b.Loop() {
					for _, x := range z {
						s, s1, s2 := f.f(c.act, x)
						sink += s + s1 + s2
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
			})
		}
	}
	_ = sink
}
