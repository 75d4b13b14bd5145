package run

import (
	"context"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

var (
	_ probe.MultiSpace[kernels.Buffer] = cpu.New[float32]()
	_ probe.MultiSpace[kernels.Buffer] = cpu.New[float64]()
)

// plainSpace hides a backend's DotMany and AxpyMany, so that the Krylov
// methods fall back to their loops of Dot and Axpy.
type plainSpace[T kernels.Float] struct{ be kernels.Backend[T] }

func (s plainSpace[T]) Alloc(n int) kernels.Buffer                 { return s.be.Alloc(n) }
func (s plainSpace[T]) Free(v kernels.Buffer)                      { s.be.Free(v) }
func (s plainSpace[T]) Copy(dst, src kernels.Buffer)               { s.be.Copy(dst, src) }
func (s plainSpace[T]) Dot(x, y kernels.Buffer) float64            { return s.be.Dot(x, y) }
func (s plainSpace[T]) Axpy(a float64, x, y kernels.Buffer)        { s.be.Axpy(a, x, y) }
func (s plainSpace[T]) Scale(a float64, x kernels.Buffer)          { s.be.Scale(a, x) }
func (s plainSpace[T]) Nrm2(x kernels.Buffer) float64              { return s.be.Nrm2(x) }
func (s plainSpace[T]) Rademacher(dst kernels.Buffer, seed uint64) { s.be.Rademacher(dst, seed) }
func (s plainSpace[T]) Normal(dst kernels.Buffer, seed uint64)     { s.be.Normal(dst, seed) }

// Lanczos and SLQ on a real Hessian give the same numbers, bit for bit,
// with the CPU backend's one-pass Gram-Schmidt (MultiSpace) as with the
// loops of Dot and Axpy it replaces.
func TestMultiSpaceSameNumbers(t *testing.T) {
	testMultiSpace[float32](t)
	testMultiSpace[float64](t)
}

func testMultiSpace[T kernels.Float](t *testing.T) {
	be := cpu.New[T]()
	spec := models.Spec{Layers: []int{12, 40, 30, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, err := models.Build(be, spec, models.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	p.Init(3)
	ds, err := data.GaussianClasses(150, 12, 4, 1.5, 7)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.NewData(ds.X, ds.N, ds.Labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	ctx := context.Background()
	ls := probe.LanczosSettings{TopK: 3, BottomK: 2, MaxSteps: 60, Tol: 1e-30, Seed: 5}
	a, errA := probe.Lanczos[kernels.Buffer](ctx, op, be, ls)
	b, errB := probe.Lanczos[kernels.Buffer](ctx, op, plainSpace[T]{be}, ls)
	if (errA == nil) != (errB == nil) || a.Steps != b.Steps || !slices.Equal(a.Top, b.Top) || !slices.Equal(a.Bottom, b.Bottom) {
		t.Fatalf("%s Lanczos: MultiSpace %v %v (%d steps, %v), loops %v %v (%d steps, %v)",
			kernels.DTypeName[T](), a.Top, a.Bottom, a.Steps, errA, b.Top, b.Bottom, b.Steps, errB)
	}
	ss := probe.SLQSettings{Probes: 3, Steps: 40, Seed: 9}
	da, err := probe.SLQ[kernels.Buffer](ctx, op, be, ss)
	if err != nil {
		t.Fatal(err)
	}
	db, err := probe.SLQ[kernels.Buffer](ctx, op, plainSpace[T]{be}, ss)
	if err != nil {
		t.Fatal(err)
	}
	for j := range da.Probes() {
		if !slices.Equal(da.Nodes(j), db.Nodes(j)) || !slices.Equal(da.Weights(j), db.Weights(j)) {
			t.Fatalf("%s SLQ probe %d: nodes differ: %v vs %v", kernels.DTypeName[T](), j, da.Nodes(j), db.Nodes(j))
		}
	}
}
