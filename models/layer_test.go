package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/probe/probetest"
	"gonum.org/v1/gonum/mat"
)

// LayerRange partitions the flat vector: the ranges of layers 0..L-1 are
// contiguous, in order, cover NumParams, and each holds its layer's W and
// b blocks exactly.
func TestLayerRange(t *testing.T) {
	for _, spec := range []Spec{
		{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true},
		{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: CrossEntropy},
		{Layers: []int{4, 2}, Activation: kernels.ReLU, Loss: MSE, Bias: true},
	} {
		next := 0
		for l := 0; l < spec.NumLayers(); l++ {
			off, n := spec.LayerRange(l)
			want := spec.Layers[l] * spec.Layers[l+1]
			if spec.Bias {
				want += spec.Layers[l+1]
			}
			if off != next || n != want {
				t.Errorf("%s layer %d: range [%d, %d), want [%d, %d)", specName(spec), l, off, off+n, next, next+want)
			}
			for _, b := range spec.Blocks() {
				if b.Layer == l && (b.Offset < off || b.Offset+b.Size() > off+n) {
					t.Errorf("%s: block %s [%d, %d) outside layer %d's range [%d, %d)", specName(spec), b.Name, b.Offset, b.Offset+b.Size(), l, off, off+n)
				}
			}
			next = off + n
		}
		if next != spec.NumParams() {
			t.Errorf("%s: layer ranges end at %d, want NumParams %d", specName(spec), next, spec.NumParams())
		}
	}
}

// Each layer's operator is the diagonal block of the full operator: its
// products with the unit vectors of the layer equal the columns of the
// dense Hessian (or Gauss-Newton matrix) assembled from full products, for
// every activation, both losses, biases on and off, the forward passes
// cached and recomputed, over 19 samples in batches of 6 (the last one
// ragged). Tolerance batchTol relative to the block's largest entry: the
// layer operator leaves out operations that add exact zeros, so only a
// different GEMM path could make it differ by rounding; a wrong offset, a
// missing term or a term from another layer is O(1). ApplyBatch of k = 3
// random directions matches Apply to the same tolerance.
func TestLayerOperatorIsDiagonalBlock(t *testing.T) {
	ctx := context.Background()
	for i, spec := range allSpecs() {
		if !inShort(i) {
			continue
		}
		pr := newProblem(spec, 19, uint64(700+i))
		// The dense matrix of each kind, assembled once for both cache
		// settings: the products are the same with or without the cache.
		dense := map[Curvature]*mat.Dense{}
		for _, cache := range []int64{0, -1} {
			for _, kind := range []Curvature{Hessian, GaussNewton} {
				t.Run(fmt.Sprintf("%s/cache=%d/%s", specName(spec), cache, kind), func(t *testing.T) {
					p, d := batchPlan(t, pr, Settings{Batch: 6, CacheBytes: cache})
					H := dense[kind]
					if H == nil {
						H = denseHessian(t, p, d, kind)
						dense[kind] = H
					}
					be := p.Backend()
					op := p.CurvatureOperator(d, kind)
					defer op.Close()
					for l := 0; l < spec.NumLayers(); l++ {
						lo := op.Layer(l)
						off, n := spec.LayerRange(l)
						if lo.Dim() != n || lo.Offset() != off || lo.Layer() != l {
							t.Fatalf("layer %d: Dim %d Offset %d Layer %d, want %d %d %d", l, lo.Dim(), lo.Offset(), lo.Layer(), n, off, l)
						}
						e, hv := be.Alloc(n), be.Alloc(n)
						var worst, scale float64
						at := [2]int{}
						for j := 0; j < n; j++ {
							be.Fill(e, 0)
							be.Fill(be.View(e, j, 1), 1)
							if err := lo.Apply(ctx, hv, e); err != nil {
								t.Fatal(err)
							}
							col := Download(be, hv)
							for r := range col {
								want := H.At(off+r, off+j)
								if dd := math.Abs(col[r] - want); dd > worst || math.IsNaN(dd) {
									worst, at = dd, [2]int{r, j}
								}
								scale = max(scale, math.Abs(want))
							}
						}
						if !(worst <= batchTol*scale) {
							t.Errorf("layer %d: block differs from the dense matrix's diagonal block by %.3g at (%d, %d), largest entry %.3g", l, worst, at[0], at[1], scale)
						}
						if lo.Applies != n {
							t.Errorf("layer %d: Applies %d after %d products", l, lo.Applies, n)
						}
						// ApplyBatch against Apply.
						r := rand.New(rand.NewPCG(uint64(l), 5))
						const k = 3
						v, got, want := make([]kernels.Buffer, k), make([]kernels.Buffer, k), make([]kernels.Buffer, k)
						for j := range v {
							host := make([]float64, n)
							for q := range host {
								host[q] = r.NormFloat64()
							}
							v[j], got[j], want[j] = be.Alloc(n), be.Alloc(n), be.Alloc(n)
							be.Upload(v[j], host)
							if err := lo.Apply(ctx, want[j], v[j]); err != nil {
								t.Fatal(err)
							}
						}
						if err := lo.ApplyBatch(ctx, got, v); err != nil {
							t.Fatal(err)
						}
						for j := range v {
							w, at, sc := maxAbsDiff(Download(be, got[j]), Download(be, want[j]))
							if !(w <= batchTol*sc) {
								t.Errorf("layer %d: ApplyBatch direction %d differs from Apply by %.3g at %d (largest %.3g)", l, j, w, at, sc)
							}
						}
					}
				})
			}
		}
	}
}

// A layer operator refuses vectors of another length (a programmer
// error), and reports non-finite products as ErrNonFinite naming the layer.
func TestLayerOperatorErrors(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 5, 1)
	p, d := batchPlan(t, pr, Settings{})
	op := p.CurvatureOperator(d, Hessian)
	defer op.Close()
	lo := op.Layer(1)
	be := p.Backend()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Apply with a vector of NumParams elements did not panic")
			}
		}()
		_ = lo.Apply(context.Background(), be.Alloc(lo.Dim()), be.Alloc(p.NumParams()))
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Layer(2) of a 2-layer network did not panic")
			}
		}()
		op.Layer(2)
	}()
	v := be.Alloc(lo.Dim())
	be.Upload(v, []float64{math.NaN(), 0, 0, 0, 0, 0, 0, 0, 0, 0})
	err := lo.Apply(context.Background(), be.Alloc(lo.Dim()), v)
	if err == nil || !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "layer 1") {
		t.Errorf("NaN direction: err %v, want ErrNonFinite naming layer 1", err)
	}
}

// gemmCounter is a CPU backend that counts its GEMMs.
type gemmCounter[T kernels.Float] struct {
	*cpu.Backend[T]
	gemms int
}

func (b *gemmCounter[T]) Gemm(tA, tB kernels.Trans, m, n, k int, alpha float64, a kernels.Buffer, lda int, bb kernels.Buffer, ldb int, beta float64, c kernels.Buffer, ldc int) {
	b.gemms++
	b.Backend.Gemm(tA, tB, m, n, k, alpha, a, lda, bb, ldb, beta, c, ldc)
}

// A layer block's product skips the work its zeros make zero: with the
// forward pass cached, one product of layer l of L takes 2(L-l) GEMMs per
// data batch, a whole product 6L-4 (the counts the LayerOperator's doc and
// the README state), for the Hessian and the GGN (which drops no GEMM that
// the block runs).
func TestLayerOperatorGemms(t *testing.T) {
	spec := Spec{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 20, 9)
	be := &gemmCounter[float64]{Backend: cpu.New[float64]()}
	p, d := planOn[float64](t, pr, be, Settings{Batch: 8}) // 3 batches
	ctx := context.Background()
	L, batches := spec.NumLayers(), 3
	for _, kind := range []Curvature{Hessian, GaussNewton} {
		op := p.CurvatureOperator(d, kind)
		whole := []kernels.Buffer{be.Alloc(op.Dim()), be.Alloc(op.Dim())}
		if err := op.Apply(ctx, whole[0], whole[1]); err != nil { // fills the cache
			t.Fatal(err)
		}
		be.gemms = 0
		if err := op.Apply(ctx, whole[0], whole[1]); err != nil {
			t.Fatal(err)
		}
		if kind == Hessian && be.gemms != batches*(6*L-4) {
			t.Errorf("whole product: %d GEMMs, want %d", be.gemms, batches*(6*L-4))
		}
		for l := 0; l < L; l++ {
			lo := op.Layer(l)
			v, dst := be.Alloc(lo.Dim()), be.Alloc(lo.Dim())
			be.gemms = 0
			if err := lo.Apply(ctx, dst, v); err != nil {
				t.Fatal(err)
			}
			if want := batches * 2 * (L - l); be.gemms != want {
				t.Errorf("%s layer %d: %d GEMMs, want %d", kind, l, be.gemms, want)
			}
		}
		op.Close()
	}
}

// The estimators run on a layer operator (probetest's suite: power
// iteration, Lanczos, Hutchinson, SLQ, batched and not) agree with gonum's
// dense eigendecomposition of the matching diagonal block of the Hessian
// assembled from whole products, for each layer of a tanh and a relu
// network with each loss, to 1e-8 of the block's norm as for the whole
// operator (TestEstimatorsOnExactHessian).
func TestEstimatorsOnLayerBlocks(t *testing.T) {
	for i, spec := range []Spec{
		{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true},
		{Layers: []int{4, 6, 5, 2}, Activation: kernels.ReLU, Loss: MSE, Bias: true},
		{Layers: []int{5, 7, 6, 3}, Activation: kernels.Gelu, Loss: CrossEntropy},
	} {
		pr := newProblem(spec, 19, uint64(900+i))
		p, d := pr.plan(t, 6)
		H := denseHessian(t, p, d, Hessian)
		op := p.CurvatureOperator(d, Hessian)
		for l := 0; l < spec.NumLayers(); l++ {
			t.Run(fmt.Sprintf("%s/layer%d", specName(spec), l), func(t *testing.T) {
				off, n := spec.LayerRange(l)
				sym := mat.NewSymDense(n, nil)
				for a := 0; a < n; a++ {
					for b := a; b < n; b++ {
						sym.SetSym(a, b, (H.At(off+a, off+b)+H.At(off+b, off+a))/2)
					}
				}
				probetest.Check[kernels.Buffer](t, op.Layer(l), p.Backend(), sym, 1e-8)
			})
		}
		op.Close()
	}
}

// A network of one layer has one block, the whole matrix: its layer
// operator's products equal the whole operator's.
func TestLayerOperatorSingleLayer(t *testing.T) {
	for _, spec := range []Spec{
		{Layers: []int{4, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true},
		{Layers: []int{4, 3}, Activation: kernels.Tanh, Loss: MSE},
	} {
		pr := newProblem(spec, 11, 4)
		p, d := pr.plan(t, 4)
		op := p.CurvatureOperator(d, Hessian)
		lo := op.Layer(0)
		if lo.Dim() != op.Dim() {
			t.Fatalf("%s: layer 0 has %d parameters of %d", specName(spec), lo.Dim(), op.Dim())
		}
		be := p.Backend()
		v, want, got := be.Alloc(op.Dim()), be.Alloc(op.Dim()), be.Alloc(op.Dim())
		host := make([]float64, op.Dim())
		for i := range host {
			host[i] = math.Sin(float64(i) + 1)
		}
		be.Upload(v, host)
		if err := op.Apply(context.Background(), want, v); err != nil {
			t.Fatal(err)
		}
		if err := lo.Apply(context.Background(), got, v); err != nil {
			t.Fatal(err)
		}
		if w, at, sc := maxAbsDiff(Download(be, got), Download(be, want)); !(w <= batchTol*sc) {
			t.Errorf("%s: layer 0's product differs from the whole one by %.3g at %d (largest %.3g)", specName(spec), w, at, sc)
		}
		op.Close()
	}
}
