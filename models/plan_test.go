package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"
)

// problem is a small network with random (never zero) parameters and data.
type problem struct {
	spec    Spec
	n       int
	params  []float64
	x       []float64
	labels  []int
	targets []float64
}

func allSpecs() []Spec {
	var specs []Spec
	for _, act := range []kernels.Activation{kernels.ReLU, kernels.Tanh, kernels.Sigmoid, kernels.Gelu, kernels.Softplus, kernels.Linear} {
		for _, loss := range []Loss{CrossEntropy, MSE} {
			for _, bias := range []bool{true, false} {
				layers := []int{5, 7, 6, 3}
				if loss == MSE {
					layers = []int{4, 6, 5, 2}
				}
				specs = append(specs, Spec{Layers: layers, Activation: act, Loss: loss, Bias: bias})
			}
		}
	}
	return specs
}

// inShort reports whether the i-th spec of allSpecs runs in the slow
// exact-Hessian tests: every one, or under -short six that between them
// cover every activation, both losses and both bias settings.
func inShort(i int) bool { return !testing.Short() || i%4 == (i/4)%4 }

func specName(s Spec) string {
	return fmt.Sprintf("%s/%s/%s/bias=%v", s.Arch(), ActivationName(s.Activation), s.Loss, s.Bias)
}

func newProblem(spec Spec, n int, seed uint64) *problem {
	r := rand.New(rand.NewPCG(seed, 99))
	pr := &problem{spec: spec, n: n}
	for _, b := range spec.Blocks() {
		scale := 1 / math.Sqrt(float64(b.Rows))
		if b.Bias {
			scale = 0.3
		}
		for i := 0; i < b.Size(); i++ {
			pr.params = append(pr.params, scale*1.5*r.NormFloat64())
		}
	}
	D, C := spec.Inputs(), spec.Outputs()
	for i := 0; i < n*D; i++ {
		pr.x = append(pr.x, r.NormFloat64())
	}
	for i := 0; i < n; i++ {
		pr.labels = append(pr.labels, r.IntN(C))
	}
	for i := 0; i < n*C; i++ {
		pr.targets = append(pr.targets, r.NormFloat64())
	}
	return pr
}

// y returns the graph's y input: one-hot labels for cross-entropy, targets for MSE.
func (pr *problem) y() []float64 {
	if pr.spec.Loss == MSE {
		return pr.targets
	}
	C := pr.spec.Outputs()
	y := make([]float64, pr.n*C)
	for i, l := range pr.labels {
		y[i*C+l] = 1
	}
	return y
}

func (pr *problem) plan(t testing.TB, batch int) (*Plan[float64], *Data) {
	t.Helper()
	return batchPlan(t, pr, Settings{Batch: batch})
}

// tapeGrad evaluates Gorgonia's tape machine (the reference) at params.
func (pr *problem) tapeGrad(t testing.TB, gr *Graph, params []float64) (float64, []float64) {
	t.Helper()
	loss, grad, err := gr.Eval(params, pr.x, pr.y())
	if err != nil {
		t.Fatal(err)
	}
	return loss, grad
}

// denseHessian assembles H column by column from products with unit vectors.
func denseHessian(t testing.TB, p *Plan[float64], d *Data, kind Curvature) *mat.Dense {
	t.Helper()
	n := p.NumParams()
	be := p.Backend()
	op := p.CurvatureOperator(d, kind)
	defer op.Close()
	e, hv := be.Alloc(n), be.Alloc(n)
	H := mat.NewDense(n, n, nil)
	for j := 0; j < n; j++ {
		be.Fill(e, 0)
		be.Fill(be.View(e, j, 1), 1)
		if err := op.Apply(context.Background(), hv, e); err != nil {
			t.Fatal(err)
		}
		H.SetCol(j, Download(be, hv))
	}
	return H
}

// maxAbsDiff returns the largest |a_i - b_i| and where, and max |b_i|.
func maxAbsDiff(a, b []float64) (worst float64, at int, scale float64) {
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
		scale = max(scale, math.Abs(b[i]))
	}
	return worst, at, scale
}

// The Plan's loss and gradient equal Gorgonia's tape machine on the same
// graph. Tolerance 1e-12 relative: both sum the same O(100) float64 products
// in different orders, so they differ by a few hundred ulps at most.
func TestPlanMatchesTape(t *testing.T) {
	const rel = 1e-12
	for i, spec := range allSpecs() {
		t.Run(specName(spec), func(t *testing.T) {
			pr := newProblem(spec, 23, uint64(i+1))
			gr, err := NewGraph(spec, pr.n, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss, wantGrad := pr.tapeGrad(t, gr, pr.params)
			p, d := pr.plan(t, 8) // 23 samples in batches of 8, 8, 7
			g := p.Backend().Alloc(p.NumParams())
			ev, err := p.Gradient(context.Background(), g, d)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(ev.Loss-wantLoss) > rel*math.Abs(wantLoss) {
				t.Errorf("loss = %.17g, tape %.17g", ev.Loss, wantLoss)
			}
			worst, at, scale := maxAbsDiff(Download(p.Backend(), g), wantGrad)
			if worst > rel*scale {
				t.Errorf("gradient differs from the tape by %.3g at %d (max |g| %.3g)", worst, at, scale)
			}
			if spec.Loss == CrossEntropy && !(ev.Accuracy >= 0 && ev.Accuracy <= 1) {
				t.Errorf("accuracy %v", ev.Accuracy)
			}
			if wantNorm := floats.Norm(wantGrad, 2); math.Abs(ev.GradNorm-wantNorm) > rel*wantNorm {
				t.Errorf("gradient norm %.17g, tape's %.17g", ev.GradNorm, wantNorm)
			}
		})
	}
}

// The tape's gradient is itself checked against central differences of the
// tape's loss, so that the graph (including the GELU op written here) is a
// trustworthy oracle. Central differences with h = 1e-6 have truncation
// error ~h^2 |third derivative| ~ 1e-12 and rounding error ~eps|L|/h ~ 1e-10.
func TestTapeGradientFiniteDifferences(t *testing.T) {
	for i, spec := range allSpecs() {
		if !spec.Bias {
			continue
		}
		t.Run(specName(spec), func(t *testing.T) {
			pr := newProblem(spec, 9, uint64(100+i))
			gr, err := NewGraph(spec, pr.n, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			_, grad := pr.tapeGrad(t, gr, pr.params)
			const h = 1e-6
			for j := 0; j < len(pr.params); j += 3 {
				pp := append([]float64(nil), pr.params...)
				pp[j] += h
				lp, _ := pr.tapeGrad(t, gr, pp)
				pp[j] -= 2 * h
				lm, _ := pr.tapeGrad(t, gr, pp)
				fd := (lp - lm) / (2 * h)
				if math.Abs(fd-grad[j]) > 1e-7*(1+math.Abs(grad[j])) {
					t.Errorf("param %d: tape gradient %.12g, central difference %.12g", j, grad[j], fd)
				}
			}
		})
	}
}

// preactivations runs p forward on all of d and returns every layer's
// pre-activations z_l, downloaded (the last layer's are the outputs).
func preactivations(p *Plan[float64], d *Data) [][]float64 {
	st := p.newState(d.N, false)
	defer p.freeState(st)
	bd, err := p.batchOf(d, 0, d.N)
	if err != nil {
		panic(err)
	}
	p.forward(st, bd, 1/float64(d.N), false)
	zs := make([][]float64, p.spec.NumLayers())
	for l := range zs {
		zs[l] = Download(p.Backend(), st.z[l])
	}
	return zs
}

// minAbsPreactivation returns min |z| over hidden pre-activations, to keep
// finite differences away from relu's kink.
func minAbsPreactivation(p *Plan[float64], d *Data) float64 {
	zs := preactivations(p, d)
	m := math.Inf(1)
	for _, zl := range zs[:len(zs)-1] {
		for _, z := range zl {
			m = min(m, math.Abs(z))
		}
	}
	return m
}

// The dense Hessian assembled from R-operator products is symmetric and
// equals central differences of Gorgonia's gradient. With h = 1e-5 the
// truncation error is ~h^2 |third derivative| ~ 1e-10 and the rounding error
// ~eps|g|/h ~ 1e-11, so 1e-7 (relative to max |H|) leaves a wide margin
// while any wrong term of the R-operator shows up at O(1).
func TestHessianFiniteDifferences(t *testing.T) {
	const h = 1e-5
	for i, spec := range allSpecs() {
		if !inShort(i) {
			continue
		}
		t.Run(specName(spec), func(t *testing.T) {
			pr := newProblem(spec, 17, uint64(200+i))
			p, d := pr.plan(t, 5)
			if spec.Activation == kernels.ReLU {
				if m := minAbsPreactivation(p, d); m < 100*h {
					t.Fatalf("a pre-activation is %.3g from relu's kink; pick another seed", m)
				}
			}
			H := denseHessian(t, p, d, Hessian)
			n := p.NumParams()
			var scale float64
			for a := 0; a < n; a++ {
				for b := 0; b < n; b++ {
					scale = max(scale, math.Abs(H.At(a, b)))
				}
			}
			// Symmetry: the R-operator computes column j and row j by different
			// paths, so agreement to rounding level checks it.
			for a := 0; a < n; a++ {
				for b := 0; b < a; b++ {
					if diff := math.Abs(H.At(a, b) - H.At(b, a)); diff > 1e-12*scale {
						t.Fatalf("H[%d,%d] = %.15g but H[%d,%d] = %.15g", a, b, H.At(a, b), b, a, H.At(b, a))
					}
				}
			}
			gr, err := NewGraph(spec, pr.n, tensor.Float64)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			wi, wj := 0, 0
			for j := 0; j < n; j++ {
				pp := append([]float64(nil), pr.params...)
				pp[j] += h
				_, gp := pr.tapeGrad(t, gr, pp)
				pp[j] -= 2 * h
				_, gm := pr.tapeGrad(t, gr, pp)
				for a := 0; a < n; a++ {
					fd := (gp[a] - gm[a]) / (2 * h)
					if diff := math.Abs(fd - H.At(a, j)); diff > worst {
						worst, wi, wj = diff, a, j
					}
				}
			}
			if worst > 1e-7*scale {
				t.Errorf("Hessian differs from finite differences of the tape gradient by %.3g at [%d,%d] (max |H| %.3g)", worst, wi, wj, scale)
			}
			if scale == 0 {
				t.Fatal("Hessian is zero: the test would prove nothing")
			}
		})
	}
}

// Batching must not change a product beyond rounding: full batch vs batches of 4.
func TestHVPBatchInvariant(t *testing.T) {
	spec := Spec{Layers: []int{5, 9, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 30, 7)
	p1, d1 := pr.plan(t, 30)
	p4, d4 := pr.plan(t, 4)
	be := p1.Backend()
	v := be.Alloc(p1.NumParams())
	be.Normal(v, 3)
	h1, h4 := be.Alloc(p1.NumParams()), be.Alloc(p1.NumParams())
	if err := p1.HVP(context.Background(), h1, v, d1); err != nil {
		t.Fatal(err)
	}
	// The cached operator path (batches kept) and the one-off path must agree.
	op := p4.CurvatureOperator(d4, Hessian)
	defer op.Close()
	for k := 0; k < 2; k++ {
		if err := op.Apply(context.Background(), h4, v); err != nil {
			t.Fatal(err)
		}
		worst, at, scale := maxAbsDiff(Download(be, h4), Download(be, h1))
		if worst > 1e-13*scale*float64(p1.NumParams()) {
			t.Errorf("product %d: batches of 4 differ from one batch by %.3g at %d (scale %.3g)", k, worst, at, scale)
		}
	}
}

// With zero residual (MSE targets equal to the outputs) the Hessian is the
// Gauss-Newton matrix; otherwise they differ, and the GGN is symmetric PSD.
func TestGaussNewton(t *testing.T) {
	spec := Spec{Layers: []int{4, 6, 5, 3}, Activation: kernels.Tanh, Loss: MSE, Bias: true}
	pr := newProblem(spec, 11, 5)
	p, d := pr.plan(t, 4)
	G := denseHessian(t, p, d, GaussNewton)
	H := denseHessian(t, p, d, Hessian)
	if mat.EqualApprox(G, H, 1e-6) {
		t.Fatal("GGN equals the Hessian at a nonzero residual: the test data hides the difference")
	}
	n := p.NumParams()
	sym := mat.NewSymDense(n, nil)
	for a := 0; a < n; a++ {
		for b := a; b < n; b++ {
			if math.Abs(G.At(a, b)-G.At(b, a)) > 1e-13 {
				t.Fatalf("GGN not symmetric at [%d,%d]", a, b)
			}
			sym.SetSym(a, b, G.At(a, b))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		t.Fatal("eigendecomposition failed")
	}
	vals := eig.Values(nil)
	if vals[0] < -1e-12*vals[len(vals)-1] {
		t.Errorf("GGN has a negative eigenvalue %.3g", vals[0])
	}
	// Zero residual: set targets to the network's outputs.
	outs := forwardOutputs(p, d)
	pr.targets = outs
	p0, d0 := pr.plan(t, 4)
	G0 := denseHessian(t, p0, d0, GaussNewton)
	H0 := denseHessian(t, p0, d0, Hessian)
	if !mat.EqualApprox(G0, H0, 1e-13) {
		t.Error("at zero residual the Hessian and the GGN differ")
	}
}

func forwardOutputs(p *Plan[float64], d *Data) []float64 {
	zs := preactivations(p, d)
	return zs[len(zs)-1]
}

// float32 plans agree with float64 to float32 accuracy.
func TestFloat32MatchesFloat64(t *testing.T) {
	spec := Spec{Layers: []int{6, 8, 8, 4}, Activation: kernels.Gelu, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 40, 9)
	p64, d64 := pr.plan(t, 16)
	p32, d32 := planOn(t, pr, cpu.New[float32](), Settings{Batch: 16})
	v := make([]float64, p64.NumParams())
	r := rand.New(rand.NewPCG(1, 2))
	for i := range v {
		v[i] = r.NormFloat64()
	}
	h64 := hostHVP(t, p64, d64, v)
	h32 := hostHVP(t, p32, d32, v)
	// float32 rounding (6e-8) amplified by O(100)-term sums and the
	// conditioning of the products: 1e-4 of the largest entry.
	worst, at, scale := maxAbsDiff(h32, h64)
	if worst > 1e-4*scale {
		t.Errorf("float32 HVP differs from float64 by %.3g at %d (scale %.3g)", worst, at, scale)
	}
}

// hostHVP returns H v for a host vector v.
func hostHVP[T kernels.Float](t testing.TB, p *Plan[T], d *Data, v []float64) []float64 {
	t.Helper()
	be := p.Backend()
	vb, hb := be.Alloc(len(v)), be.Alloc(len(v))
	Upload(be, vb, v)
	if err := p.HVP(context.Background(), hb, vb, d); err != nil {
		t.Fatal(err)
	}
	return Download(be, hb)
}

// Settings.CacheBytes decides whether an operator keeps forward passes:
// negative never (even for one batch), a budget too small for them never,
// the default when they fit.
func TestOperatorCachePolicy(t *testing.T) {
	spec := Spec{Layers: []int{5, 9, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 20, 3)
	for _, c := range []struct {
		s      Settings
		cached bool
	}{
		{Settings{Batch: 32, CacheBytes: -1}, false},
		{Settings{Batch: 8, CacheBytes: -1}, false},
		{Settings{Batch: 8, CacheBytes: 100}, false},
		{Settings{Batch: 32}, true},
		{Settings{Batch: 8}, true},
	} {
		p, d := batchPlan(t, pr, c.s)
		op := p.CurvatureOperator(d, Hessian)
		if got := op.cached != nil; got != c.cached {
			t.Errorf("%+v: cached %v, want %v", c.s, got, c.cached)
		}
		op.Close()
	}
}

// TestOperatorGradient: an Operator's Gradient gives Plan.Gradient's loss,
// accuracy and gradient bit for bit, cached or not, in one batch or several;
// when the operator caches, the passes it ran are kept (the first product
// computes no forward pass) and the products are those of a fresh operator,
// bit for bit.
func TestOperatorGradient(t *testing.T) {
	ctx := context.Background()
	for _, spec := range []Spec{
		{Layers: []int{5, 9, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true},
		{Layers: []int{5, 7, 6, 3}, Activation: kernels.Gelu, Loss: MSE, Bias: false},
	} {
		pr := newProblem(spec, 20, 5)
		for _, s := range []Settings{{Batch: 32}, {Batch: 8}, {Batch: 8, CacheBytes: -1}} {
			name := fmt.Sprintf("%s batch %d cache %d", specName(spec), s.Batch, s.CacheBytes)
			p, d := batchPlan(t, pr, s)
			be, n := p.Backend(), p.NumParams()
			gWant, gGot := be.Alloc(n), be.Alloc(n)
			want, err := p.Gradient(ctx, gWant, d)
			if err != nil {
				t.Fatal(err)
			}
			fresh := p.CurvatureOperator(d, Hessian)
			op := p.CurvatureOperator(d, Hessian)
			got, err := op.Gradient(ctx, gGot)
			if err != nil {
				t.Fatal(err)
			}
			if got != want && !(math.IsNaN(got.Accuracy) && math.IsNaN(want.Accuracy) && got.Loss == want.Loss && got.GradNorm == want.GradNorm) {
				t.Errorf("%s: %+v, want %+v", name, got, want)
			}
			if worst, at, _ := maxAbsDiff(Download(be, gGot), Download(be, gWant)); worst != 0 {
				t.Errorf("%s: gradient differs by %.3g at %d", name, worst, at)
			}
			for i, st := range op.cached {
				if !st.hasState || !st.withD2 {
					t.Errorf("%s: batch %d not kept for the products after the gradient", name, i)
				}
			}
			v, hWant, hGot := be.Alloc(n), be.Alloc(n), be.Alloc(n)
			be.Normal(v, 3)
			if err := fresh.Apply(ctx, hWant, v); err != nil {
				t.Fatal(err)
			}
			if err := op.Apply(ctx, hGot, v); err != nil {
				t.Fatal(err)
			}
			if worst, at, _ := maxAbsDiff(Download(be, hGot), Download(be, hWant)); worst != 0 {
				t.Errorf("%s: product after the gradient differs by %.3g at %d", name, worst, at)
			}
			fresh.Close()
			op.Close()
		}
	}
}

// A Graph's Evals reuse one compiled tape machine: a second call at other
// parameters gives the bits of a fresh graph's first call there, not the
// first call's values again.
func TestGraphEvalReusesMachine(t *testing.T) {
	for i, spec := range allSpecs()[:4] {
		pr := newProblem(spec, 5, uint64(i+7))
		other := make([]float64, len(pr.params))
		for j, v := range pr.params {
			other[j] = v * (1 + 0.5*math.Sin(float64(j)))
		}
		gr, err := NewGraph(spec, pr.n, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := NewGraph(spec, pr.n, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		loss1, _ := pr.tapeGrad(t, gr, pr.params)
		loss2, grad2 := pr.tapeGrad(t, gr, other)
		want, wantGrad := pr.tapeGrad(t, fresh, other)
		if loss2 == loss1 {
			t.Errorf("%s: the loss at other parameters is the first call's, %v", specName(spec), loss1)
		}
		if math.Float64bits(loss2) != math.Float64bits(want) || !slices.Equal(grad2, wantGrad) {
			t.Errorf("%s: a second Eval gives loss %.17g, a fresh graph %.17g (gradients equal: %v)", specName(spec), loss2, want, slices.Equal(grad2, wantGrad))
		}
	}
}
