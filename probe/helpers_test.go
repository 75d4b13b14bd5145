package probe_test

import (
	"context"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/probetest"
	"gonum.org/v1/gonum/mat"
)

// eigTol is the relative accuracy (against ‖H‖ = max|λ|) demanded of the
// eigenvalues from power iteration and Lanczos, compared with gonum's
// dense EigenSym. Where it comes from: the test matrix Q diag(λ) Q^T is
// itself exact only to about nε‖H‖ (n <= 300: 7e-14), EigenSym is backward
// stable to a similar amount, Lanczos stops at a residual bound of 1e-10
// relative (an eigenvalue error of at most that, and of bound²/gap once
// converged), and power iteration at a relative residual of 1e-6, an
// eigenvalue error of r²/gap <= 1e-12‖H‖²/gap, below 1e-10‖H‖ for the
// relative gaps >= 1e-2 our spectra have at the top. 1e-8 leaves two orders
// of magnitude above the algorithms' own accuracy and five above rounding,
// while any real bug (a missed eigenvalue, a wrong shift, lost
// orthogonality) shows up at 1e-3 or worse.
const eigTol = 1e-8

// linspace returns n evenly spaced values from a to b.
func linspace(a, b float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		if n == 1 {
			x[i] = a
			continue
		}
		x[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return x
}

// spectrum is a named test spectrum.
type spectrum struct {
	name   string
	lambda []float64
}

// spectra returns the test spectra: spread, clustered, indefinite with
// large negative eigenvalues, repeated and tiny eigenvalues.
func spectra() []spectrum {
	cat := func(parts ...[]float64) []float64 {
		var out []float64
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	return []spectrum{
		{"spread", cat([]float64{10, 8, 6.5}, linspace(-1, 5, 197))},
		{"clustered", cat([]float64{10, 9.99, 9.98}, linspace(1, 1.001, 100), linspace(-0.5, -0.499, 47))},
		{"negative", cat([]float64{-20, -15, -12}, linspace(-3, 4, 80), []float64{6})},
		{"repeated", cat([]float64{7, 7, 3, 3, 3}, linspace(0, 2, 243), []float64{-2, -2})},
		{"tiny", cat([]float64{5, 4}, linspace(0.1, 3, 100), []float64{1e-9, 1e-12, 0, -1e-12, -1e-10})},
	}
}

// residual returns ‖Hv - λv‖ for the dense operator op.
func residual(t *testing.T, op probe.Operator[[]float64], v []float64, lambda float64) float64 {
	t.Helper()
	w := make([]float64, len(v))
	if err := op.Apply(context.Background(), w, v); err != nil {
		t.Fatal(err)
	}
	host.Axpy(-lambda, v, w)
	return host.Nrm2(w)
}

// dense returns the operator, the matrix and its sorted eigenvalues for a
// spectrum.
func dense(lambda []float64, seed uint64) (*probe.Dense, *mat.SymDense, []float64) {
	m := probetest.WithSpectrum(lambda, seed)
	return probe.NewDense(m), m, probetest.Eigenvalues(m)
}

func maxAbs(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// recorder counts progress reports.
type recorder struct {
	n     int
	stage string
	last  probe.Progress
}

func (r *recorder) Record(p probe.Progress) {
	r.n++
	r.stage = p.Stage
	r.last = p
}

// cancelAfter is an operator that cancels its context after a number of
// applications.
type cancelAfter struct {
	probe.Operator[[]float64]
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Apply(ctx context.Context, dst, v []float64) error {
	if c.n == 0 {
		c.cancel()
	}
	c.n--
	return c.Operator.Apply(ctx, dst, v)
}

// host is the Space of the tests.
var host probe.Host
