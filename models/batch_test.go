package models

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/probe"
)

// batchTol bounds the difference between ApplyBatch and separate Apply
// calls, relative to the largest entry of the product. Each direction gets
// the same operations in the same order; only the stacked GEMMs (Ra·W_l and
// Rd·W_l^T over k*n rows instead of n) may round differently, if the BLAS
// picks another kernel or blocking for the taller matrix: a few ulps of
// each entry of those products, carried through a handful of layers, which
// is ~1e-15 of the largest entry (on these sizes, with gonum's BLAS and with
// OpenBLAS, the results were in fact bit-identical); 1e-13 leaves two
// orders of margin while a wrong block offset or a missing term is O(1).
const batchTol = 1e-13

// batchPlan returns pr's plan and data on the float64 CPU backend with the
// given batch and cache settings.
func batchPlan(t testing.TB, pr *problem, s Settings) (*Plan[float64], *Data) {
	t.Helper()
	return planOn(t, pr, cpu.New[float64](), s)
}

// planOn returns pr's plan on be with settings s, its parameters set to
// pr's, and pr's data (with its targets for an MSE model).
func planOn[T kernels.Float](t testing.TB, pr *problem, be kernels.Backend[T], s Settings) (*Plan[T], *Data) {
	t.Helper()
	p, err := Build[T](be, pr.spec, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetParams(pr.params); err != nil {
		t.Fatal(err)
	}
	var targets []float64
	if pr.spec.Loss == MSE {
		targets = pr.targets
	}
	d, err := p.NewData(pr.x, pr.n, pr.labels, targets)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// TestApplyBatchMatchesApply checks ApplyBatch with k directions against k
// separate Apply calls, for every activation, both losses, biases on and off,
// the Hessian and the Gauss-Newton matrix, with the forward passes cached and
// recomputed, over 19 samples in batches of 6 (the last one ragged). k = 1
// must be bit-identical; the k are run out of order so that the tangent
// scratch both grows and is reused for a smaller k.
func TestApplyBatchMatchesApply(t *testing.T) {
	ctx := context.Background()
	for i, spec := range allSpecs() {
		pr := newProblem(spec, 19, uint64(500+i))
		for _, cache := range []int64{0, -1} {
			for _, kind := range []Curvature{Hessian, GaussNewton} {
				name := fmt.Sprintf("%s/cache=%d/%s", specName(spec), cache, kind)
				t.Run(name, func(t *testing.T) {
					p, d := batchPlan(t, pr, Settings{Batch: 6, CacheBytes: cache})
					be := p.Backend()
					n := p.NumParams()
					op := p.CurvatureOperator(d, kind)
					defer op.Close()
					if (op.cached != nil) != (cache == 0) {
						t.Fatalf("cached = %v with CacheBytes %d", op.cached != nil, cache)
					}
					for _, k := range []int{3, 5, 1} {
						v, dst, want := make([]kernels.Buffer, k), make([]kernels.Buffer, k), make([][]float64, k)
						vHost := make([][]float64, k)
						for j := range v {
							v[j], dst[j] = be.Alloc(n), be.Alloc(n)
							be.Normal(v[j], uint64(100*k+j))
							be.Fill(dst[j], math.NaN()) // must be overwritten
							vHost[j] = Download(be, v[j])
							hv := be.Alloc(n)
							if err := op.Apply(ctx, hv, v[j]); err != nil {
								t.Fatal(err)
							}
							want[j] = Download(be, hv)
						}
						applies := op.Applies
						if err := op.ApplyBatch(ctx, dst, v); err != nil {
							t.Fatal(err)
						}
						if op.Applies != applies+k {
							t.Errorf("k=%d: Applies went from %d to %d", k, applies, op.Applies)
						}
						for j := range v {
							got := Download(be, dst[j])
							worst, at, scale := maxAbsDiff(got, want[j])
							if k == 1 && worst != 0 {
								t.Errorf("k=1: differs from Apply by %g at %d", worst, at)
							}
							if worst > batchTol*scale {
								t.Errorf("k=%d direction %d: |ApplyBatch - Apply| = %g at %d, %g of max |entry| %g", k, j, worst, at, worst/scale, scale)
							}
							if w, at, _ := maxAbsDiff(Download(be, v[j]), vHost[j]); w != 0 {
								t.Errorf("k=%d: ApplyBatch changed v[%d] at %d", k, j, at)
							}
						}
					}
				})
			}
		}
	}
}

// TestApplyBatchEmpty checks that no directions is a no-op.
func TestApplyBatchEmpty(t *testing.T) {
	pr := newProblem(allSpecs()[0], 7, 1)
	p, d := batchPlan(t, pr, Settings{Batch: 4})
	op := p.CurvatureOperator(d, Hessian)
	defer op.Close()
	if err := op.ApplyBatch(context.Background(), nil, nil); err != nil || op.Applies != 0 {
		t.Errorf("empty ApplyBatch: err %v, Applies %d", err, op.Applies)
	}
}

// applyOnly hides an Operator's ApplyBatch, so that the estimators apply
// it one direction at a time.
type applyOnly struct{ op *Operator[float64] }

func (a applyOnly) Dim() int { return a.op.Dim() }
func (a applyOnly) Apply(ctx context.Context, dst, v kernels.Buffer) error {
	return a.op.Apply(ctx, dst, v)
}

var _ probe.BatchOperator[kernels.Buffer] = (*Operator[float64])(nil)

// TestTraceBatched checks that Hutchinson and Hutch++ on the exact Hessian
// give the same estimate with the batched path (blocks of 4 probes through
// ApplyBatch) as with single products, to batchTol relative: the probes are
// the same, and each z·Hz differs only by the rounding of the products.
func TestTraceBatched(t *testing.T) {
	ctx := context.Background()
	spec := Spec{Layers: []int{5, 7, 6, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 19, 77)
	p, d := batchPlan(t, pr, Settings{Batch: 6})
	op := p.CurvatureOperator(d, Hessian)
	defer op.Close()
	s := probe.TraceSettings{Probes: 22, Seed: 3, Block: 4}
	for name, f := range map[string]func(context.Context, probe.Operator[kernels.Buffer], probe.Space[kernels.Buffer], probe.TraceSettings) (*probe.TraceResult, error){
		"hutchinson": probe.Hutchinson[kernels.Buffer],
		"hutch++":    probe.HutchPP[kernels.Buffer],
	} {
		single, err := f(ctx, applyOnly{op}, p.Backend(), s)
		if err != nil {
			t.Fatal(err)
		}
		batched, err := f(ctx, op, p.Backend(), s)
		if err != nil {
			t.Fatal(err)
		}
		if diff := math.Abs(batched.Value - single.Value); diff > batchTol*math.Abs(single.Value) {
			t.Errorf("%s: batched %v, single %v", name, batched.Value, single.Value)
		}
		if batched.Probes != single.Probes || batched.Stats.Applies != single.Stats.Applies {
			t.Errorf("%s: batched %d probes %d applies, single %d, %d", name, batched.Probes, batched.Stats.Applies, single.Probes, single.Stats.Applies)
		}
	}
}

// BenchmarkBatchHVP compares ApplyBatch with k = 8 directions against 8
// Apply calls on the cached operator of benchPlan; ns/direction is the
// time per Hessian-vector product.
func BenchmarkBatchHVP(b *testing.B) {
	const k = 8
	p, d := benchPlan(b)
	be := p.Backend()
	op := p.CurvatureOperator(d, Hessian)
	defer op.Close()
	v, hv := make([]kernels.Buffer, k), make([]kernels.Buffer, k)
	for j := range v {
		v[j], hv[j] = be.Alloc(p.NumParams()), be.Alloc(p.NumParams())
		be.Normal(v[j], uint64(j+1))
	}
	ctx := context.Background()
	if err := op.ApplyBatch(ctx, hv, v); err != nil { // forward cache and scratch
		b.Fatal(err)
	}
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			if err := op.ApplyBatch(ctx, hv, v); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/direction")
	})
	b.Run("separate", func(b *testing.B) {
		for b.Loop() {
			for j := range v {
				if err := op.Apply(ctx, hv[j], v[j]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/direction")
	})
}
