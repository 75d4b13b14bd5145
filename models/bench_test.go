package models

import (
	"context"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// benchPlan returns a 784x512x512x10 tanh cross-entropy plan in float32 on
// one batch of 512, the configuration of bench/RESULTS.md.
func benchPlan(b *testing.B) (*Plan[float32], *Data) {
	spec := Spec{Layers: []int{784, 512, 512, 10}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 512, 1)
	p, err := Build[float32](cpu.New[float32](), spec, Settings{Batch: 512})
	if err != nil {
		b.Fatal(err)
	}
	p.SetParams(pr.params)
	d, err := p.NewData(pr.x, pr.n, pr.labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	return p, d
}

// benchProduct returns benchPlan's plan and batch with a random direction
// v and a buffer hv for the product Hv.
func benchProduct(b *testing.B) (p *Plan[float32], d *Data, v, hv kernels.Buffer) {
	p, d = benchPlan(b)
	be := p.Backend()
	v, hv = be.Alloc(p.NumParams()), be.Alloc(p.NumParams())
	be.Normal(v, 1)
	return p, d, v, hv
}

func BenchmarkGradient(b *testing.B) {
	p, d := benchPlan(b)
	g := p.Backend().Alloc(p.NumParams())
	for i := 0; i < b.N; i++ {
		if _, err := p.Gradient(context.Background(), g, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHVP(b *testing.B) {
	p, d, v, hv := benchProduct(b)
	for i := 0; i < b.N; i++ {
		if err := p.HVP(context.Background(), hv, v, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHVPKeptForward(b *testing.B) {
	p, d, v, hv := benchProduct(b)
	op := p.CurvatureOperator(d, Hessian)
	defer op.Close()
	for i := 0; i < b.N; i++ {
		if err := op.Apply(context.Background(), hv, v); err != nil {
			b.Fatal(err)
		}
	}
}
