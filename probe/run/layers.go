package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// Per-layer curvature: the top eigenvalues of each layer's diagonal block
// of the Hessian (models.LayerOperator: W_l and b_l together), in the
// spectrum report and as a training probe.

// LayerReport is one layer's diagonal block H_ll in a SpectrumReport:
// the block of the Hessian (or GGN) whose rows and columns are the layer's
// parameters, W_l and b_l together (W_l alone without biases). By Cauchy's
// interlacing theorem its top eigenvalue is at most the whole matrix's.
type LayerReport struct {
	Layer int `json:"layer"`
	// Shape is W_l's [in, out]; the block also holds b_l's out entries
	// when Bias is set.
	Shape   []int `json:"shape"`
	Bias    bool  `json:"bias"`
	NParams int   `json:"n_params"`
	// TopEigenvalues are the block's largest eigenvalues, descending.
	TopEigenvalues []float64 `json:"top_eigenvalues"`
	// TopResiduals are Lanczos' residual bounds, raised to the report's
	// ResidualFloor as the whole matrix's are (0 for an exact block).
	TopResiduals []float64 `json:"top_residuals"`
	LanczosSteps int       `json:"lanczos_steps"`
	Converged    bool      `json:"converged"`
	// Method is "exact" when the eigenvalues are those of the assembled
	// block (SpectrumSettings.Exact applied to the block's size; residual
	// bounds 0), empty, and omitted, for Lanczos.
	Method string `json:"method,omitempty"`
	// HVPs counts the block's products, each cheaper than a whole one: the
	// tangent passes run from the layer up and back down to it only.
	HVPs int `json:"hvps"`
}

// layerSpectra returns the top min(s.TopK, block size) eigenvalues (at
// least one) of every layer's diagonal block of op, a network of spec:
// exact (the assembled block's full spectrum) where s.Exact says so for
// the block's size (UseExact), else by Lanczos with tolerance tol and at
// most s.MaxSteps steps (0: as for the whole matrix). It returns whether
// every Lanczos run converged, and the warnings the blocks call for.
func layerSpectra[T kernels.Float](ctx context.Context, spec models.Spec, op *models.Operator[T], be kernels.Backend[T], s SpectrumSettings, tol float64) (out []LayerReport, converged bool, warnings []string, err error) {
	elem := kernels.ElemSize[T]()
	converged = true
	for l := 0; l < spec.NumLayers(); l++ {
		lo := op.Layer(l)
		n := lo.Dim()
		k := min(max(s.TopK, 1), n)
		rep := LayerReport{Layer: l, Shape: []int{spec.Layers[l], spec.Layers[l+1]}, Bias: spec.Bias, NParams: n}
		exact, err := UseExact(s.Exact, n, s.MaxExactBytes)
		if err != nil {
			return nil, false, nil, fmt.Errorf("layer %d: %w", l, err)
		}
		if exact {
			a, _, err := assemble(ctx, lo, be)
			if err != nil {
				return nil, false, nil, fmt.Errorf("layer %d: exact: %w", l, err)
			}
			fs, err := probe.DenseSpectrum(a, false)
			if err != nil {
				return nil, false, nil, fmt.Errorf("layer %d: exact: %w", l, err)
			}
			for i := 0; i < k; i++ {
				rep.TopEigenvalues = append(rep.TopEigenvalues, fs.Values[n-1-i])
			}
			rep.TopResiduals = make([]float64, k)
			rep.Method, rep.Converged, rep.HVPs = "exact", true, lo.Applies
			out = append(out, rep)
			continue
		}
		steps := s.MaxSteps
		if steps == 0 {
			steps = min(n, 300, max(20, (2<<30)/(n*elem)))
			steps = max(steps, min(n, 2*k+10))
		}
		steps = min(n, max(steps, k))
		lz, err := probe.Lanczos[kernels.Buffer](ctx, lo, be, probe.LanczosSettings{TopK: k, MaxSteps: steps, Tol: tol, Seed: s.Seed, Recorder: s.Recorder})
		rep.Converged = true
		switch {
		case errors.Is(err, probe.ErrNotConverged):
			rep.Converged, converged = false, false
		case err != nil:
			return nil, false, nil, fmt.Errorf("layer %d: lanczos: %w", l, err)
		}
		rep.TopEigenvalues, rep.TopResiduals = nonNil(lz.Top), nonNil(lz.TopBounds)
		rep.LanczosSteps, rep.HVPs = lz.Steps, lo.Applies
		out = append(out, rep)
		if k > 1 && spec.Loss == models.MSE && l == spec.NumLayers()-1 && spec.Outputs() > 1 {
			warnings = append(warnings, fmt.Sprintf("layer %d's block is G ⊗ I_%d under mse (every output unit's weights see the same inputs and the loss's identity curvature): each of its eigenvalues has multiplicity %d, which Lanczos from one start vector finds only in part, so its top %d may list a value fewer times than it occurs; exact mode (--exact, automatic below %d parameters) counts them",
				l, spec.Outputs(), spec.Outputs(), k, ExactThreshold))
		}
	}
	return out, converged, warnings, nil
}

// layerSharpness probes each layer's sharpness, the largest algebraic
// eigenvalue of its diagonal Hessian block, as the whole sharpness is
// probed (probe.Sharpness with the run's power_tol and power_max_iter),
// warm started from the layer's part of t.eigL, into rec.
func (t *trainer[T]) layerSharpness(ctx context.Context, op *models.Operator[T], rec *Record) error {
	L := t.cfg.Model.NumLayers()
	rec.LayerLambdaMax = make([]float64, L)
	rec.LayerLambdaMaxConverged = make([]bool, L)
	rec.LayerLambdaMaxIters = make([]int, L)
	for l := 0; l < L; l++ {
		lo := op.Layer(l)
		has := t.hasEigL
		est, err := t.sharpness(ctx, lo, t.be.View(t.eigL, lo.Offset(), lo.Dim()), &has)
		if err != nil {
			return fmt.Errorf("layer %d: %w", l, err)
		}
		rec.LayerLambdaMax[l], rec.LayerLambdaMaxConverged[l], rec.LayerLambdaMaxIters[l] = est.value, est.converged, est.iters
	}
	t.hasEigL = true
	return nil
}
