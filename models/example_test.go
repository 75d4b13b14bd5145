package models_test

import (
	"context"
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// Build a network, put data on its backend and find the top eigenvalue of
// the loss Hessian with exact Hessian-vector products.
func ExampleBuild() {
	spec := models.Spec{Layers: []int{2, 8, 2}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	be := cpu.New[float64]()
	p, err := models.Build(be, spec, models.Settings{})
	if err != nil {
		panic(err)
	}
	p.Init(1)
	x := []float64{0, 1, 1, 0, 1, 1, -1, 0.5, 0.5, -1, -1, -1}
	labels := []int{0, 0, 1, 1, 0, 1}
	d, err := p.NewData(x, 6, labels, nil)
	if err != nil {
		panic(err)
	}
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	top, err := probe.Lanczos[kernels.Buffer](context.Background(), op, be, probe.LanczosSettings{TopK: 1, BottomK: 1})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d parameters, lambda_max %.4f, lambda_min %.4f\n", p.NumParams(), top.Top[0], top.Bottom[0])
	// Output:
	// 42 parameters, lambda_max 0.8780, lambda_min -0.2558
}
