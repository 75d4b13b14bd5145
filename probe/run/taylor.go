package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// Direction is a named direction in parameter space for Taylor. Vector has
// one entry per parameter (the flat layout of models.Spec.Blocks); it need
// not be normalised: Taylor divides it by its Euclidean norm.
type Direction struct {
	Name   string
	Vector []float64
}

// TaylorSettings configure Taylor. Zero values mean the defaults noted.
type TaylorSettings struct {
	// EpsMin and EpsMax bound the log-spaced grid of step lengths ε along
	// each unit direction; 0 means 1e-4 and 1.
	EpsMin, EpsMax float64
	// Points is the number of grid points; 0 means 25.
	Points int
	// Signed also steps by -ε for every grid point.
	Signed bool
	// Tol is the relative error of the quadratic model's loss change at
	// which it counts as broken down; 0 means 0.1 (10%).
	Tol float64
	// FitPoints is the number of smallest positive ε above the rounding
	// floor used to fit the exponent of the quadratic model's error; 0
	// means 4. Fewer than 3 such points give no fit.
	FitPoints int
}

// MaxTaylorPoints caps Points in Validate: each point costs one or two
// loss evaluations per direction over the whole data set, and a curve of
// this many steps is already far finer than the quadratic model's
// breakdown needs.
const MaxTaylorPoints = 10000

// Validate reports settings as a command gives them, every one set: a zero
// is refused rather than read as the default, and Points is capped at
// MaxTaylorPoints. Errors of one setting are *SettingError naming it as
// the command line spells it (eps-min, eps-max, tol, points); the order
// of EpsMin and EpsMax is a plain error naming both flags.
func (s TaylorSettings) Validate() error {
	if err := nonFinite(named{"eps-min", s.EpsMin}, named{"eps-max", s.EpsMax}, named{"tol", s.Tol}); err != nil {
		return err
	}
	switch {
	case !(s.EpsMin > 0) || !(s.EpsMax >= s.EpsMin):
		return fmt.Errorf("want 0 < --eps-min <= --eps-max, have %g and %g", s.EpsMin, s.EpsMax)
	case s.Points < 1 || s.Points > MaxTaylorPoints:
		return &SettingError{"points", fmt.Sprint(s.Points), fmt.Errorf("want 1 to %d", MaxTaylorPoints)}
	case !(s.Tol > 0):
		return &SettingError{"tol", fmt.Sprint(s.Tol), errors.New("want a positive relative error")}
	}
	return nil
}

// TaylorPoint is one step θ + εu of a Taylor scan. Loss changes are relative
// to the loss L at θ.
type TaylorPoint struct {
	Eps float64 `json:"eps"`
	// Loss is the measured L(θ+εu) and Delta = Loss - L.
	Loss  float64 `json:"loss"`
	Delta float64 `json:"delta"`
	// Linear is ε g·u; Quadratic is ε g·u + ε²/2 u·Hu.
	Linear    float64 `json:"linear"`
	Quadratic float64 `json:"quadratic"`
	// QuadErr is |Delta - Quadratic| and RelErr is QuadErr / max(|Delta|, Noise).
	QuadErr float64 `json:"quad_err"`
	RelErr  float64 `json:"rel_err"`
	// Noise is the rounding floor of Delta in the plan's precision,
	// 64·ε_mach·(|L| + |Loss| + Σ|g_i θ_i| + |Linear| + |Quadratic - Linear|)
	// (see roundingFactor); a QuadErr below it is rounding, not model error.
	Noise float64 `json:"noise"`
	// NonFinite marks a step whose loss was NaN or infinite; its other
	// fields (but Eps) are zero.
	NonFinite bool `json:"non_finite,omitempty"`
}

// TaylorDirection is the Taylor scan along one direction.
type TaylorDirection struct {
	Name string `json:"name"`
	// Norm is the norm of the direction as given; the scan uses u = v/Norm.
	Norm float64 `json:"norm"`
	// Slope is g·u and Curvature is u·Hu, by one exact Hessian-vector product.
	Slope     float64 `json:"slope"`
	Curvature float64 `json:"curvature"`
	// Points are the steps in increasing ε (negative ones first when Signed).
	Points []TaylorPoint `json:"points"`
	// Breakdown is the trust radius of the quadratic model: the smallest |ε|
	// in the grid whose RelErr exceeds Tol while its QuadErr is above the
	// rounding floor, or whose loss is not finite. It is 0 when the model
	// never breaks down in the grid (Broken is then false).
	Breakdown float64 `json:"breakdown"`
	Broken    bool    `json:"broken"`
	// CubicExponent is the least-squares slope of log QuadErr against log ε
	// over the CubicFitPoints smallest positive ε whose QuadErr is above the
	// rounding floor: about 3 for a smooth loss, whose quadratic model errs
	// by O(ε³). It is absent when fewer than 3 points qualify, as for an
	// exactly quadratic loss.
	CubicExponent  *float64 `json:"cubic_exponent,omitempty"`
	CubicFitPoints int      `json:"cubic_fit_points"`
}

// TaylorReport is the result of Taylor.
type TaylorReport struct {
	NParams  int     `json:"n_params"`
	Samples  int     `json:"n_samples"`
	Backend  string  `json:"backend"`
	DType    string  `json:"dtype"`
	Loss     float64 `json:"loss"`
	GradNorm float64 `json:"grad_norm"`
	// Tol is the breakdown tolerance used.
	Tol        float64           `json:"tol"`
	Directions []TaylorDirection `json:"directions"`

	HVPs        int     `json:"hvps"`
	Evaluations int     `json:"evaluations"`
	Seconds     float64 `json:"seconds"`
}

// roundingFactor scales the rounding floor of a measured loss change: the
// floor is roundingFactor·ε_mach·(|L| + |L(θ+εu)| + Σ|g_i θ_i| + |ε g·u| +
// ε²|u·Hu|/2). The first two terms are the rounding of the two losses (each
// a sum over samples, so a few ulps of the larger term), the third bounds
// the change of the loss caused by rounding θ+εu to the working precision
// (each parameter moves by up to ε_mach|θ_i|), the last two the rounding of
// g·u and u·Hu. The exactly quadratic single-layer MSE model in
// taylor_test.go errs by at most a few ε_mach·|L| in float64, so 64 leaves
// a margin without hiding the O(ε³) error of the test networks at ε ≥ 1e-4.
const roundingFactor = 64

func (s *TaylorSettings) defaults() error {
	if s.EpsMin == 0 {
		s.EpsMin = 1e-4
	}
	if s.EpsMax == 0 {
		s.EpsMax = 1
	}
	if s.Points == 0 {
		s.Points = 25
	}
	if s.Tol == 0 {
		s.Tol = 0.1
	}
	if s.FitPoints == 0 {
		s.FitPoints = 4
	}
	switch {
	case !(s.EpsMin > 0) || math.IsInf(s.EpsMin, 0) || !(s.EpsMax >= s.EpsMin) || math.IsInf(s.EpsMax, 0):
		return fmt.Errorf("taylor: want 0 < eps-min <= eps-max < inf, have %g and %g", s.EpsMin, s.EpsMax)
	case s.Points < 1:
		return fmt.Errorf("taylor: want at least 1 point, have %d", s.Points)
	case !(s.Tol > 0):
		return fmt.Errorf("taylor: want tol > 0, have %g", s.Tol)
	case s.FitPoints < 3:
		return fmt.Errorf("taylor: want at least 3 fit points, have %d", s.FitPoints)
	}
	return nil
}

// logGrid returns n values from lo to hi, equally spaced in log ε.
func logGrid(lo, hi float64, n int) []float64 {
	if n == 1 {
		return []float64{lo}
	}
	g := make([]float64, n)
	r := math.Log(hi / lo)
	for i := range g {
		g[i] = lo * math.Exp(r*float64(i)/float64(n-1))
	}
	g[n-1] = hi
	return g
}

// point is the plan's state at θ that Taylor and SaddleEscape measure from.
type point[T kernels.Float] struct {
	p      *models.Plan[T]
	d      *models.Data
	be     kernels.Backend[T]
	theta  kernels.Buffer // copy of θ
	g      kernels.Buffer // gradient at θ
	loss   float64
	acc    float64
	gnorm  float64
	gTheta float64 // Σ|g_i θ_i|
	evals  int
}

// newPoint records θ and computes the loss and gradient there.
func newPoint[T kernels.Float](ctx context.Context, p *models.Plan[T], d *models.Data) (*point[T], error) {
	be := p.Backend()
	n := p.NumParams()
	pt := &point[T]{p: p, d: d, be: be, theta: be.Alloc(n), g: be.Alloc(n)}
	be.Copy(pt.theta, p.Params())
	ev, err := p.Gradient(ctx, pt.g, d)
	if err != nil {
		pt.free()
		return nil, err
	}
	pt.loss, pt.acc, pt.gnorm = ev.Loss, ev.Accuracy, be.Nrm2(pt.g)
	th, g := models.Download(be, pt.theta), models.Download(be, pt.g)
	for i := range th {
		pt.gTheta += math.Abs(g[i] * th[i])
	}
	return pt, nil
}

// restore copies θ back into the plan's parameters.
func (pt *point[T]) restore() { pt.be.Copy(pt.p.Params(), pt.theta) }

func (pt *point[T]) free() {
	pt.restore()
	pt.be.Free(pt.theta)
	pt.be.Free(pt.g)
}

// lossAt returns L(θ + eps·u) with u a unit vector on the backend. A
// non-finite loss is reported as ok false, not as an error.
func (pt *point[T]) lossAt(ctx context.Context, eps float64, u kernels.Buffer) (loss float64, ok bool, err error) {
	par := pt.p.Params()
	pt.be.Copy(par, pt.theta)
	pt.be.Axpy(eps, u, par)
	pt.evals++
	ev, err := pt.p.Evaluate(ctx, pt.d)
	if errors.Is(err, models.ErrNonFinite) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return ev.Loss, true, nil
}

// noise is the rounding floor of L(θ+εu) - L (see roundingFactor).
func (pt *point[T]) noise(lossEps, lin, quadTerm float64) float64 {
	return roundingFactor * kernels.Eps[T]() * (math.Abs(pt.loss) + math.Abs(lossEps) + pt.gTheta + math.Abs(lin) + math.Abs(quadTerm))
}

// unit uploads v/‖v‖ and returns it with ‖v‖. A zero or non-finite vector is
// an error naming the direction; a length other than NumParams panics.
func (pt *point[T]) unit(name string, v []float64) (kernels.Buffer, float64, error) {
	n := pt.p.NumParams()
	if len(v) != n {
		panic(fmt.Sprintf("run: direction %q has %d entries for %d parameters", name, len(v), n))
	}
	var nrm float64
	for _, x := range v {
		nrm = math.Hypot(nrm, x)
	}
	if !(nrm > 0) || math.IsInf(nrm, 0) {
		return nil, 0, fmt.Errorf("taylor: direction %q has norm %g", name, nrm)
	}
	h := make([]T, n)
	for i, x := range v {
		h[i] = T(x / nrm)
	}
	u := pt.be.Alloc(n)
	pt.be.Upload(u, h)
	return u, nrm, nil
}

// Taylor checks the quadratic (second-order Taylor) model of the mean loss
// over d at the plan's current parameters θ along each direction: with L,
// gradient g and Hessian H at θ and u the normalised direction, it measures
// L(θ+εu) for every ε of a log-spaced grid and compares the change with the
// linear model ε g·u and the quadratic model ε g·u + ε²/2 u·Hu (u·Hu by
// one exact Hessian-vector product). The relative error of the quadratic
// model is |ΔL - q(ε)| / max(|ΔL|, noise), where noise (TaylorPoint.Noise)
// is a bound on the rounding error of ΔL; the smallest ε where it exceeds
// Tol is the model's trust radius (TaylorDirection.Breakdown). Near small ε the
// error of a smooth loss falls like ε³; TaylorDirection.CubicExponent is
// the fitted exponent.
//
// Steps are taken in the plan's precision: θ+εu is rounded to T, which the
// rounding floor accounts for. The parameters are restored to θ bit for bit
// before Taylor returns, also on error. On cancellation the error is
// ctx.Err().
func Taylor[T kernels.Float](ctx context.Context, p *models.Plan[T], d *models.Data, dirs []Direction, s TaylorSettings) (*TaylorReport, error) {
	if err := s.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	pt, err := newPoint(ctx, p, d)
	if err != nil {
		return nil, err
	}
	defer pt.free()
	be := pt.be
	rep := &TaylorReport{NParams: p.NumParams(), Samples: d.N, Backend: be.Name(), DType: kernels.DTypeName[T](),
		Loss: pt.loss, GradNorm: pt.gnorm, Tol: s.Tol, Directions: []TaylorDirection{}}

	grid := logGrid(s.EpsMin, s.EpsMax, s.Points)
	steps := grid
	if s.Signed {
		steps = make([]float64, 0, 2*len(grid))
		for i := len(grid) - 1; i >= 0; i-- {
			steps = append(steps, -grid[i])
		}
		steps = append(steps, grid...)
	}
	hu := be.Alloc(p.NumParams())
	defer be.Free(hu)
	for _, dir := range dirs {
		u, nrm, err := pt.unit(dir.Name, dir.Vector)
		if err != nil {
			return nil, err
		}
		td, err := taylorDirection(ctx, pt, u, hu, steps, s)
		be.Free(u)
		rep.HVPs++
		if err != nil {
			return nil, fmt.Errorf("taylor: direction %q: %w", dir.Name, err)
		}
		td.Name, td.Norm = dir.Name, nrm
		rep.Directions = append(rep.Directions, td)
	}
	rep.Evaluations = pt.evals
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func taylorDirection[T kernels.Float](ctx context.Context, pt *point[T], u, hu kernels.Buffer, steps []float64, s TaylorSettings) (TaylorDirection, error) {
	be := pt.be
	pt.restore()
	if err := pt.p.HVP(ctx, hu, u, pt.d); err != nil {
		return TaylorDirection{}, err
	}
	td := TaylorDirection{Slope: be.Dot(pt.g, u), Curvature: be.Dot(u, hu), Points: make([]TaylorPoint, 0, len(steps))}
	for _, eps := range steps {
		if err := ctx.Err(); err != nil {
			return td, err
		}
		l, ok, err := pt.lossAt(ctx, eps, u)
		if err != nil {
			return td, err
		}
		if !ok {
			td.Points = append(td.Points, TaylorPoint{Eps: eps, NonFinite: true})
			if a := math.Abs(eps); !td.Broken || a < td.Breakdown {
				td.Broken, td.Breakdown = true, a
			}
			continue
		}
		lin := eps * td.Slope
		q2 := eps * eps / 2 * td.Curvature
		tp := TaylorPoint{Eps: eps, Loss: l, Delta: l - pt.loss, Linear: lin, Quadratic: lin + q2}
		tp.Noise = pt.noise(l, lin, q2)
		tp.QuadErr = math.Abs(tp.Delta - tp.Quadratic)
		tp.RelErr = tp.QuadErr / math.Max(math.Abs(tp.Delta), tp.Noise)
		if tp.RelErr > s.Tol && tp.QuadErr > tp.Noise {
			if a := math.Abs(eps); !td.Broken || a < td.Breakdown {
				td.Broken, td.Breakdown = true, a
			}
		}
		td.Points = append(td.Points, tp)
	}
	pt.restore()
	td.CubicExponent, td.CubicFitPoints = fitExponent(td.Points, s.FitPoints)
	return td, nil
}

// fitExponent fits log QuadErr = a + k log ε by least squares over the at
// most m smallest positive ε whose QuadErr exceeds the rounding floor and
// returns k and the number of points used; k is nil with fewer than 3.
func fitExponent(pts []TaylorPoint, m int) (*float64, int) {
	var xs, ys []float64
	for _, tp := range pts {
		if tp.Eps > 0 && !tp.NonFinite && tp.QuadErr > tp.Noise && len(xs) < m {
			xs = append(xs, math.Log(tp.Eps))
			ys = append(ys, math.Log(tp.QuadErr))
		}
	}
	if len(xs) < 3 {
		return nil, len(xs)
	}
	k := slope(xs, ys)
	return &k, len(xs)
}

// slope returns the least-squares slope of y against x.
func slope(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(x))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	return sxy / sxx
}

// StandardDirections returns the usual directions of a Taylor scan at the
// plan's current parameters: "-grad", the negative gradient (left out when
// the gradient is exactly zero), and "top" and "bottom", the eigenvectors of
// the largest and smallest Hessian eigenvalues by Lanczos (run.Spectrum with
// TopK 1, BottomK 1 and Vectors; s supplies Tol, MaxSteps, Seed and
// Recorder, the rest of s is ignored). Eigenvectors have no sign of their
// own: each is oriented so that g·v <= 0, a descent direction. The spectrum
// report is returned too; when Lanczos did not converge the directions and
// report come with probe.ErrNotConverged.
func StandardDirections[T kernels.Float](ctx context.Context, p *models.Plan[T], d *models.Data, s SpectrumSettings) ([]Direction, *SpectrumReport, error) {
	be := p.Backend()
	g := be.Alloc(p.NumParams())
	_, err := p.Gradient(ctx, g, d)
	gh := models.Download(be, g)
	be.Free(g)
	if err != nil {
		return nil, nil, err
	}
	spec, err := Spectrum(ctx, p, d, SpectrumSettings{TopK: 1, BottomK: 1, Vectors: true, Exact: ExactNever,
		Tol: s.Tol, MaxSteps: s.MaxSteps, Seed: s.Seed, Recorder: s.Recorder})
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		return nil, nil, err
	}
	var dirs []Direction
	var gn float64
	for _, x := range gh {
		gn = math.Hypot(gn, x)
	}
	if gn > 0 {
		ng := make([]float64, len(gh))
		for i, x := range gh {
			ng[i] = -x / gn
		}
		dirs = append(dirs, Direction{Name: "-grad", Vector: ng})
	}
	if len(spec.TopVectors) > 0 {
		dirs = append(dirs, Direction{Name: "top", Vector: descent(spec.TopVectors[0], gh)})
	}
	if len(spec.BottomVectors) > 0 {
		dirs = append(dirs, Direction{Name: "bottom", Vector: descent(spec.BottomVectors[0], gh)})
	}
	return dirs, spec, err
}

// descent flips v in place when g·v > 0 and returns it.
func descent(v, g []float64) []float64 {
	var gv float64
	for i := range v {
		gv += g[i] * v[i]
	}
	if gv > 0 {
		for i := range v {
			v[i] = -v[i]
		}
	}
	return v
}

// SaddleSettings configure SaddleEscape. Zero values mean the defaults noted.
type SaddleSettings struct {
	// GradTol is the gradient tolerance of a near-critical point, relative
	// to the loss: the point counts as near-critical when
	// ‖g‖ <= GradTol·max(|L|, 1); 0 means 1e-3. Relative to the loss so
	// that rescaling the loss does not change the verdict (for losses of
	// order one it is an absolute 1e-3).
	GradTol float64
	// EpsMin, EpsMax and Points give the log-spaced grid of steps along
	// the escape direction; 0 means 1e-4, 1 and 9.
	EpsMin, EpsMax float64
	Points         int
	// EigTol counts λmin as zero when |λmin| <= EigTol·max(|λmin|, |λmax|)
	// (as probe.ClassifyTolerance); 0 means 1e-6.
	EigTol float64
	// Tol, MaxSteps, Seed and Recorder go to Lanczos (see SpectrumSettings).
	Tol      float64
	MaxSteps int
	Seed     uint64
	Recorder probe.Recorder
	// Fractions: the fractions of positive, negative and near-zero
	// eigenvalues (the ratio of positive eigenvalues of a critical point)
	// are counted exactly below ExactThreshold parameters and otherwise
	// estimated by SLQ with SLQProbes probes of SLQSteps steps (0: 10 and
	// 80) with their error bars; NoFractions leaves them out.
	SLQProbes, SLQSteps int
	NoFractions         bool
}

// SaddleStep compares the predicted and measured loss change of one step
// θ + εv along the escape direction v.
type SaddleStep struct {
	Eps float64 `json:"eps"`
	// Predicted is ε g·v + ε²λmin/2 and Measured is L(θ+εv) - L.
	Predicted float64 `json:"predicted"`
	Measured  float64 `json:"measured"`
	// RelErr is |Measured - Predicted| / max(|Measured|, rounding floor).
	RelErr float64 `json:"rel_err"`
	// Crossover marks the step ε× (see SaddleReport.Crossover).
	Crossover bool `json:"crossover,omitempty"`
	// NonFinite marks a step whose loss was NaN or infinite.
	NonFinite bool `json:"non_finite,omitempty"`
}

// SaddleReport is the result of SaddleEscape.
type SaddleReport struct {
	NParams  int     `json:"n_params"`
	Samples  int     `json:"n_samples"`
	Backend  string  `json:"backend"`
	DType    string  `json:"dtype"`
	Loss     float64 `json:"loss"`
	GradNorm float64 `json:"grad_norm"`
	// GradTol is the absolute gradient tolerance used,
	// SaddleSettings.GradTol·max(|L|, 1); NearCritical is GradNorm <= GradTol.
	GradTol      float64 `json:"grad_tol"`
	NearCritical bool    `json:"near_critical"`
	LambdaMin    float64 `json:"lambda_min"`
	LambdaMax    float64 `json:"lambda_max"`
	// LambdaMinResidual is ‖Hv - λmin v‖ of the bottom eigenvector.
	LambdaMinResidual float64 `json:"lambda_min_residual"`
	Converged         bool    `json:"converged"`
	// Saddle reports negative curvature: λmin below -EigTol·max(|λmin|, |λmax|).
	// When it is false there is no escape direction and no steps.
	Saddle bool `json:"saddle"`
	// Slope is g·v for the escape direction v (the unit bottom eigenvector
	// with the sign that makes g·v <= 0).
	Slope float64 `json:"slope"`
	// Crossover is ε× = 2|g·v|/|λmin|, the step at which the curvature
	// term ε²|λmin|/2 of the predicted decrease equals the gradient term
	// ε|g·v|: beyond it the escape is driven by curvature. With λmin < 0
	// the quadratic model has no minimiser along v, so this is the natural
	// step length; it is 0 (and not among the steps) when g·v = 0.
	Crossover float64      `json:"crossover"`
	Steps     []SaddleStep `json:"steps"`
	// Fractions are the fractions of eigenvalues above, below and within
	// ±ZeroTol (1e-3 of the spectral radius) with their error bars: exact
	// counts below ExactThreshold parameters, SLQ estimates above
	// (FractionsReport.Method). Absent with SaddleSettings.NoFractions.
	Fractions *FractionsReport `json:"fractions,omitempty"`
	// Direction is the escape direction v, a host copy.
	Direction []float64 `json:"-"`

	HVPs        int     `json:"hvps"`
	Evaluations int     `json:"evaluations"`
	Seconds     float64 `json:"seconds"`
}

// SaddleEscape checks the escape from a saddle at the plan's current
// parameters θ: it reports the gradient norm and whether it is below
// GradTol, the extreme Hessian eigenvalues, and, when λmin < 0, compares
// along the escape direction v (the bottom eigenvector, oriented so that
// g·v <= 0) the predicted loss change ε g·v + ε²λmin/2 with the measured
// L(θ+εv) - L for the crossover step ε× (SaddleReport.Crossover) and a
// log-spaced grid. When λmin >= 0 the report says the point is not a saddle
// and the error is nil. The parameters are restored bit for bit before
// SaddleEscape returns, also on error. When Lanczos did not converge the
// report comes with probe.ErrNotConverged.
func SaddleEscape[T kernels.Float](ctx context.Context, p *models.Plan[T], d *models.Data, s SaddleSettings) (*SaddleReport, error) {
	if s.GradTol == 0 {
		s.GradTol = 1e-3
	}
	if s.EigTol == 0 {
		s.EigTol = 1e-6
	}
	ts := TaylorSettings{EpsMin: s.EpsMin, EpsMax: s.EpsMax, Points: s.Points}
	if ts.Points == 0 {
		ts.Points = 9
	}
	if err := ts.defaults(); err != nil {
		return nil, fmt.Errorf("saddle: %w", err)
	}
	if !(s.GradTol > 0) || !(s.EigTol > 0) {
		return nil, fmt.Errorf("saddle: want grad-tol and eig-tol > 0, have %g and %g", s.GradTol, s.EigTol)
	}
	start := time.Now()
	pt, err := newPoint(ctx, p, d)
	if err != nil {
		return nil, err
	}
	defer pt.free()
	be := pt.be
	rep := &SaddleReport{NParams: p.NumParams(), Samples: d.N, Backend: be.Name(), DType: kernels.DTypeName[T](),
		Loss: pt.loss, GradNorm: pt.gnorm, Steps: []SaddleStep{}}
	rep.GradTol = s.GradTol * math.Max(math.Abs(pt.loss), 1)
	rep.NearCritical = rep.GradNorm <= rep.GradTol

	spec, err := Spectrum(ctx, p, d, SpectrumSettings{TopK: 1, BottomK: 1, Vectors: true, Exact: ExactNever,
		Tol: s.Tol, MaxSteps: s.MaxSteps, Seed: s.Seed, Recorder: s.Recorder})
	var notConverged error
	switch {
	case errors.Is(err, probe.ErrNotConverged):
		notConverged = err
	case err != nil:
		return nil, err
	}
	rep.HVPs = spec.HVPs
	rep.Converged = spec.Converged
	if len(spec.BottomEigenvalues) == 0 || len(spec.BottomVectors) == 0 {
		return nil, fmt.Errorf("saddle: Lanczos returned no bottom eigenpair")
	}
	rep.LambdaMin = spec.BottomEigenvalues[0]
	rep.LambdaMax = rep.LambdaMin
	if len(spec.TopEigenvalues) > 0 {
		rep.LambdaMax = spec.TopEigenvalues[0]
	}
	if len(spec.BottomResiduals) > 0 {
		rep.LambdaMinResidual = spec.BottomResiduals[0]
	}
	if !s.NoFractions {
		fr, err := Spectrum(ctx, p, d, SpectrumSettings{TopK: 1, Density: true, SLQProbes: s.SLQProbes, SLQSteps: s.SLQSteps,
			Seed: s.Seed, Recorder: s.Recorder})
		if err != nil && !errors.Is(err, probe.ErrNotConverged) {
			return nil, fmt.Errorf("saddle: fractions: %w", err)
		}
		rep.Fractions = fr.Density.Fractions
		rep.HVPs += fr.HVPs
	}
	zero := s.EigTol * math.Max(math.Abs(rep.LambdaMin), math.Abs(rep.LambdaMax))
	rep.Saddle = rep.LambdaMin < -zero
	if !rep.Saddle {
		rep.Seconds = time.Since(start).Seconds()
		return rep, notConverged
	}

	v, _, err := pt.unit("bottom", spec.BottomVectors[0])
	if err != nil {
		return nil, fmt.Errorf("saddle: %w", err)
	}
	defer be.Free(v)
	rep.Slope = be.Dot(pt.g, v)
	if rep.Slope > 0 {
		be.Scale(-1, v)
		rep.Slope = -rep.Slope
	}
	rep.Direction = models.Download(be, v)
	steps := logGrid(ts.EpsMin, ts.EpsMax, ts.Points)
	if rep.Slope != 0 {
		rep.Crossover = 2 * math.Abs(rep.Slope) / math.Abs(rep.LambdaMin)
		steps = append(steps, rep.Crossover)
		sort.Float64s(steps)
	}
	for _, eps := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		st := SaddleStep{Eps: eps, Crossover: eps == rep.Crossover}
		l, ok, err := pt.lossAt(ctx, eps, v)
		if err != nil {
			return nil, err
		}
		if !ok {
			st.NonFinite = true
			rep.Steps = append(rep.Steps, st)
			continue
		}
		lin := eps * rep.Slope
		q2 := eps * eps / 2 * rep.LambdaMin
		st.Predicted = lin + q2
		st.Measured = l - pt.loss
		st.RelErr = math.Abs(st.Measured-st.Predicted) / math.Max(math.Abs(st.Measured), pt.noise(l, lin, q2))
		rep.Steps = append(rep.Steps, st)
	}
	pt.restore()
	rep.Evaluations = pt.evals
	rep.Seconds = time.Since(start).Seconds()
	return rep, notConverged
}
