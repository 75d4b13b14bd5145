package run

import (
	"context"
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/models"
	"gonum.org/v1/gonum/mat"
)

// exactNet builds spec on the CPU backend in float64 with random nonzero
// parameters (weights N(0, 1.5²/fan_in), biases N(0, 0.3²)), n Gaussian
// inputs and random labels (cross-entropy) or Gaussian targets (MSE).
func exactNet(t *testing.T, spec models.Spec, n int, seed uint64) (*models.Plan[float64], *models.Data) {
	t.Helper()
	return randomNet[float64](t, spec, n, 1, seed, 11)
}

// randomNet builds spec on the CPU backend in T with parameters drawn from
// the PCG stream (seed, stream): weights N(0, (1.5 scale)²/fan_in), biases
// N(0, (0.3 scale)²), never zero; then n Gaussian inputs and random labels
// (cross-entropy) or Gaussian targets (MSE).
func randomNet[T kernels.Float](t *testing.T, spec models.Spec, n int, scale float64, seed, stream uint64) (*models.Plan[T], *models.Data) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, stream))
	p, err := models.Build(cpu.New[T](), spec, models.Settings{Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	var params []float64
	for _, b := range spec.Blocks() {
		sd := 1.5 * scale / math.Sqrt(float64(b.Rows))
		if b.Bias {
			sd = 0.3 * scale
		}
		for i := 0; i < b.Size(); i++ {
			params = append(params, sd*r.NormFloat64())
		}
	}
	if err := p.SetParams(params); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n*spec.Inputs())
	for i := range x {
		x[i] = r.NormFloat64()
	}
	var d *models.Data
	if spec.Loss == models.MSE {
		y := make([]float64, n*spec.Outputs())
		for i := range y {
			y[i] = r.NormFloat64()
		}
		d, err = p.NewData(x, n, nil, y)
	} else {
		labels := make([]int, n)
		for i := range labels {
			labels[i] = r.IntN(spec.Outputs())
		}
		d, err = p.NewData(x, n, labels, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// oracleEigenvalues assembles the matrix independently of exact mode, by
// one Apply per unit vector (no ApplyBatch), checks a few of its columns
// against central differences of the gradient (so that it is the Hessian),
// and returns its eigenvalues by gonum's general (nonsymmetric) eigensolver,
// Hessenberg QR rather than EigenSym's tridiagonal QL, ascending.
func oracleEigenvalues(t *testing.T, p *models.Plan[float64], d *models.Data, kind models.Curvature) []float64 {
	t.Helper()
	ctx := context.Background()
	be := p.Backend()
	n := p.NumParams()
	op := p.CurvatureOperator(d, kind)
	defer op.Close()
	e, hv := be.Alloc(n), be.Alloc(n)
	h := mat.NewDense(n, n, nil)
	for j := 0; j < n; j++ {
		be.Fill(e, 0)
		be.Fill(be.View(e, j, 1), 1)
		if err := op.Apply(ctx, hv, e); err != nil {
			t.Fatal(err)
		}
		h.SetCol(j, models.Download(be, hv))
	}
	if kind == models.Hessian {
		// Central differences of the gradient, step 1e-5: truncation
		// ~h²|∂³L| and rounding ~ε|g|/h ~ 1e-11, so 1e-6 of max|H| is ample.
		params := p.ParamsHost()
		g := be.Alloc(n)
		grad := func(at []float64) []float64 {
			if err := p.SetParams(at); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Gradient(ctx, g, d); err != nil {
				t.Fatal(err)
			}
			return models.Download(be, g)
		}
		scale := mat.Norm(h, math.Inf(1))
		for j := 0; j < n; j += max(1, n/7) {
			const step = 1e-5
			pp := append([]float64(nil), params...)
			pp[j] += step
			gp := grad(pp)
			pp[j] -= 2 * step
			gm := grad(pp)
			for i := range gp {
				if fd := (gp[i] - gm[i]) / (2 * step); math.Abs(fd-h.At(i, j)) > 1e-6*scale {
					t.Fatalf("H[%d,%d] = %.12g, central difference %.12g", i, j, h.At(i, j), fd)
				}
			}
		}
		if err := p.SetParams(params); err != nil {
			t.Fatal(err)
		}
	}
	var eig mat.Eigen
	if !eig.Factorize(h, mat.EigenNone) {
		t.Fatal("mat.Eigen failed")
	}
	var lam []float64
	for _, v := range eig.Values(nil) {
		lam = append(lam, real(v))
	}
	sort.Float64s(lam)
	return lam
}

// Exact mode equals the spectrum of the independently assembled dense
// matrix to 1e-10 relative (of max|λ|): extreme eigenvalues, trace,
// moments and the counted fractions, on tanh, relu and gelu networks with
// cross-entropy and MSE, Hessian and Gauss-Newton, a few hundred
// parameters; the automatic switch picks it (these are far below
// ExactThreshold) and the report says so.
func TestExactMatchesDense(t *testing.T) {
	// Under -short only the cases marked short run: each activation, each
	// loss, bias and none, Hessian and Gauss-Newton still appear, and the
	// exact path through Spectrum is the same for all of them.
	cases := []struct {
		spec  models.Spec
		kind  models.Curvature
		short bool
	}{
		{models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}, models.Hessian, true},
		{models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.ReLU, Loss: models.CrossEntropy, Bias: true}, models.Hessian, false},
		{models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Gelu, Loss: models.CrossEntropy, Bias: true}, models.Hessian, false},
		{models.Spec{Layers: []int{5, 16, 12, 3}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true}, models.Hessian, false},
		{models.Spec{Layers: []int{5, 16, 12, 3}, Activation: kernels.ReLU, Loss: models.MSE, Bias: false}, models.Hessian, true},
		{models.Spec{Layers: []int{5, 16, 12, 3}, Activation: kernels.Gelu, Loss: models.MSE, Bias: true}, models.Hessian, true},
		{models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}, models.GaussNewton, true},
	}
	for i, tc := range cases {
		if testing.Short() && !tc.short {
			continue
		}
		name := tc.spec.Arch() + "/" + models.ActivationName(tc.spec.Activation) + "/" + tc.spec.Loss.String() + "/" + tc.kind.String()
		t.Run(name, func(t *testing.T) {
			p, d := exactNet(t, tc.spec, 37, uint64(i+1))
			n := p.NumParams()
			want := oracleEigenvalues(t, p, d, tc.kind)
			rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 3, BottomK: 2, Trace: true, Density: true, Curvature: tc.kind})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Method != "exact" || rep.Exact == nil || !strings.Contains(rep.Exact.Method, "gonum EigenSym") {
				t.Fatalf("%d parameters: method %q, exact %+v; want the automatic exact mode", n, rep.Method, rep.Exact)
			}
			if rep.HVPs != n {
				t.Errorf("%d products, want n = %d", rep.HVPs, n)
			}
			scale := math.Max(math.Abs(want[0]), math.Abs(want[n-1]))
			const rel = 1e-10 // two eigensolvers on matrices equal to rounding: ~n·ε·‖H‖ ≈ 1e-13
			near := func(what string, got, w float64) {
				t.Helper()
				if math.Abs(got-w) > rel*scale {
					t.Errorf("%s = %.15g, dense oracle %.15g (|diff| %.3g, max|λ| %.3g)", what, got, w, math.Abs(got-w), scale)
				}
			}
			for k := 0; k < 3; k++ {
				near("top", rep.TopEigenvalues[k], want[n-1-k])
			}
			for k := 0; k < 2; k++ {
				near("bottom", rep.BottomEigenvalues[k], want[k])
			}
			var tr, m2 float64
			for _, v := range want {
				tr += v
				m2 += v * v
			}
			near("trace", rep.Trace.Value, tr)
			near("moment 1", rep.Density.Moments[0], tr/float64(n))
			if math.Abs(rep.Density.Moments[1]-m2/float64(n)) > rel*scale*scale {
				t.Errorf("moment 2 = %.15g, oracle %.15g", rep.Density.Moments[1], m2/float64(n))
			}
			if rep.Trace.StdErr != 0 || rep.Density.MomentStdErrs[0] != 0 {
				t.Errorf("standard errors %v %v, want 0", rep.Trace.StdErr, rep.Density.MomentStdErrs)
			}
			tol := 1e-3 * scale
			if math.Abs(rep.Density.ZeroTol-tol) > rel*tol {
				t.Errorf("zero_tol %g, want %g", rep.Density.ZeroTol, tol)
			}
			var pos, neg int
			for _, v := range want {
				switch {
				case v > tol:
					pos++
				case v < -tol:
					neg++
				}
			}
			if rep.Density.FractionPositive != float64(pos)/float64(n) || rep.Density.NegativeMass != float64(neg)/float64(n) ||
				rep.Density.NearZero != float64(n-pos-neg)/float64(n) {
				t.Errorf("fractions %v %v %v, want %d/%d %d/%d %d/%d", rep.Density.FractionPositive, rep.Density.NegativeMass, rep.Density.NearZero,
					pos, n, neg, n, n-pos-neg, n)
			}
			if tc.kind == models.GaussNewton && rep.Density.NegativeMass != 0 {
				t.Errorf("Gauss-Newton with negative mass %v", rep.Density.NegativeMass)
			}
			t.Logf("%d parameters: positive %d, negative %d, near zero %d; asymmetry %.2g", n, pos, neg, n-pos-neg, rep.Exact.Asymmetry)
		})
	}
}

// The automatic switch is exact below ExactThreshold and Lanczos at and
// above it; ExactAlways above the threshold is exact within the memory
// bound and refused, naming exact mode, above it; ExactNever is Lanczos.
func TestExactSwitch(t *testing.T) {
	ctx := context.Background()
	// 20x40x5 with biases: 1,045 parameters, above ExactThreshold.
	big := models.Spec{Layers: []int{20, 40, 5}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	small := models.Spec{Layers: []int{8, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	pb, db := exactNet(t, big, 12, 3)
	ps, ds := exactNet(t, small, 12, 4)
	if pb.NumParams() < ExactThreshold || ps.NumParams() >= ExactThreshold {
		t.Fatalf("sizes %d and %d do not straddle %d", pb.NumParams(), ps.NumParams(), ExactThreshold)
	}
	for _, tc := range []struct {
		name  string
		p     *models.Plan[float64]
		d     *models.Data
		mode  ExactMode
		exact bool
	}{
		{"small auto", ps, ds, ExactAuto, true},
		{"small never", ps, ds, ExactNever, false},
		{"big auto", pb, db, ExactAuto, false},
		{"big always", pb, db, ExactAlways, true},
	} {
		rep, err := Spectrum(ctx, tc.p, tc.d, SpectrumSettings{Exact: tc.mode, TopK: 1, BottomK: 1})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := rep.Method == "exact"; got != tc.exact || (rep.Exact != nil) != tc.exact {
			t.Errorf("%s (%d parameters): method %q, want exact %v", tc.name, tc.p.NumParams(), rep.Method, tc.exact)
		}
		if !tc.exact && rep.LanczosSteps == 0 {
			t.Errorf("%s: no Lanczos steps", tc.name)
		}
	}
	n := pb.NumParams()
	_, err := Spectrum(ctx, pb, db, SpectrumSettings{Exact: ExactAlways, MaxExactBytes: ExactBytes(n) - 1})
	if err == nil || !strings.Contains(err.Error(), "exact") || !strings.Contains(err.Error(), "1045 parameters") {
		t.Errorf("exact above the memory bound: error %v, want a refusal naming exact mode and the size", err)
	}
	// The automatic mode respects the bound too: Lanczos, no error.
	rep, err := Spectrum(ctx, ps, ds, SpectrumSettings{MaxExactBytes: ExactBytes(ps.NumParams()) - 1})
	if err != nil || rep.Method == "exact" {
		t.Errorf("auto above the memory bound: method %q, err %v; want Lanczos", rep.Method, err)
	}
}

// SLQ with too few steps for the near-zero band (40 on this 292-parameter
// Hessian, 7.5% of whose eigenvalues are within ±ZeroTol, the case of
// issue 14) warns, naming the steps that would resolve it (here capped at
// n); with those steps the warning is gone, as it is in exact mode. The
// near-zero fraction, 1 minus the others, is never printed as -0.
func TestZeroBandWarning(t *testing.T) {
	spec := models.Spec{Layers: []int{6, 14, 10, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, d := exactNet(t, spec, 37, 1)
	n := p.NumParams()
	ctx := context.Background()
	slq := func(steps int, mode ExactMode) *SpectrumReport {
		t.Helper()
		rep, err := Spectrum(ctx, p, d, SpectrumSettings{Density: true, SLQSteps: steps, SLQProbes: 4, Exact: mode})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	exact := slq(0, ExactAlways)
	if len(exact.Warnings) != 0 {
		t.Errorf("exact mode warns: %v", exact.Warnings)
	}
	rep := slq(40, ExactNever)
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "--slq-steps") {
		t.Fatalf("40 steps: warnings %q; exact near zero %v, SLQ %v", rep.Warnings, exact.Density.NearZero, rep.Density.NearZero)
	}
	m := regexp.MustCompile(`about (\d+) steps`).FindStringSubmatch(rep.Warnings[0])
	if m == nil {
		t.Fatalf("no step count in %q", rep.Warnings[0])
	}
	need, _ := strconv.Atoi(m[1])
	if need <= 40 || need > n {
		t.Fatalf("suggests %d steps, want 40 < steps <= %d", need, n)
	}
	if again := slq(need, ExactNever); len(again.Warnings) != 0 {
		t.Errorf("%d steps, as suggested: still %q", need, again.Warnings)
	}
	// Here the suggestion is capped at n, so the run above was the n-step
	// run: the same run again would only repeat it.
	if need != n {
		if full := slq(n, ExactNever); len(full.Warnings) != 0 {
			t.Errorf("%d steps = n: %q", n, full.Warnings)
		}
	}
	if nz := rep.Density.NearZero; nz < 0 || math.Signbit(nz) {
		t.Errorf("near zero %v", nz)
	}
	t.Logf("40 steps: %s; near zero exact %.4f, SLQ %.4f", rep.Warnings[0], exact.Density.NearZero, rep.Density.NearZero)
}
