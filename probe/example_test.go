package probe_test

import (
	"context"
	"fmt"

	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

func ExampleLanczos() {
	m := mat.NewSymDense(3, []float64{
		2, -1, 0,
		-1, 2, -1,
		0, -1, 2,
	}) // eigenvalues 2-√2, 2, 2+√2
	op := probe.NewDense(m)
	r, err := probe.Lanczos(context.Background(), op, probe.Host{}, probe.LanczosSettings{TopK: 1, BottomK: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("λmax = %.6f, λmin = %.6f after %d steps\n", r.Top[0], r.Bottom[0], r.Steps)
	fmt.Printf("largest stable GD step: %.6f\n", probe.EdgeOfStability(r.Top[0]))
	// Output:
	// λmax = 3.414214, λmin = 0.585786 after 3 steps
	// largest stable GD step: 0.585786
}

func ExamplePowerIteration() {
	m := mat.NewSymDense(3, []float64{
		2, -1, 0,
		-1, 2, -1,
		0, -1, 2,
	}) // eigenvalues 2-√2, 2, 2+√2
	op := probe.NewDense(m)
	r, err := probe.PowerIteration(context.Background(), op, probe.Host{}, probe.PowerSettings[[]float64]{Tol: 1e-10})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Shifting by λmax makes the smallest eigenvalue dominant.
	b, err := probe.PowerIteration(context.Background(), op, probe.Host{}, probe.PowerSettings[[]float64]{Tol: 1e-10, Shift: r.Value})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("λmax = %.8f, λmin = %.8f\n", r.Value, b.Value)
	// Output:
	// λmax = 3.41421356, λmin = 0.58578644
}

func ExampleSLQ() {
	// A diagonal matrix, for which a Rademacher probe is exact.
	op := probe.NewDense(mat.NewSymDense(4, []float64{
		-1, 0, 0, 0,
		0, 2, 0, 0,
		0, 0, 2, 0,
		0, 0, 0, 4,
	}))
	d, err := probe.SLQ(context.Background(), op, probe.Host{}, probe.SLQSettings{Probes: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("tr(H)/n = %.6f, negative mass %.2f\n", d.Moment(1), d.NegativeMass())
	// Output:
	// tr(H)/n = 1.750000, negative mass 0.25
}
