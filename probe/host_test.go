package probe_test

import (
	"context"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// Values computed once from kernels.RademacherAt and kernels.NormalAt:
// Host must draw exactly these numbers, so probes agree across backends.
var known = []struct {
	seed, i    uint64
	rademacher float64
	normal     float64
}{
	{0, 0, -1, -0.2788749225862045},
	{0, 1, -1, -0.76422286201918144},
	{0, 2, 1, 0.41892564486752393},
	{0, 1000, -1, 0.23337568667564271},
	{42, 0, 1, 1.4061449625634999},
	{42, 3, 1, -0.17323071119476199},
	{42, 1000, -1, -0.64651798993808174},
	{9223372036854775815, 3, 1, 0.7239026007579944},
	{9223372036854775815, 1000, 1, 0.48594847221920506},
}

func TestHostRandomKnownValues(t *testing.T) {
	x := make([]float64, 1001)
	for _, c := range known {
		host.Rademacher(x, c.seed)
		if x[c.i] != c.rademacher {
			t.Errorf("Rademacher(seed %d)[%d] = %v, want %v", c.seed, c.i, x[c.i], c.rademacher)
		}
		host.Normal(x, c.seed)
		if x[c.i] != c.normal {
			t.Errorf("Normal(seed %d)[%d] = %.17g, want %.17g", c.seed, c.i, x[c.i], c.normal)
		}
	}
}

func TestHostRandomMatchesKernels(t *testing.T) {
	x := make([]float64, 257)
	for _, seed := range []uint64{0, 1, 7, 1 << 40, math.MaxUint64} {
		host.Rademacher(x, seed)
		for i, v := range x {
			if v != kernels.RademacherAt(seed, uint64(i)) {
				t.Fatalf("Rademacher seed %d index %d differs", seed, i)
			}
		}
		host.Normal(x, seed)
		for i, v := range x {
			if v != kernels.NormalAt(seed, uint64(i)) {
				t.Fatalf("Normal seed %d index %d differs", seed, i)
			}
		}
	}
}

func TestHostArithmetic(t *testing.T) {
	x := []float64{1, -2, 3}
	y := host.Alloc(3)
	host.Copy(y, x)
	host.Axpy(2, x, y) // y = 3x
	host.Scale(0.5, y) // y = 1.5x
	if y[1] != -3 || host.Dot(x, y) != 21 || math.Abs(host.Nrm2(x)-math.Sqrt(14)) > 1e-15 {
		t.Errorf("y = %v, x·y = %v, ‖x‖ = %v", y, host.Dot(x, y), host.Nrm2(x))
	}
	for name, f := range map[string]func(){
		"Copy": func() { host.Copy(y, x[:2]) },
		"Dot":  func() { host.Dot(y, x[:2]) },
		"Axpy": func() { host.Axpy(1, y, x[:2]) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic on length mismatch", name)
				}
			}()
			f()
		}()
	}
}

func TestDense(t *testing.T) {
	m := mat.NewSymDense(2, []float64{2, 1, 1, 3})
	op := probe.NewDense(m)
	dst := make([]float64, 2)
	if err := op.Apply(context.Background(), dst, []float64{1, -1}); err != nil || dst[0] != 1 || dst[1] != -2 || op.Dim() != 2 {
		t.Errorf("Apply: %v %v", dst, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := op.Apply(ctx, dst, []float64{1, -1}); err == nil {
		t.Error("Apply ignores a cancelled context")
	}
}
