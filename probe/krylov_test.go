package probe

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// dotCounter is the Host space counting its dot products.
type dotCounter struct {
	Host
	dots int
}

func (c *dotCounter) Dot(x, y []float64) float64 { c.dots++; return c.Host.Dot(x, y) }

// Selective reorthogonalisation (DGKS) keeps a long Lanczos basis
// orthonormal to rounding level while skipping most second passes. The
// spectrum has well separated extremes, which plain Lanczos converges to
// quickly and then loses orthogonality against (ghost copies); 150 steps
// in dimension 200 go far past that.
func TestKrylovSelectiveReorthogonalisation(t *testing.T) {
	const n, steps = 200, 150
	r := rand.New(rand.NewPCG(1, 2))
	var qr mat.QR
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, r.NormFloat64())
		}
	}
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	lam := make([]float64, n)
	for i := range lam {
		lam[i] = -1 + 2*float64(i)/float64(n-1)
	}
	lam[0], lam[n-1] = -30, 50
	var a mat.Dense
	a.Mul(&q, mat.NewDiagDense(n, lam))
	a.Mul(&a, q.T())
	h := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			h.SetSym(i, j, 0.5*(a.At(i, j)+a.At(j, i)))
		}
	}
	sp := &dotCounter{}
	k := newKrylov[[]float64](NewDense(h), sp, steps)
	v := make([]float64, n)
	sp.Normal(v, 7)
	if !k.push(v) {
		t.Fatal("push failed")
	}
	sp.dots = 0
	ctx := context.Background()
	full := 0 // the dot products of two passes at every step
	for len(k.q) < steps {
		full += 1 + 2*len(k.q)
		if err := k.step(ctx); err != nil {
			t.Fatal(err)
		}
		k.extend()
	}
	// Orthonormal to rounding: n·ε, for inner products of n terms.
	const tol = n * 2.3e-16
	worst := 0.0
	for i := range k.q {
		for j := range i + 1 {
			want := 0.0
			if i == j {
				want = 1
			}
			worst = math.Max(worst, math.Abs(sp.Host.Dot(k.q[i], k.q[j])-want))
		}
	}
	if worst > tol {
		t.Errorf("max |QᵀQ - I| = %.3g after %d steps, want <= %.3g", worst, steps, tol)
	}
	if sp.dots > 3*full/4 {
		t.Errorf("%d dot products, %d with two passes at every step: the second pass is not selective", sp.dots, full)
	}
	t.Logf("max |QᵀQ - I| = %.3g; %d of %d dot products", worst, sp.dots, full)
}
