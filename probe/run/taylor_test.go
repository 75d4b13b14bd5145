package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// taylorNet builds spec (an MSE network) on the CPU backend in float64
// with parameters N(0, (1.5 scale)²/fan_in) for weights and N(0, (0.3
// scale)²) for biases (never zero), n random Gaussian inputs and Gaussian
// targets.
func taylorNet(t *testing.T, spec models.Spec, n int, scale float64, seed uint64) (*models.Plan[float64], *models.Data) {
	t.Helper()
	return taylorNetOf[float64](t, spec, n, scale, seed)
}

func taylorNetOf[T kernels.Float](t *testing.T, spec models.Spec, n int, scale float64, seed uint64) (*models.Plan[T], *models.Data) {
	t.Helper()
	if spec.Loss != models.MSE {
		t.Fatalf("taylorNet: loss %s, want mse", spec.Loss)
	}
	return randomNet[T](t, spec, n, scale, seed, 7)
}

// standardDirections returns StandardDirections of p on d with spectrum
// seed seed, failing t on an error.
func standardDirections(t *testing.T, p *models.Plan[float64], d *models.Data, seed uint64) ([]Direction, *SpectrumReport) {
	t.Helper()
	dirs, sr, err := StandardDirections(context.Background(), p, d, SpectrumSettings{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return dirs, sr
}

func sameBits(t *testing.T, what string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("%s: parameter %d is %v, was %v", what, i, got[i], want[i])
		}
	}
}

// The quadratic model of a smooth loss errs by O(ε³): the fitted exponent
// of |ΔL - q(ε)| lies within 0.5 of 3 along the negative gradient and the
// extreme eigenvectors of a tanh MSE network. Slope and curvature must
// match the gradient and the eigenvalues Lanczos found.
func TestTaylorCubicError(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{4, 6, 5, 2}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	p, d := taylorNet(t, spec, 30, 1, 1)
	before := p.ParamsHost()
	dirs, sr := standardDirections(t, p, d, 3)
	if len(dirs) != 3 {
		t.Fatalf("%d standard directions, want 3", len(dirs))
	}
	rep, err := Taylor(ctx, p, d, dirs, TaylorSettings{Signed: true})
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "after Taylor", p.ParamsHost(), before)
	if rep.HVPs != 3 || rep.Evaluations != 3*50 {
		t.Errorf("%d HVPs and %d evaluations, want 3 and 150", rep.HVPs, rep.Evaluations)
	}
	// Lanczos converged to 1e-10: the Rayleigh quotients agree to about that.
	const eigTol = 1e-8
	for _, td := range rep.Directions {
		if td.CubicExponent == nil {
			t.Fatalf("%s: no exponent fitted (%d points above the rounding floor)", td.Name, td.CubicFitPoints)
		}
		k := *td.CubicExponent
		t.Logf("%-6s g·u %+.6f  u·Hu %+.6f  breakdown %.3g (broken %v)  exponent %.4f over %d points",
			td.Name, td.Slope, td.Curvature, td.Breakdown, td.Broken, k, td.CubicFitPoints)
		if k < 2.5 || k > 3.5 {
			t.Errorf("%s: quadratic model error ~ ε^%.3f, want ε^3", td.Name, k)
		}
		if td.Slope > 0 {
			t.Errorf("%s: g·u = %g > 0, want a descent orientation", td.Name, td.Slope)
		}
		switch td.Name {
		case "-grad":
			if math.Abs(-td.Slope-rep.GradNorm) > 1e-12*rep.GradNorm {
				t.Errorf("-grad: g·u = %g, want -|g| = %g", td.Slope, -rep.GradNorm)
			}
		case "top":
			if math.Abs(td.Curvature-sr.TopEigenvalues[0]) > eigTol*math.Abs(sr.TopEigenvalues[0]) {
				t.Errorf("top: u·Hu = %g, λmax = %g", td.Curvature, sr.TopEigenvalues[0])
			}
		case "bottom":
			if math.Abs(td.Curvature-sr.BottomEigenvalues[0]) > eigTol*math.Abs(sr.TopEigenvalues[0]) {
				t.Errorf("bottom: u·Hu = %g, λmin = %g", td.Curvature, sr.BottomEigenvalues[0])
			}
		}
		// At ε = 1e-4 the quadratic model is far within 10%.
		for _, tp := range td.Points {
			if math.Abs(tp.Eps) == 1e-4 && tp.RelErr > 1e-3 {
				t.Errorf("%s: ε %g: relative error %g", td.Name, tp.Eps, tp.RelErr)
			}
		}
	}
}

// A network without hidden layers and an MSE loss has an exactly quadratic
// loss: the quadratic model agrees with the measured change to rounding at
// every ε (1e-10 relative leaves a factor of about 1e5 over float64
// rounding of losses of order one against changes >= 1e-5), never breaks
// down, and has no error above the rounding floor to fit.
func TestTaylorExactQuadratic(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{5, 3}, Activation: kernels.Linear, Loss: models.MSE, Bias: true}
	p, d := taylorNet(t, spec, 40, 1, 2)
	before := p.ParamsHost()
	dirs, _ := standardDirections(t, p, d, 4)
	rep, err := Taylor(ctx, p, d, dirs, TaylorSettings{Signed: true, EpsMax: 10})
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "after Taylor", p.ParamsHost(), before)
	const relTol = 1e-10
	for _, td := range rep.Directions {
		worst, worstNoise := 0.0, 0.0
		for _, tp := range td.Points {
			worst = max(worst, tp.RelErr)
			worstNoise = max(worstNoise, tp.QuadErr/(math.Abs(rep.Loss)+math.Abs(tp.Loss))/0x1p-52)
			if tp.RelErr > relTol {
				t.Errorf("%s: ε %g: ΔL %g, quadratic %g: relative error %g", td.Name, tp.Eps, tp.Delta, tp.Quadratic, tp.RelErr)
			}
		}
		t.Logf("%-6s worst relative error %.3g; worst |ΔL-q| %.3g ulps of |L|+|L(θ+εu)|", td.Name, worst, worstNoise)
		if td.Broken || td.Breakdown != 0 {
			t.Errorf("%s: breakdown at ε %g in an exactly quadratic loss", td.Name, td.Breakdown)
		}
		if td.CubicExponent != nil {
			t.Errorf("%s: fitted an exponent %g to rounding", td.Name, *td.CubicExponent)
		}
	}
}

// The quadratic model of a tanh network breaks down at large steps: the
// breakdown ε is in the grid and the relative error below it is within Tol.
func TestTaylorBreakdown(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{4, 6, 5, 2}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	p, d := taylorNet(t, spec, 30, 1, 5)
	dirs, _ := standardDirections(t, p, d, 3)
	s := TaylorSettings{EpsMax: 100, Points: 31}
	rep, err := Taylor(ctx, p, d, dirs, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, td := range rep.Directions {
		if !td.Broken || !(td.Breakdown > 1e-4) || td.Breakdown > 100 {
			t.Errorf("%s: breakdown %g (broken %v), want one in (1e-4, 100]", td.Name, td.Breakdown, td.Broken)
		}
		t.Logf("%-6s breakdown at ε = %.4g", td.Name, td.Breakdown)
		for _, tp := range td.Points {
			if tp.Eps < td.Breakdown && tp.RelErr > 0.1 {
				t.Errorf("%s: ε %g below the breakdown %g has relative error %g", td.Name, tp.Eps, td.Breakdown, tp.RelErr)
			}
		}
	}
}

// In float32 the rounding floor keeps rounding from passing for model error:
// the breakdown radius is within a grid step of the float64 one.
func TestTaylorFloat32(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{4, 6, 5, 2}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	p64, d64 := taylorNet(t, spec, 30, 1, 5)
	dirs, _ := standardDirections(t, p64, d64, 3)
	s := TaylorSettings{Signed: true}
	want, err := Taylor(ctx, p64, d64, dirs, s)
	if err != nil {
		t.Fatal(err)
	}
	p32, d32 := taylorNetOf[float32](t, spec, 30, 1, 5)
	got, err := Taylor(ctx, p32, d32, dirs, s)
	if err != nil {
		t.Fatal(err)
	}
	step := math.Pow(1e4, 1.0/24) // ratio of neighbouring grid points
	for i, td := range got.Directions {
		w := want.Directions[i]
		k := "-"
		if td.CubicExponent != nil {
			k = fmt.Sprintf("%.3f over %d points", *td.CubicExponent, td.CubicFitPoints)
		}
		t.Logf("%-6s float32 breakdown %.4g, float64 %.4g; float32 exponent %s", td.Name, td.Breakdown, w.Breakdown, k)
		if td.Broken != w.Broken || td.Breakdown < w.Breakdown/step*(1-1e-9) || td.Breakdown > w.Breakdown*step*(1+1e-9) {
			t.Errorf("%s: float32 breakdown %g (broken %v), float64 %g (broken %v)", td.Name, td.Breakdown, td.Broken, w.Breakdown, w.Broken)
		}
	}
}

// cancelAfter is a context whose Err reports cancellation from its n-th call on.
type cancelAfter struct {
	context.Context
	n atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// Taylor and SaddleEscape restore the parameters bit for bit when they stop
// part way with an error.
func TestTaylorRestoresOnError(t *testing.T) {
	spec := models.Spec{Layers: []int{4, 6, 5, 2}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	p, d := taylorNet(t, spec, 30, 1, 6)
	before := p.ParamsHost()
	u := make([]float64, p.NumParams())
	for i := range u {
		u[i] = float64(i%7) - 3
	}
	for _, n := range []int64{3, 20, 40} {
		ctx := &cancelAfter{Context: context.Background()}
		ctx.n.Store(n)
		_, err := Taylor(ctx, p, d, []Direction{{Name: "u", Vector: u}}, TaylorSettings{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d checks: error %v, want context.Canceled", n, err)
		}
		sameBits(t, "after a cancelled Taylor", p.ParamsHost(), before)
		ctx.n.Store(n)
		_, err = SaddleEscape(ctx, p, d, SaddleSettings{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %d checks: SaddleEscape error %v, want context.Canceled", n, err)
		}
		sameBits(t, "after a cancelled SaddleEscape", p.ParamsHost(), before)
	}
	if _, err := Taylor(context.Background(), p, d, []Direction{{Name: "zero", Vector: make([]float64, len(u))}}, TaylorSettings{}); err == nil {
		t.Error("a zero direction is not an error")
	}
	sameBits(t, "after a zero direction", p.ParamsHost(), before)
	if _, err := Taylor(context.Background(), p, d, nil, TaylorSettings{EpsMin: 1, EpsMax: 0.5}); err == nil {
		t.Error("eps-min > eps-max is not an error")
	}
}

// W = 0 is a saddle of a deep linear network with an MSE loss: the Hessian
// there is [[0, -C], [-C^T, 0]]-shaped (C the input-target correlation), so
// λmin = -λmax < 0. Near it (weights of size 1e-4) the gradient is small,
// and the loss change along the escape direction matches ε g·v + ε²λmin/2:
// the neglected terms are O(ε³‖θ‖ + ε⁴), 1e-8 of the prediction at ε = 1e-4.
func TestSaddleEscape(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{3, 4, 2}, Activation: kernels.Linear, Loss: models.MSE, Bias: false}
	p, d := taylorNet(t, spec, 50, 1e-4, 8)
	before := p.ParamsHost()
	rep, err := SaddleEscape(ctx, p, d, SaddleSettings{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "after SaddleEscape", p.ParamsHost(), before)
	t.Logf("loss %.6g |g| %.3g (tol %.3g, near-critical %v) λmin %.6g λmax %.6g g·v %.3g crossover ε %.3g",
		rep.Loss, rep.GradNorm, rep.GradTol, rep.NearCritical, rep.LambdaMin, rep.LambdaMax, rep.Slope, rep.Crossover)
	if !rep.NearCritical || !rep.Saddle || !(rep.LambdaMin < 0) {
		t.Fatalf("near-critical %v, saddle %v, λmin %g: want a saddle", rep.NearCritical, rep.Saddle, rep.LambdaMin)
	}
	if rep.Slope > 0 || rep.Crossover <= 0 {
		t.Errorf("g·v %g, crossover %g", rep.Slope, rep.Crossover)
	}
	if len(rep.Steps) != 10 {
		t.Fatalf("%d steps, want 9 grid points and the crossover", len(rep.Steps))
	}
	crossovers := 0
	for _, st := range rep.Steps {
		t.Logf("ε %-10.4g predicted %+.6e measured %+.6e rel.err %.2e%s", st.Eps, st.Predicted, st.Measured, st.RelErr, map[bool]string{true: "  (crossover)"}[st.Crossover])
		if st.Crossover {
			crossovers++
		}
		if !(st.Measured < 0) {
			t.Errorf("ε %g: the loss rose by %g along the escape direction", st.Eps, st.Measured)
		}
	}
	if crossovers != 1 {
		t.Errorf("%d crossover steps, want 1", crossovers)
	}
	if first := rep.Steps[0]; first.RelErr > 0.01 {
		t.Errorf("ε %g: predicted %g, measured %g: relative error %g > 1%%", first.Eps, first.Predicted, first.Measured, first.RelErr)
	}
}

// At a random tanh point the Hessian may be indefinite, but the gradient is
// not small; a convex single-layer MSE model has λmin >= 0 and is reported
// as not a saddle, without an error.
func TestSaddleEscapeNotSaddle(t *testing.T) {
	ctx := context.Background()
	spec := models.Spec{Layers: []int{5, 3}, Activation: kernels.Linear, Loss: models.MSE, Bias: true}
	p, d := taylorNet(t, spec, 40, 1, 9)
	rep, err := SaddleEscape(ctx, p, d, SaddleSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Saddle || len(rep.Steps) != 0 || rep.LambdaMin < 0 && -rep.LambdaMin > 1e-6*rep.LambdaMax {
		t.Errorf("convex model: saddle %v, λmin %g, %d steps", rep.Saddle, rep.LambdaMin, len(rep.Steps))
	}
	if rep.NearCritical {
		t.Errorf("|g| = %g counted as near-critical at random parameters", rep.GradNorm)
	}

	spec = models.Spec{Layers: []int{4, 6, 5, 2}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}
	p, d = taylorNet(t, spec, 30, 1, 1)
	rep, err = SaddleEscape(ctx, p, d, SaddleSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.NearCritical {
		t.Errorf("tanh net: |g| = %g counted as near-critical", rep.GradNorm)
	}
}

func TestLogGrid(t *testing.T) {
	g := logGrid(1e-4, 1, 5)
	want := []float64{1e-4, 1e-3, 1e-2, 1e-1, 1}
	for i := range want {
		if math.Abs(g[i]-want[i]) > 1e-14*want[i] {
			t.Errorf("logGrid[%d] = %g, want %g", i, g[i], want[i])
		}
	}
	if g := logGrid(0.5, 2, 1); len(g) != 1 || g[0] != 0.5 {
		t.Errorf("one point: %v", g)
	}
	if k := slope([]float64{0, 1, 2}, []float64{1, 4, 7}); math.Abs(k-3) > 1e-15 {
		t.Errorf("slope = %g, want 3", k)
	}
}
