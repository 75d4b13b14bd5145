package models

import (
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/probe/probetest"
	"gonum.org/v1/gonum/mat"
)

// The estimators run on the Plan's exact Hessian operator, with vectors in
// the backend's buffers, agree with gonum's dense eigendecomposition of the
// Hessian assembled from the same products (itself checked against finite
// differences of Gorgonia's gradient in TestHessianFiniteDifferences):
// power iteration and Lanczos to 1e-8 of the spectral norm, Hutchinson within
// its standard errors, SLQ's density integrating to 1 with moments within
// their standard errors. Every activation, both losses, biases on and off.
func TestEstimatorsOnExactHessian(t *testing.T) {
	for i, spec := range allSpecs() {
		if !inShort(i) {
			continue
		}
		t.Run(specName(spec), func(t *testing.T) {
			pr := newProblem(spec, 19, uint64(300+i))
			p, d := pr.plan(t, 6)
			H := denseHessian(t, p, d, Hessian)
			n := p.NumParams()
			sym := mat.NewSymDense(n, nil)
			for a := 0; a < n; a++ {
				for b := a; b < n; b++ {
					sym.SetSym(a, b, (H.At(a, b)+H.At(b, a))/2)
				}
			}
			op := p.CurvatureOperator(d, Hessian)
			defer op.Close()
			probetest.Check[kernels.Buffer](t, op, p.Backend(), sym, 1e-8)
		})
	}
}
