package probetest_test

import (
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/probetest"
	"gonum.org/v1/gonum/mat"
)

func TestWithSpectrum(t *testing.T) {
	lambda := []float64{3, -1, 0, 1e-9, 7, 7}
	got := probetest.Eigenvalues(probetest.WithSpectrum(lambda, 1))
	want := []float64{-1, 0, 1e-9, 3, 7, 7}
	for i := range want {
		// Q diag(λ) Q^T and EigenSym are each accurate to ~nε‖H‖.
		if math.Abs(got[i]-want[i]) > 1e-13*7 {
			t.Errorf("eigenvalue %d = %.17g, want %v", i, got[i], want[i])
		}
	}
}

func TestTrapezoid(t *testing.T) {
	x := []float64{0, 1, 3}
	if got := probetest.Trapezoid(x, []float64{0, 1, 3}); got != 4.5 { // ∫_0^3 x dx
		t.Errorf("Trapezoid = %v", got)
	}
}

func TestCheckDense(t *testing.T) {
	// Check passes on the exact dense operator, with tiny, negative and
	// repeated eigenvalues.
	lambda := make([]float64, 90)
	for i := range lambda {
		lambda[i] = math.Sin(float64(i)) * float64(i%7)
	}
	lambda[0], lambda[1], lambda[2] = 9, 9, -8
	lambda[3], lambda[4] = 1e-12, 0
	m := probetest.WithSpectrum(lambda, 2)
	probetest.Check(t, probe.Operator[[]float64](probe.NewDense(m)), probe.Host{}, m, 1e-8)
}

// wrongOp applies a perturbed matrix: Check must notice.
func TestCheckDetectsWrongOperator(t *testing.T) {
	lambda := make([]float64, 40)
	for i := range lambda {
		lambda[i] = float64(i) - 10
	}
	m := probetest.WithSpectrum(lambda, 3)
	var p mat.SymDense
	p.ScaleSym(1.001, m)
	ft := &testing.T{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		probetest.Check(ft, probe.Operator[[]float64](probe.NewDense(&p)), probe.Host{}, m, 1e-8)
	}()
	<-done
	if !ft.Failed() {
		t.Error("Check accepted an operator 0.1% off")
	}
}

// Moment is tr(H^k)/n: for eigenvalues {1, -2, 3}, (1 - 2 + 3)/3, (1 + 4 +
// 9)/3 and (1 - 8 + 27)/3, exact in float64.
func TestMoment(t *testing.T) {
	lambda := []float64{1, -2, 3}
	for k, want := range map[int]float64{1: 2.0 / 3, 2: 14.0 / 3, 3: 20.0 / 3} {
		if got := probetest.Moment(lambda, k); got != want {
			t.Errorf("moment %d = %.17g, want %.17g", k, got, want)
		}
	}
}
