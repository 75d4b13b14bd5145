package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// SpectrumSettings configure Spectrum. Zero values mean the defaults noted.
type SpectrumSettings struct {
	TopK    int // largest eigenvalues by Lanczos; 0 with BottomK 0 means 1
	BottomK int // smallest eigenvalues by Lanczos
	// Tol is Lanczos' residual tolerance (probe.LanczosSettings.Tol: the
	// residual bound of each wanted pair relative to max(|θ|, 1e-4 λmax));
	// 0 means 1e-8 in float64 and 1e-3 in float32. An eigenvalue's error
	// is at most its residual bound and typically bound²/gap, so these
	// give eigenvalues to near each precision's rounding level, while the
	// flat bulk near zero still converges (measured on a trained
	// 784x200x200x10 network: bottom-3 within 2e-9 of float64 in float32).
	Tol float64
	// MaxSteps caps the Krylov dimension; 0 means 300, limited to the
	// dimension and to 2 GiB of stored basis (at least 20 vectors).
	MaxSteps int
	Vectors  bool

	Trace       bool
	TraceProbes int // Hutchinson probes; 0 means 100
	// HutchPP estimates the trace by Hutch++ (Meyer et al. 2021) instead of
	// Hutchinson: far smaller error when a few eigenvalues dominate.
	HutchPP bool

	Density      bool
	SLQProbes    int     // 0 means 10
	SLQSteps     int     // 0 means 80
	SLQSigma     float64 // broadening; 0 means 1% of the spectral range
	DensityGrid  int     // grid points of the reported density; 0 means 200
	Curvature    models.Curvature
	Seed         uint64
	LearningRate float64 // if > 0, the report says whether GD at this step is stable
	Recorder     probe.Recorder

	// Exact chooses between the dense matrix's full spectrum and the
	// estimates (see ExactMode); the zero value is ExactAuto, exact below
	// ExactThreshold parameters. MaxExactBytes bounds the dense matrix,
	// n·n·8 bytes; 0 means DefaultMaxExactBytes.
	Exact         ExactMode
	MaxExactBytes int64

	// PerLayer adds each layer's diagonal block to the report
	// (SpectrumReport.PerLayer): its top min(TopK, block size) eigenvalues
	// (at least one), exact or by Lanczos as Exact decides for the
	// block's own size, with Tol and MaxSteps as for the whole matrix.
	PerLayer bool
}

// TraceReport is a Hutchinson trace estimate.
type TraceReport struct {
	Value  float64 `json:"value"`
	StdErr float64 `json:"stderr"`
	Probes int     `json:"probes"`
	Method string  `json:"method"`
}

// DensityReport is an SLQ spectral density estimate.
type DensityReport struct {
	Probes  int       `json:"probes"`
	Steps   int       `json:"steps"`
	Sigma   float64   `json:"sigma"`
	Grid    []float64 `json:"grid"`
	Density []float64 `json:"density"`
	// FractionPositive and NegativeMass are the estimated fractions of
	// eigenvalues above ZeroTol and below -ZeroTol, NearZero those within
	// ±ZeroTol (the values of Fractions, which gives their error bars).
	// ZeroTol is 1e-3 of the spectral radius estimated from the quadrature
	// nodes (exactly, in exact mode).
	FractionPositive  float64 `json:"fraction_positive"`
	NegativeMass      float64 `json:"negative_mass"`
	NearZero          float64 `json:"near_zero"`
	ZeroTol           float64 `json:"zero_tol"`
	NegativeMagnitude float64 `json:"negative_magnitude"`
	// Fractions holds the three fractions with their errors.
	Fractions *FractionsReport `json:"fractions,omitempty"`
	// Moments[k-1] estimates (1/n) tr(H^k), k = 1..4, with standard errors.
	Moments       []float64 `json:"moments"`
	MomentStdErrs []float64 `json:"moment_stderrs"`
	// Nodes and Weights are the quadrature rules per probe.
	Nodes   [][]float64 `json:"nodes"`
	Weights [][]float64 `json:"weights"`
}

// FractionReport is a fraction of the eigenvalues with its error bar (see
// probe.Fraction): Value, the sampling standard error StdErr across probes,
// the bound Bias of the quadrature's error at the band's edges, and the
// error bar Err = Bias + 3·StdErr, which holds the exact fraction. All
// three errors are 0 for exact counts, and StdErr and Err are not defined
// (null in JSON) for a single probe.
type FractionReport struct {
	Value  float64 `json:"value"`
	StdErr float64 `json:"stderr"`
	Bias   float64 `json:"bias"`
	Err    float64 `json:"err"`
}

// FractionsReport gives the fractions of eigenvalues above ZeroTol
// (Positive), below -ZeroTol (Negative) and within ±ZeroTol (NearZero),
// with their error bars, and what they were computed from.
type FractionsReport struct {
	Positive FractionReport `json:"positive"`
	Negative FractionReport `json:"negative"`
	NearZero FractionReport `json:"near_zero"`
	ZeroTol  float64        `json:"zero_tol"`
	// Method is "exact" (counts of the dense matrix's eigenvalues) or
	// "slq" (probe.Density.Fractions over Probes probes of Steps steps).
	Method string `json:"method"`
	Probes int    `json:"probes,omitempty"`
	Steps  int    `json:"steps,omitempty"`
	// Resolution is what the quadrature resolves at zero (the median
	// half-gap of the nodes around it, probe.Density.Resolution); when it
	// exceeds ZeroTol the band is not resolved, the biases are large and
	// Warning says how many steps would resolve it. 0 when exact.
	Resolution float64 `json:"resolution"`
	Warning    string  `json:"warning,omitempty"`
}

// slqFractions returns the fractions of dens within ±tol with their error
// bars, and the warning of zeroBandWarning (hint names the setting of the
// steps, for the warning).
func slqFractions(dens *probe.Density, tol float64, steps int, hint string) *FractionsReport {
	f := dens.Fractions(tol)
	conv := func(x probe.Fraction) FractionReport {
		return FractionReport{Value: x.Value, StdErr: x.StdErr, Bias: x.Bias, Err: x.Err()}
	}
	fr := &FractionsReport{Positive: conv(f.Positive), Negative: conv(f.Negative), NearZero: conv(f.NearZero),
		ZeroTol: tol, Method: "slq", Probes: dens.Probes(), Steps: steps, Resolution: f.Resolution}
	fr.Warning = zeroBandWarning(f, steps, dens.Dim, hint)
	return fr
}

// exactFractions returns the exact counts of fs within ±tol.
func exactFractions(fs *probe.FullSpectrum, tol float64) *FractionsReport {
	pos, neg, near := fs.Fractions(tol)
	return &FractionsReport{Positive: FractionReport{Value: pos}, Negative: FractionReport{Value: neg},
		NearZero: FractionReport{Value: near}, ZeroTol: tol, Method: "exact"}
}

// SpectrumReport is what `curvprobe spectrum` prints. Fields that were not
// computed are omitted from its JSON.
type SpectrumReport struct {
	NParams           int       `json:"n_params"`
	Samples           int       `json:"n_samples"`
	Curvature         string    `json:"curvature"`
	Backend           string    `json:"backend"`
	DType             string    `json:"dtype"`
	Loss              float64   `json:"loss"`
	Accuracy          *float64  `json:"accuracy,omitempty"`
	GradNorm          float64   `json:"grad_norm"`
	TopEigenvalues    []float64 `json:"top_eigenvalues"`
	BottomEigenvalues []float64 `json:"bottom_eigenvalues"`
	// TopResiduals and BottomResiduals are Lanczos' residual bounds (true
	// residuals ‖Hx - θx‖ with Vectors), raised to ResidualFloor: in exact
	// arithmetic the bounds keep falling (to 1e-18 in float32), but the
	// products themselves err by about ε‖H‖, so a smaller bound claims an
	// accuracy the precision does not have.
	TopResiduals    []float64 `json:"top_residuals,omitempty"`
	BottomResiduals []float64 `json:"bottom_residuals,omitempty"`
	// ResidualFloor is ε·max|λ| over the reported eigenvalues, with ε the
	// machine epsilon of DType (2^-23 for float32, 2^-52 for float64):
	// the smallest residual the report states.
	ResidualFloor float64 `json:"residual_floor"`
	LanczosSteps  int     `json:"lanczos_steps"`
	// LanczosBasis is "none" when Lanczos ran without a stored basis
	// (probe.StreamLanczos: a large model, at most one top and one bottom
	// eigenvalue, no eigenvectors, --max-steps not given); omitted when it
	// kept one, with full reorthogonalisation.
	LanczosBasis string `json:"lanczos_basis,omitempty"`
	Converged    bool   `json:"converged"`
	// Method is "exact" when the spectrum is that of the assembled dense
	// matrix (Exact says how); empty, and omitted, for the estimates.
	Method string       `json:"method,omitempty"`
	Exact  *ExactReport `json:"exact,omitempty"`

	Sharpness       float64  `json:"sharpness,omitempty"`
	EdgeOfStability *float64 `json:"max_stable_lr,omitempty"` // 2/λmax
	Condition       *float64 `json:"condition_number,omitempty"`
	CriticalPoint   string   `json:"critical_point,omitempty"`
	LearningRate    float64  `json:"lr,omitempty"`
	Stable          *bool    `json:"stable,omitempty"`

	Trace   *TraceReport   `json:"trace,omitempty"`
	Density *DensityReport `json:"density,omitempty"`

	HVPs    int     `json:"hvps"`
	Seconds float64 `json:"seconds"`

	// PerLayer holds each layer's diagonal block (SpectrumSettings.PerLayer),
	// layers in order; omitted otherwise. Its products count in HVPs.
	// Converged above is the whole matrix's; each block has its own.
	PerLayer []LayerReport `json:"per_layer,omitempty"`

	// Warnings says what the report cannot resolve, one sentence each
	// (see zeroBandWarning); omitted when empty.
	Warnings []string `json:"warnings,omitempty"`

	// TopVectors holds host copies of the top eigenvectors when asked for.
	TopVectors    [][]float64 `json:"-"`
	BottomVectors [][]float64 `json:"-"`
}

// Spectrum measures the curvature of the mean loss over d at the plan's
// current parameters: loss, accuracy, gradient norm, the TopK largest and
// BottomK smallest eigenvalues of the Hessian (or GGN) by Lanczos with full
// reorthogonalisation, and optionally the Hutchinson trace and the SLQ
// density, and with PerLayer the top eigenvalues of each layer's diagonal
// block. When Lanczos stops short of its tolerance the report is still
// returned, with the error probe.ErrNotConverged and Converged false (the
// whole matrix) or the block's converged false.
func Spectrum[T kernels.Float](ctx context.Context, p *models.Plan[T], d *models.Data, s SpectrumSettings) (*SpectrumReport, error) {
	start := time.Now()
	be := p.Backend()
	n := p.NumParams()
	rep := &SpectrumReport{NParams: n, Samples: d.N, Curvature: s.Curvature.String(), Backend: be.Name(), DType: kernels.DTypeName[T]()}
	// The operator's gradient keeps its forward passes for the products.
	op := p.CurvatureOperator(d, s.Curvature)
	defer op.Close()
	g := be.Alloc(n)
	ev, err := op.Gradient(ctx, g)
	if err != nil {
		be.Free(g)
		return nil, err
	}
	rep.GradNorm = be.Nrm2(g)
	be.Free(g)
	rep.Loss = ev.Loss
	if !math.IsNaN(ev.Accuracy) {
		acc := ev.Accuracy
		rep.Accuracy = &acc
	}

	s.TopK, s.BottomK = probe.LanczosSettings{TopK: s.TopK, BottomK: s.BottomK}.Wanted()
	exact, err := UseExact(s.Exact, n, s.MaxExactBytes)
	if err != nil {
		return nil, err
	}
	tol, elem := s.Tol, kernels.ElemSize[T]()
	if tol == 0 {
		tol = 1e-8
		if elem == 4 {
			tol = 1e-3
		}
	}
	if exact {
		hvps, err := exactSpectrum(ctx, op, be, s, rep)
		if err != nil {
			return nil, err
		}
		deriveMetrics(rep, s)
		notConverged := addLayers(ctx, p, op, s, tol, rep)
		if notConverged != nil && !errors.Is(notConverged, probe.ErrNotConverged) {
			return nil, notConverged
		}
		rep.HVPs += hvps
		rep.Seconds = time.Since(start).Seconds()
		return rep, notConverged
	}
	maxSteps := s.MaxSteps
	if maxSteps == 0 {
		maxSteps = min(n, 300, max(20, int(basisBudget/int64(n*elem))))
		maxSteps = max(maxSteps, min(n, 2*(s.TopK+s.BottomK)+10))
	}
	lzs := probe.LanczosSettings{
		TopK: min(s.TopK, n), BottomK: min(s.BottomK, n), MaxSteps: maxSteps, Tol: tol,
		Seed: s.Seed, Vectors: s.Vectors, Recorder: s.Recorder,
	}
	var lz *probe.LanczosResult[kernels.Buffer]
	if streamLanczos(s, n, elem) {
		// A stored basis would cap the steps below what a large model's
		// clustered top needs: Lanczos without one holds 3 vectors.
		lzs.MaxSteps = streamSteps
		rep.LanczosBasis = "none"
		lz, err = probe.StreamLanczos(ctx, op, be, lzs, nil)
	} else {
		lz, err = probe.Lanczos(ctx, op, be, lzs)
	}
	var notConverged error
	switch {
	case errors.Is(err, probe.ErrNotConverged):
		notConverged = err
	case err != nil:
		return nil, fmt.Errorf("lanczos: %w", err)
	}
	rep.Converged = notConverged == nil
	rep.TopEigenvalues, rep.BottomEigenvalues = nonNil(lz.Top), nonNil(lz.Bottom)
	rep.LanczosSteps = lz.Steps
	rep.TopResiduals, rep.BottomResiduals = lz.TopBounds, lz.BottomBounds
	if s.Vectors {
		rep.TopResiduals, rep.BottomResiduals = lz.TopResiduals, lz.BottomResiduals
		for _, v := range lz.TopVectors {
			rep.TopVectors = append(rep.TopVectors, models.Download(be, v))
			be.Free(v)
		}
		for _, v := range lz.BottomVectors {
			rep.BottomVectors = append(rep.BottomVectors, models.Download(be, v))
			be.Free(v)
		}
	}
	rep.ResidualFloor = residualFloor(elem, lz.Top, lz.Bottom)
	rep.TopResiduals = clampBelow(rep.TopResiduals, rep.ResidualFloor)
	rep.BottomResiduals = clampBelow(rep.BottomResiduals, rep.ResidualFloor)
	deriveMetrics(rep, s)
	hvps := lz.Stats.Applies
	if s.Trace {
		ts := probe.TraceSettings{Probes: s.TraceProbes, Seed: s.Seed + 1, Recorder: s.Recorder}
		estimate, method := probe.Hutchinson[kernels.Buffer], "Hutchinson"
		if s.HutchPP {
			estimate, method = probe.HutchPP[kernels.Buffer], "Hutch++"
			if ts.Probes == 0 {
				ts.Probes = 99
			}
		}
		tr, err := estimate(ctx, op, be, ts)
		if err != nil {
			return nil, fmt.Errorf("trace (%s): %w", method, err)
		}
		rep.Trace = &TraceReport{Value: tr.Value, StdErr: tr.StdErr, Probes: tr.Probes, Method: method}
		hvps += tr.Stats.Applies
	}
	if s.Density {
		dens, err := probe.SLQ[kernels.Buffer](ctx, op, be, probe.SLQSettings{Probes: s.SLQProbes, Steps: s.SLQSteps, Seed: s.Seed + 2, Recorder: s.Recorder})
		if err != nil {
			return nil, fmt.Errorf("density: %w", err)
		}
		rep.Density = densityReport(dens, s, "--slq-steps")
		hvps += dens.Stats.Applies
		if w := rep.Density.Fractions.Warning; w != "" {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	if err := addLayers(ctx, p, op, s, tol, rep); errors.Is(err, probe.ErrNotConverged) {
		notConverged = err
	} else if err != nil {
		return nil, err
	}
	rep.HVPs += hvps
	rep.Seconds = time.Since(start).Seconds()
	return rep, notConverged
}

// addLayers adds the per-layer blocks to rep when s asks for them, and
// their products to rep.HVPs. When a block's Lanczos did not converge it
// returns probe.ErrNotConverged, with the blocks in rep.
func addLayers[T kernels.Float](ctx context.Context, p *models.Plan[T], op *models.Operator[T], s SpectrumSettings, tol float64, rep *SpectrumReport) error {
	if !s.PerLayer {
		return nil
	}
	layers, converged, warnings, err := layerSpectra(ctx, p.Spec(), op, p.Backend(), s, tol)
	if err != nil {
		return err
	}
	rep.Warnings = append(rep.Warnings, warnings...)
	for i := range layers {
		if layers[i].Method == "" { // exact blocks' residuals are 0, as the whole's
			layers[i].TopResiduals = clampBelow(layers[i].TopResiduals, rep.ResidualFloor)
		}
		rep.HVPs += layers[i].HVPs
	}
	rep.PerLayer = layers
	if !converged {
		return probe.ErrNotConverged
	}
	return nil
}

// deriveMetrics sets the sharpness, the stable step, the condition number
// and the kind of critical point from the reported extreme eigenvalues.
func deriveMetrics(rep *SpectrumReport, s SpectrumSettings) {
	if len(rep.TopEigenvalues) > 0 {
		lmax := rep.TopEigenvalues[0]
		rep.Sharpness = lmax
		if lmax > 0 {
			eos := probe.EdgeOfStability(lmax)
			rep.EdgeOfStability = &eos
		}
		if s.LearningRate > 0 {
			rep.LearningRate = s.LearningRate
			stable := s.LearningRate*lmax < 2
			rep.Stable = &stable
		}
		if len(rep.BottomEigenvalues) > 0 {
			lmin := rep.BottomEigenvalues[0]
			c := probe.ConditionNumber(lmax, lmin)
			if !math.IsInf(c, 0) {
				rep.Condition = &c
			}
			rep.CriticalPoint = probe.Classify(min(lmin, lmax), lmax, rep.GradNorm, probe.ClassifyTolerance{}).String()
		}
	}
}

// densityGrid returns the broadening and the grid size of a density
// over the spectral range [lo, hi]: the settings', or 1% of the range and
// 200 points.
func (s SpectrumSettings) densityGrid(lo, hi float64) (sigma float64, npts int) {
	sigma, npts = s.SLQSigma, s.DensityGrid
	if sigma <= 0 {
		sigma = 0.01 * math.Max(hi-lo, 1e-12)
	}
	if npts < 2 {
		npts = 200
	}
	return sigma, npts
}

// densityReport reports dens; hint names the setting of the steps for the
// warning of an unresolved near-zero band.
func densityReport(dens *probe.Density, s SpectrumSettings, hint string) *DensityReport {
	lo, hi := dens.Range()
	sigma, npts := s.densityGrid(lo, hi)
	x, y := dens.Grid(npts, sigma)
	steps := s.SLQSteps
	if steps <= 0 {
		steps = 80 // probe.SLQ's default
	}
	dr := &DensityReport{Probes: dens.Probes(), Steps: min(steps, dens.Dim), Sigma: sigma, Grid: x, Density: y,
		NegativeMagnitude: dens.NegativeMagnitude()}
	dr.ZeroTol = 1e-3 * math.Max(math.Abs(lo), math.Abs(hi))
	dr.Fractions = slqFractions(dens, dr.ZeroTol, dr.Steps, hint)
	// The near-zero value is clamped at 0 and every value is +0 when
	// zero (probe.Density.Fractions), so that -0.0000 is never printed.
	dr.FractionPositive, dr.NegativeMass, dr.NearZero = dr.Fractions.Positive.Value, dr.Fractions.Negative.Value, dr.Fractions.NearZero.Value
	for k := 1; k <= 4; k++ {
		dr.Moments = append(dr.Moments, dens.Moment(k))
		dr.MomentStdErrs = append(dr.MomentStdErrs, dens.MomentStdErr(k))
	}
	for j := 0; j < dens.Probes(); j++ {
		dr.Nodes = append(dr.Nodes, dens.Nodes(j))
		dr.Weights = append(dr.Weights, dens.Weights(j))
	}
	return dr
}

// zeroBandWarning returns a warning when the near-zero band ±Tol is
// narrower than what the quadrature resolves, and "" otherwise. Each SLQ
// probe puts the mass of the eigenvalues near zero on its nodes nearest
// zero; when those nodes lie outside the band, that mass cannot be told
// inside from outside, and the fractions' biases (the mass within the
// resolution of the band's edges) are large: issue 14, 11% of a
// 2,225-parameter spectrum counted positive at 80 steps by the
// estimate before the bias bound. The resolution is the median over probes
// of the half-gap between the two nodes that bracket zero
// (probe.Density.Resolution). Node spacing shrinks about as 1/steps, so
// steps·resolution/Tol steps would resolve the band, at most the dimension
// (where the quadrature is exact); where eigenvalues cluster at zero the
// nodes gather there faster, so this is an upper estimate. hint names the
// setting of the steps.
func zeroBandWarning(f probe.Fractions, steps, dim int, hint string) string {
	if steps >= dim || !(f.Resolution > f.Tol) {
		return ""
	}
	need := min(dim, int(math.Ceil(float64(steps)*f.Resolution/f.Tol)))
	return fmt.Sprintf("the near-zero band ±%.2g is narrower than %d SLQ steps resolve (the nodes nearest zero are %.2g from it, median over probes): the fractions positive, negative and near zero carry biases of up to %.2g, %.2g and %.2g, included in their error bars; about %d steps (%s) would resolve it, or --exact below %d parameters",
		f.Tol, steps, f.Resolution, f.Positive.Bias, f.Negative.Bias, f.NearZero.Bias, need, hint, DefaultMaxExactN())
}

// residualFloor is the machine epsilon of a float of elem bytes times the
// largest magnitude among the eigenvalues: the accuracy limit of residuals
// computed from products in that precision.
func residualFloor(elem int, eigs ...[]float64) float64 {
	eps := kernels.EpsOf(elem)
	m := 0.0
	for _, v := range eigs {
		for _, x := range v {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				m = math.Max(m, math.Abs(x))
			}
		}
	}
	return eps * m
}

// clampBelow returns v with every value below floor raised to it (a new
// slice; v is not modified).
func clampBelow(v []float64, floor float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Max(x, floor)
	}
	return out
}

func nonNil(v []float64) []float64 {
	if v == nil {
		return []float64{}
	}
	return v
}

// basisBudget is the memory the default Krylov basis of Spectrum may take
// (--max-steps 0): 2 GiB, at least 20 vectors.
var basisBudget int64 = 2 << 30

// streamSteps caps the steps of Lanczos without a stored basis: its
// memory does not grow with them.
const streamSteps = 300

// streamLanczos reports whether Spectrum runs Lanczos without a stored
// basis: when at most one top and one bottom eigenvalue and no vectors are
// wanted, MaxSteps is automatic, and basisBudget holds fewer than 100
// vectors of the model's n parameters (above about 5.4M parameters in
// float32, 2.7M in float64), too few steps for a clustered top (the
// 103.6M-parameter MLP of bench lambda needs about 40), where a basis of
// 300 would not fit.
func streamLanczos(s SpectrumSettings, n, elem int) bool {
	return s.TopK <= 1 && s.BottomK <= 1 && !s.Vectors && s.MaxSteps == 0 && basisBudget/int64(n*elem) < 100
}
