package models

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
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
// the same order of operations. A Source read batch by batch
// (NewSourceData) gives them too, and one that hands out views of its
// samples (ViewSource) is never asked to copy a batch.
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
			src, err := p.NewSourceData(&sliceSource{pr: pr, d: spec.Inputs(), c: spec.Outputs(), mse: spec.Loss == MSE}, pr.n, true)
			if err != nil {
				t.Fatal(err)
			}
			vs := &viewSlices{sliceSource{pr: pr, d: spec.Inputs(), c: spec.Outputs(), mse: spec.Loss == MSE}}
			view, err := p.NewSourceData(vs, pr.n, true)
			if err != nil {
				t.Fatal(err)
			}
			sets := [][4]*Data{{whole, host, src, view}, {p.Slice(whole, 4, 9), p.Slice(host, 4, 9), p.Slice(src, 4, 9), p.Slice(view, 4, 9)}}
			for _, set := range sets {
				eq := func(what string, k int, a, b []float64) {
					for j := range a {
						if a[j] != b[j] {
							t.Fatalf("%s: %s[%d] = %v uploaded, %v %s", name, what, j, a[j], b[j], []string{"", "host", "source", "view"}[k])
						}
					}
				}
				n := p.NumParams()
				var gs [4][]float64
				var evs [4]Eval
				for k, d := range set {
					g := p.be.Alloc(n)
					ev, err := p.Gradient(ctx, g, d)
					if err != nil {
						t.Fatal(err)
					}
					evs[k] = ev
					gs[k] = make([]float64, n)
					p.be.Download(gs[k], g)
				}
				for k := 1; k < 4; k++ {
					if evs[0].Loss != evs[k].Loss || evs[0].GradNorm != evs[k].GradNorm ||
						(evs[0].Accuracy != evs[k].Accuracy && evs[0].Accuracy == evs[0].Accuracy) {
						t.Fatalf("%s: eval %+v uploaded, %+v streamed (%d)", name, evs[0], evs[k], k)
					}
					eq("gradient", k, gs[0], gs[k])
				}
				v := p.be.Alloc(n)
				p.be.Normal(v, 3)
				for _, kind := range []Curvature{Hessian, GaussNewton} {
					var hs [4][]float64
					for k, d := range set {
						op := p.CurvatureOperator(d, kind)
						dst := p.be.Alloc(n)
						for rep := 0; rep < 2; rep++ { // the second from the cache
							if err := op.Apply(ctx, dst, v); err != nil {
								t.Fatal(err)
							}
						}
						hs[k] = make([]float64, n)
						p.be.Download(hs[k], dst)
						op.Close()
					}
					eq(kind.String()+" product", 1, hs[0], hs[1])
					eq(kind.String()+" product", 2, hs[0], hs[2])
					eq(kind.String()+" product", 3, hs[0], hs[3])
				}
			}
			if vs.reads != 0 {
				t.Fatalf("%s: %d batches copied from a source that hands out views", name, vs.reads)
			}
		}
	}
}

// viewSlices is a sliceSource that hands out views of its slices
// (ViewSource); its reads count only the batches copied.
type viewSlices struct{ sliceSource }

func (s *viewSlices) View(start, n int) (x []float64, labels []int, targets []float64, ok bool) {
	x, labels = s.pr.x[start*s.d:(start+n)*s.d], s.pr.labels[start:start+n]
	if s.mse {
		targets = s.pr.targets[start*s.c : (start+n)*s.c]
	}
	return x, labels, targets, true
}

// sliceSource is a Source over a problem's slices; fail, when set, is
// returned by the read of the batch holding sample failAt.
type sliceSource struct {
	pr     *problem
	d, c   int
	mse    bool
	fail   error
	failAt int
	reads  int
}

func (s *sliceSource) ReadBatch(start int, x []float64, labels []int, targets []float64) error {
	s.reads++
	n := len(x) / s.d
	if s.fail != nil && start <= s.failAt && s.failAt < start+n {
		return s.fail
	}
	copy(x, s.pr.x[start*s.d:])
	if labels != nil {
		copy(labels, s.pr.labels[start:])
	}
	if targets != nil {
		copy(targets, s.pr.targets[start*s.c:])
	}
	return nil
}

// TestSourceDataErrors: an error of the Source stops every kind of pass
// (evaluation, gradient, product, over a Slice) and is returned as it is;
// a label outside the model's outputs is an error naming the sample, not
// an index out of range; NewSourceData refuses no samples and
// cross-entropy without labels.
func TestSourceDataErrors(t *testing.T) {
	ctx := context.Background()
	spec := Spec{Layers: []int{3, 4, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	p, err := Build[float64](cpu.New[float64](), spec, Settings{Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	pr := newProblem(spec, 10, 3)
	boom := errors.New("data: f.idx: changed since it was opened")
	src := &sliceSource{pr: pr, d: 3, c: 2, fail: boom, failAt: 9}
	d, err := p.NewSourceData(src, pr.n, true)
	if err != nil {
		t.Fatal(err)
	}
	np := p.NumParams()
	g, v := p.be.Alloc(np), p.be.Alloc(np)
	if _, err := p.Evaluate(ctx, d); err != boom {
		t.Errorf("Evaluate: %v, want %v", err, boom)
	}
	if _, err := p.Gradient(ctx, g, d); err != boom {
		t.Errorf("Gradient: %v, want %v", err, boom)
	}
	if err := p.HVP(ctx, g, v, d); err != boom {
		t.Errorf("HVP: %v, want %v", err, boom)
	}
	if _, err := p.Evaluate(ctx, p.Slice(d, 8, 2)); err != boom {
		t.Errorf("Evaluate of a Slice: %v, want %v", err, boom)
	}
	if _, err := p.Evaluate(ctx, p.Slice(d, 0, 8)); err != nil {
		t.Errorf("Evaluate of a Slice before the failing sample: %v", err)
	}
	src.fail = nil
	pr.labels[6] = 2
	_, err = p.Evaluate(ctx, d)
	errtest.Mentions(t, "Evaluate with a label out of range", err, "label 2 of sample 6", "[0, 2)")
	view, err := p.NewSourceData(&viewSlices{sliceSource{pr: pr, d: 3, c: 2}}, pr.n, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Evaluate(ctx, view)
	errtest.Mentions(t, "Evaluate of views with a label out of range", err, "label 2 of sample 6", "[0, 2)")
	if _, err := p.NewSourceData(src, 0, true); err == nil {
		t.Error("NewSourceData of 0 samples: no error")
	}
	if _, err := p.NewSourceData(src, 10, false); err == nil {
		t.Error("NewSourceData for cross_entropy without labels: no error")
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

// TestOperatorKeepsStreamedBatches: an operator that keeps its forward
// passes keeps the streamed batches beside them, so that its gradient and
// any number of products read each batch from the Source once, with the
// products bit for bit those of the data uploaded whole; without the
// cache, every pass reads every batch again.
func TestOperatorKeepsStreamedBatches(t *testing.T) {
	ctx := context.Background()
	spec := Spec{Layers: []int{5, 7, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 19, 77)
	for _, c := range []struct {
		cache int64
		reads int // batches read by a gradient and three products
	}{{0, 4}, {-1, 16}} {
		p, whole := batchPlan(t, pr, Settings{Batch: 6, CacheBytes: c.cache})
		ss := &sliceSource{pr: pr, d: spec.Inputs(), c: spec.Outputs()}
		src, err := p.NewSourceData(ss, pr.n, true)
		if err != nil {
			t.Fatal(err)
		}
		n := p.NumParams()
		v, g := p.be.Alloc(n), p.be.Alloc(n)
		p.be.Normal(v, 5)
		var out [2][]float64
		for k, d := range []*Data{whole, src} {
			op := p.CurvatureOperator(d, Hessian)
			if _, err := op.Gradient(ctx, g); err != nil {
				t.Fatal(err)
			}
			dst := p.be.Alloc(n)
			for range 3 {
				if err := op.Apply(ctx, dst, v); err != nil {
					t.Fatal(err)
				}
			}
			out[k] = make([]float64, n)
			p.be.Download(out[k], dst)
			op.Close()
		}
		if ss.reads != c.reads {
			t.Errorf("cache %d: %d batches read, want %d", c.cache, ss.reads, c.reads)
		}
		for j := range out[0] {
			if out[0][j] != out[1][j] {
				t.Fatalf("cache %d: product[%d] %v uploaded, %v streamed", c.cache, j, out[0][j], out[1][j])
			}
		}
	}
}
