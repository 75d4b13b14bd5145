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
// The tolerance, 8 float64 epsilons relative, covers the few roundings of
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
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
