package models

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// Each optimizer's update equals its textbook recurrence evaluated on the host.
func TestOptimizerSteps(t *testing.T) {
	const n = 7
	g0 := []float64{0.5, -1.25, 2, 0.125, -0.75, 3, -2.5}
	p0 := []float64{1, 2, -3, 0.5, -0.25, 0.75, -1.5}
	for _, s := range []OptimizerSettings{
		{Kind: "gd", LR: 0.1},
		{Kind: "gd", LR: 0.1, WeightDecay: 0.01},
		{Kind: "sgd", LR: 0.1, Momentum: 0.9},
		{Kind: "nesterov", LR: 0.1, Momentum: 0.8},
		{Kind: "adam", LR: 0.01},
		{Kind: "adam", LR: 0.01, WeightDecay: 0.1, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6},
	} {
		be := cpu.New[float64]()
		o, err := NewOptimizer[float64](be, n, s)
		if err != nil {
			t.Fatal(err)
		}
		params, g := be.Alloc(n), be.Alloc(n)
		be.Upload(params, p0)
		want := append([]float64(nil), p0...)
		buf, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
		b1, b2, eps := s.adam()
		for step := 1; step <= 3; step++ {
			gs := make([]float64, n)
			for i := range gs {
				gs[i] = g0[i] * float64(step) // a changing gradient
			}
			be.Upload(g, gs)
			o.Step(params, g, s.LR)
			for i := range want {
				gi := gs[i]
				switch s.Kind {
				case "adam":
					m[i] = b1*m[i] + (1-b1)*gi
					v[i] = b2*v[i] + (1-b2)*gi*gi
					mh := m[i] / (1 - math.Pow(b1, float64(step)))
					vh := v[i] / (1 - math.Pow(b2, float64(step)))
					want[i] -= s.LR * (mh/(math.Sqrt(vh)+eps) + s.WeightDecay*want[i])
				default:
					gi += s.WeightDecay * want[i]
					buf[i] = s.Momentum*buf[i] + gi
					switch {
					case s.Kind == "nesterov":
						want[i] -= s.LR * (gi + s.Momentum*buf[i])
					case s.Momentum > 0:
						want[i] -= s.LR * buf[i]
					default:
						want[i] -= s.LR * gi
					}
				}
			}
		}
		got := Download(be, params)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-14*(1+math.Abs(want[i])) {
				t.Errorf("%+v: param %d = %.17g, want %.17g", s, i, got[i], want[i])
			}
		}
	}
}

func TestStabilityBounds(t *testing.T) {
	for _, c := range []struct {
		s    OptimizerSettings
		want float64
	}{
		{OptimizerSettings{Kind: "gd"}, 2 / 0.01},
		{OptimizerSettings{Kind: "sgd", Momentum: 0.9}, 3.8 / 0.01},
		{OptimizerSettings{Kind: "nesterov", Momentum: 0.9}, 3.8 / (2.8 * 0.01)},
		{OptimizerSettings{Kind: "adam"}, 3.8 / (0.1 * 0.01)},
	} {
		if got := c.s.StabilityBound(0.01); math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("%s: bound %v, want %v", c.s.Kind, got, c.want)
		}
	}
}

func TestSchedules(t *testing.T) {
	for _, c := range []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{}, 100, 0.1},
		{Schedule{Kind: "step", Every: 10, Gamma: 0.5}, 25, 0.025},
		{Schedule{Kind: "cosine", Total: 100, MinLR: 0.001}, 50, 0.001 + 0.5*0.099},
		{Schedule{Kind: "cosine", Total: 100}, 200, 0},
		{Schedule{Warmup: 10}, 4, 0.05},
		{Schedule{Kind: "step", Warmup: 10, Every: 5, Gamma: 0.1}, 15, 0.01},
	} {
		if got := c.s.LR(0.1, c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%+v at %d: %v, want %v", c.s, c.step, got, c.want)
		}
	}
	if err := (OptimizerSettings{Kind: "adamw", LR: 1}).Validate(); err == nil {
		t.Error("unknown optimizer accepted")
	}
	if err := (OptimizerSettings{Kind: "sgd", LR: 1, Schedule: Schedule{Kind: "step"}}).Validate(); err == nil {
		t.Error("step schedule without every accepted")
	}
}

// Every initialisation has the variance (or range) it promises, and
// biases are zero except for pytorch's.
func TestInitSchemes(t *testing.T) {
	for _, c := range []struct {
		init     string
		act      kernels.Activation
		variance func(in, out float64) float64 // of W; uniform: bound²/3
	}{
		{"", kernels.Tanh, func(in, _ float64) float64 { return 1 / in }},
		{"", kernels.ReLU, func(in, _ float64) float64 { return 2 / in }},
		{"lecun", kernels.ReLU, func(in, _ float64) float64 { return 1 / in }},
		{"he", kernels.Tanh, func(in, _ float64) float64 { return 2 / in }},
		{"xavier", kernels.Tanh, func(in, out float64) float64 { return 2 / (in + out) }},
		{"pytorch", kernels.Tanh, func(in, _ float64) float64 { return 1 / (3 * in) }},
	} {
		spec := Spec{Layers: []int{300, 200, 10}, Activation: c.act, Loss: MSE, Bias: true, Init: InitKind(c.init)}
		p, err := Build[float64](cpu.New[float64](), spec, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		p.Init(7)
		params := p.ParamsHost()
		for _, b := range spec.Blocks() {
			v := params[b.Offset : b.Offset+b.Size()]
			var ss float64
			for _, x := range v {
				ss += x * x
			}
			got := ss / float64(len(v))
			if b.Bias {
				if c.init != "pytorch" && got != 0 {
					t.Errorf("%s: bias %s not zero", c.init, b.Name)
				}
				if c.init == "pytorch" && got == 0 {
					t.Errorf("pytorch: bias %s is zero", b.Name)
				}
				continue
			}
			want := c.variance(float64(b.Rows), float64(b.Cols))
			// The sample variance of N = rows*cols draws has relative
			// standard error sqrt(2/N) (normal) or less (uniform): 5 of them.
			if se := math.Sqrt(2 / float64(len(v))); math.Abs(got/want-1) > 5*se {
				t.Errorf("init %q %s: variance %.4g, want %.4g", c.init, b.Name, got, want)
			}
		}
	}
	if err := (Spec{Layers: []int{3, 2}, Loss: MSE, Init: "orthogonal"}).Validate(); err == nil {
		t.Error("unknown init accepted")
	}
}

// Each optimizer takes only its own options: one that it would ignore (or,
// for gd with momentum, one that changes the update behind a 2/lr bound) is
// an error naming the option and the optimizer, and an out-of-range β names
// β, not the learning rate. The bound is the one of the update that runs.
func TestOptimizerOwnOptions(t *testing.T) {
	for _, c := range []struct {
		s    OptimizerSettings
		want []string
	}{
		{OptimizerSettings{Kind: "gd", LR: 0.02, Momentum: 0.9}, []string{"optimizer gd", "momentum 0.9", "sgd"}},
		{OptimizerSettings{Kind: "adam", LR: 0.02, Momentum: 0.9}, []string{"optimizer adam", "momentum 0.9", "beta1"}},
		{OptimizerSettings{Kind: "sgd", LR: 0.02, Beta1: 0.8}, []string{"optimizer sgd", "beta1 0.8", "only to adam"}},
		{OptimizerSettings{Kind: "gd", LR: 0.02, Beta2: 0.99}, []string{"optimizer gd", "beta2 0.99", "only to adam"}},
		{OptimizerSettings{Kind: "nesterov", LR: 0.02, Momentum: 0.5, Eps: 1e-6}, []string{"optimizer nesterov", "eps 1e-06", "only to adam"}},
		{OptimizerSettings{Kind: "adam", LR: 0.02, Beta1: 1}, []string{"beta1 1"}},
		{OptimizerSettings{Kind: "adam", LR: 0.02, Beta1: 1.5}, []string{"beta1 1.5"}},
		{OptimizerSettings{Kind: "adam", LR: 0.02, Beta1: -0.1}, []string{"beta1 -0.1"}},
		{OptimizerSettings{Kind: "adam", LR: 0.02, Beta2: 1}, []string{"beta2 1"}},
	} {
		err := c.s.Validate()
		if !errtest.Mentions(t, fmt.Sprintf("%+v", c.s), err, c.want...) {
			continue
		}
		if strings.Contains(err.Error(), "lr") {
			t.Errorf("%+v: error %q blames the learning rate", c.s, err)
		}
	}
	for _, c := range []struct {
		s    OptimizerSettings
		want float64
	}{
		{OptimizerSettings{Kind: "gd", LR: 0.02}, 100},
		{OptimizerSettings{Kind: "sgd", LR: 0.02}, 100},
		{OptimizerSettings{Kind: "sgd", LR: 0.02, Momentum: 0.9}, 190},
		{OptimizerSettings{Kind: "nesterov", LR: 0.02, Momentum: 0.5}, 3 / (2 * 0.02)},
		{OptimizerSettings{Kind: "adam", LR: 0.02}, 3.8 / (0.1 * 0.02)},
	} {
		if err := c.s.Validate(); err != nil {
			t.Errorf("%+v: %v", c.s, err)
		}
		if got := c.s.StabilityBound(c.s.LR); math.Abs(got-c.want) > 1e-9*c.want {
			t.Errorf("%+v: bound %v, want %v", c.s, got, c.want)
		}
	}
}
