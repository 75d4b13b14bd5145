package models

import (
	"context"
	"fmt"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// allocCounter is a backend that counts the elements it has allocated.
type allocCounter struct {
	kernels.Backend[float64]
	elems int
}

func (a *allocCounter) Alloc(n int) kernels.Buffer {
	a.elems += n
	return a.Backend.Alloc(n)
}

// TestHostDataMatchesNewData: a dataset streamed from host memory
// (NewHostData) gives bit for bit the loss, accuracy, gradient and
// curvature products of the same dataset uploaded whole (NewData), for
// every activation, both losses and biases on and off, over 19 samples in
// batches of 6 (the last one ragged), with the forward passes cached and
// recomputed, and through Slice; the same values reach the backend, in
// the same order of operations.
func TestHostDataMatchesNewData(t *testing.T) {
	ctx := context.Background()
	for i, spec := range allSpecs() {
		pr := newProblem(spec, 19, uint64(900+i))
		for _, cache := range []int64{0, -1} {
			name := fmt.Sprintf("%s/cache=%d", specName(spec), cache)
			p, whole := batchPlan(t, pr, Settings{Batch: 6, CacheBytes: cache})
			var targets []float64
			if spec.Loss == MSE {
				targets = pr.targets
			}
			host, err := p.NewHostData(pr.x, pr.n, pr.labels, targets)
			if err != nil {
				t.Fatal(err)
			}
			if !host.Streamed() || whole.Streamed() {
				t.Fatalf("%s: Streamed %v for host data, %v for uploaded", name, host.Streamed(), whole.Streamed())
			}
			for _, pair := range [][2]*Data{{whole, host}, {p.Slice(whole, 4, 9), p.Slice(host, 4, 9)}} {
				eq := func(what string, a, b []float64) {
					for j := range a {
						if a[j] != b[j] {
							t.Fatalf("%s: %s[%d] = %v uploaded, %v streamed", name, what, j, a[j], b[j])
						}
					}
				}
				n := p.NumParams()
				ga, gb := make([]float64, n), make([]float64, n)
				var evs [2]Eval
				for k, d := range pair {
					g := p.be.Alloc(n)
					ev, err := p.Gradient(ctx, g, d)
					if err != nil {
						t.Fatal(err)
					}
					evs[k] = ev
					p.be.Download([][]float64{ga, gb}[k], g)
				}
				if evs[0].Loss != evs[1].Loss || evs[0].GradNorm != evs[1].GradNorm ||
					(evs[0].Accuracy != evs[1].Accuracy && evs[0].Accuracy == evs[0].Accuracy) {
					t.Fatalf("%s: eval %+v uploaded, %+v streamed", name, evs[0], evs[1])
				}
				eq("gradient", ga, gb)
				v := p.be.Alloc(n)
				p.be.Normal(v, 3)
				for _, kind := range []Curvature{Hessian, GaussNewton} {
					ha, hb := make([]float64, n), make([]float64, n)
					for k, d := range pair {
						op := p.CurvatureOperator(d, kind)
						dst := p.be.Alloc(n)
						for rep := 0; rep < 2; rep++ { // the second from the cache
							if err := op.Apply(ctx, dst, v); err != nil {
								t.Fatal(err)
							}
						}
						p.be.Download([][]float64{ha, hb}[k], dst)
						op.Close()
					}
					eq(kind.String()+" product", ha, hb)
				}
			}
		}
	}
}

// TestHostDataMemory: the backend memory of a pass over streamed data
// does not depend on the number of samples (one batch is staged at a
// time), where uploaded data take all of them.
func TestHostDataMemory(t *testing.T) {
	spec := Spec{Layers: []int{20, 16, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	elems := func(n int, streamed bool) int {
		be := &allocCounter{Backend: cpu.New[float64]()}
		p, err := Build[float64](be, spec, Settings{Batch: 32, CacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		pr := newProblem(spec, n, 7)
		before := be.elems
		var d *Data
		if streamed {
			d, err = p.NewHostData(pr.x, n, pr.labels, nil)
		} else {
			d, err = p.NewData(pr.x, n, pr.labels, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		np := p.NumParams()
		g, v, hv := be.Alloc(np), be.Alloc(np), be.Alloc(np)
		if _, err := p.Gradient(context.Background(), g, d); err != nil {
			t.Fatal(err)
		}
		op := p.CurvatureOperator(d, Hessian)
		if err := op.Apply(context.Background(), hv, v); err != nil {
			t.Fatal(err)
		}
		op.Close()
		return be.elems - before
	}
	small, large := elems(100, true), elems(5000, true)
	if small != large {
		t.Errorf("streamed: %d elements allocated for 100 samples, %d for 5000", small, large)
	}
	if up := elems(5000, false); up-large < 5000*20 { // at least the inputs
		t.Errorf("uploaded: %d elements for 5000 samples, streamed %d", up, large)
	}
}

// NewHostData refuses what NewData refuses, with the same errors.
func TestHostDataErrors(t *testing.T) {
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	p, err := Build[float64](cpu.New[float64](), spec, Settings{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x      []float64
		n      int
		labels []int
	}{
		{nil, 0, nil},
		{make([]float64, 5), 2, []int{0, 1}},
		{make([]float64, 6), 2, []int{0}},
		{make([]float64, 6), 2, []int{0, 2}},
		{make([]float64, 6), 2, nil},
	} {
		_, e1 := p.NewData(c.x, c.n, c.labels, nil)
		_, e2 := p.NewHostData(c.x, c.n, c.labels, nil)
		if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
			t.Errorf("%+v: NewData %v, NewHostData %v", c, e1, e2)
		}
	}
}
