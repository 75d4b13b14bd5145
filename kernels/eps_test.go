package kernels

import "testing"

// Eps is the spacing of T's numbers at 1: 1+Eps is the next number, 1+Eps/2
// rounds back to 1.
func TestEps(t *testing.T) {
	if e := Eps[float32](); float32(1+e) == 1 || float32(1+e/2) != 1 {
		t.Errorf("Eps[float32] = %g is not float32's epsilon", e)
	}
	if e := Eps[float64](); 1+e == 1 || 1+e/2 != 1 {
		t.Errorf("Eps[float64] = %g is not float64's epsilon", e)
	}
	if EpsOf(4) != Eps[float32]() || EpsOf(8) != Eps[float64]() {
		t.Errorf("EpsOf(4), EpsOf(8) = %g, %g", EpsOf(4), EpsOf(8))
	}
}
