package probe_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// looped is a BatchOperator whose ApplyBatch applies the wrapped operator
// to each vector in turn, so that its products are bit-identical to
// Apply's: the estimators must then give bit-identical results with and
// without batching, which checks that batching changes neither the probes,
// nor their order, nor the arithmetic done with the products.
type looped struct {
	probe.Operator[[]float64]
	calls   int // ApplyBatch calls
	largest int // most vectors in one call
	fail    int // ApplyBatch fails on this call (1-based; 0 never)
}

var errBatch = errors.New("batch failed")

func (l *looped) ApplyBatch(ctx context.Context, dst, v [][]float64) error {
	if len(dst) != len(v) {
		panic("looped: length mismatch")
	}
	l.calls++
	l.largest = max(l.largest, len(v))
	if l.calls == l.fail {
		return errBatch
	}
	for j := range v {
		if err := l.Apply(ctx, dst[j], v[j]); err != nil {
			return err
		}
	}
	return nil
}

var _ probe.BatchOperator[[]float64] = (*looped)(nil)

func TestTraceBatchedIdentical(t *testing.T) {
	ctx := context.Background()
	small := []float64{3, 2, 1, 0.5, -1} // n = 5 < Probes/3: Q spans the space
	cases := []spectrum{spectra()[0], spectra()[3], {"small", small}}
	for _, sc := range cases {
		op, _, _ := dense(sc.lambda, 21)
		for _, block := range []int{0, 1, 3, 7, 40} {
			s := probe.TraceSettings{Probes: 22, Seed: 5, Block: block}
			for name, f := range map[string]func(context.Context, probe.Operator[[]float64], probe.Space[[]float64], probe.TraceSettings) (*probe.TraceResult, error){
				"hutchinson": probe.Hutchinson[[]float64],
				"hutch++":    probe.HutchPP[[]float64],
			} {
				t.Run(fmt.Sprintf("%s/%s/block=%d", sc.name, name, block), func(t *testing.T) {
					var r1, r2 recorder
					s.Recorder = &r1
					want, err := f(ctx, op, host, s)
					if err != nil {
						t.Fatal(err)
					}
					bop := &looped{Operator: op}
					s.Recorder = &r2
					got, err := f(ctx, bop, host, s)
					if err != nil {
						t.Fatal(err)
					}
					// Bit-identical: see looped.
					if got.Value != want.Value || !(got.StdErr == want.StdErr || math.IsNaN(got.StdErr) && math.IsNaN(want.StdErr)) {
						t.Errorf("batched %v ± %v, single %v ± %v", got.Value, got.StdErr, want.Value, want.StdErr)
					}
					if got.Probes != want.Probes || got.Stats.Applies != want.Stats.Applies || got.Stats.Iterations != want.Stats.Iterations {
						t.Errorf("batched %d probes %+v, single %d %+v", got.Probes, got.Stats, want.Probes, want.Stats)
					}
					if r1.n != r2.n || r1.last != r2.last {
						t.Errorf("progress: batched %d reports, last %+v; single %d, %+v", r2.n, r2.last, r1.n, r1.last)
					}
					wantBlock := block
					if block == 0 {
						wantBlock = 8
					}
					if bop.largest > wantBlock || wantBlock > 1 && bop.calls == 0 {
						t.Errorf("%d ApplyBatch calls of at most %d vectors, block %d", bop.calls, bop.largest, wantBlock)
					}
				})
			}
		}
	}
}

func TestHutchinsonBatchError(t *testing.T) {
	// A failing ApplyBatch ends the estimate after the blocks completed
	// before it, with the error.
	op, _, _ := dense(spectra()[0].lambda, 22)
	bop := &looped{Operator: op, fail: 3}
	r, err := probe.Hutchinson(context.Background(), bop, host, probe.TraceSettings{Probes: 20, Block: 4})
	if !errors.Is(err, errBatch) {
		t.Fatalf("err = %v", err)
	}
	if r.Probes != 8 || r.Stats.Applies != 8 {
		t.Errorf("%d probes, %d applies after two blocks of 4", r.Probes, r.Stats.Applies)
	}
	want, _ := probe.Hutchinson(context.Background(), op, host, probe.TraceSettings{Probes: 8})
	if r.Value != want.Value {
		t.Errorf("partial estimate %v, want that of the first 8 probes %v", r.Value, want.Value)
	}
}

func TestSLQBatchedIdentical(t *testing.T) {
	// Lockstep Lanczos gives each probe exactly the recurrence it has on
	// its own, including probes whose Krylov space becomes invariant
	// before Steps (the "repeated" spectrum has few distinct eigenvalues
	// only with Steps beyond them, so use a low-rank one too).
	ctx := context.Background()
	lowRank := append([]float64{4, 2, 2, -1}, make([]float64, 40)...)
	for _, sc := range []spectrum{spectra()[1], {"lowrank", lowRank}} {
		op, _, _ := dense(sc.lambda, 23)
		for _, block := range []int{0, 1, 4} {
			t.Run(fmt.Sprintf("%s/block=%d", sc.name, block), func(t *testing.T) {
				s := probe.SLQSettings{Probes: 7, Steps: 30, Seed: 9, Block: block}
				want, err := probe.SLQ(ctx, op, host, s)
				if err != nil {
					t.Fatal(err)
				}
				bop := &looped{Operator: op}
				got, err := probe.SLQ(ctx, bop, host, s)
				if err != nil {
					t.Fatal(err)
				}
				if got.Probes() != want.Probes() || got.Stats.Applies != want.Stats.Applies {
					t.Fatalf("batched %d probes %d applies, single %d, %d", got.Probes(), got.Stats.Applies, want.Probes(), want.Stats.Applies)
				}
				for j := 0; j < want.Probes(); j++ {
					if !slices.Equal(got.Nodes(j), want.Nodes(j)) || !slices.Equal(got.Weights(j), want.Weights(j)) {
						t.Errorf("probe %d: batched nodes %v, single %v", j, got.Nodes(j), want.Nodes(j))
					}
				}
				if block > 1 && bop.calls == 0 { // Block 0 means 1 for SLQ
					t.Error("ApplyBatch never called")
				}
			})
		}
	}
}

func TestSLQBatchError(t *testing.T) {
	// A failing ApplyBatch drops the group it interrupted: the density
	// holds the groups completed before it.
	op, _, _ := dense(spectra()[0].lambda, 24)
	bop := &looped{Operator: op, fail: 15} // step 5 of the second group

	d, err := probe.SLQ(context.Background(), bop, host, probe.SLQSettings{Probes: 9, Steps: 10, Block: 4})
	if !errors.Is(err, errBatch) {
		t.Fatalf("err = %v", err)
	}
	if d.Probes() != 4 || d.Stats.Applies != 56 {
		t.Errorf("%d probes %d applies, want the 4 of the first group and 40+4*4 applies", d.Probes(), d.Stats.Applies)
	}
}
