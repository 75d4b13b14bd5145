package run

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// The curvature probes of a training run: what a probe measures at the
// current parameters, and the sharpness estimate with its warm starts.

// probe measures the curvature at the current parameters into rec.
func (t *trainer[T]) probe(ctx context.Context, rec *Record, lr float64) error {
	cfg, p, be := t.cfg, t.p, t.be
	ev, err := p.Evaluate(ctx, t.trainData)
	if err != nil {
		return err
	}
	rec.TrainLoss = &ev.Loss
	if !math.IsNaN(ev.Accuracy) {
		rec.TrainAcc = &ev.Accuracy
	}
	if t.testData != nil {
		tv, err := p.Evaluate(ctx, t.testData)
		if err != nil {
			return err
		}
		rec.TestLoss = &tv.Loss
		if !math.IsNaN(tv.Accuracy) {
			rec.TestAcc = &tv.Accuracy
		}
	}
	if t.probeData != t.trainData {
		pv, err := p.Evaluate(ctx, t.probeData)
		if err != nil {
			return err
		}
		rec.ProbeLoss = &pv.Loss
	}
	op := p.CurvatureOperator(t.probeData, models.Hessian)
	defer op.Close()
	lmax, err := t.sharpness(ctx, op, t.eig, &t.hasEig)
	if err != nil {
		return err
	}
	rec.LambdaMax, rec.LambdaMaxResidual, rec.LambdaMaxIters, rec.LambdaMaxConverged = &lmax.value, &lmax.residual, &lmax.iters, &lmax.converged
	sharp := lmax
	if t.opt.Preconditioner(t.prec) {
		pre := &preconditioned[T]{op: op, d: t.prec, be: be, tmp: be.Alloc(p.NumParams())}
		pl, err := t.sharpness(ctx, pre, t.eigP, &t.hasEigP)
		be.Free(pre.tmp)
		if err != nil {
			return err
		}
		rec.PrecondLambdaMax, rec.PrecondLambdaMaxConverged = &pl.value, &pl.converged
		sharp = pl
	}
	// Adam's bound applies to the preconditioned sharpness, which does not
	// exist before its first step. An unconverged sharpness has no margin.
	if cfg.Optimizer.Kind != "adam" || rec.PrecondLambdaMax != nil {
		bound := cfg.Optimizer.StabilityBound(lr)
		rec.StabilityBound = &bound
		if sharp.converged {
			margin := bound - sharp.value
			rec.Margin = &margin
		}
	}
	if cfg.ProbePerLayer {
		if err := t.layerSharpness(ctx, op, rec); err != nil {
			return err
		}
	}
	if cfg.ProbeBottom || cfg.ProbeTopK > 0 {
		bk := 0
		if cfg.ProbeBottom {
			bk = 1
		}
		lz, err := probe.Lanczos[kernels.Buffer](ctx, op, be, probe.LanczosSettings{TopK: cfg.ProbeTopK, BottomK: bk, Tol: 1e-6, Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil && !errors.Is(err, probe.ErrNotConverged) {
			return fmt.Errorf("lanczos: %w", err)
		}
		if cfg.ProbeTopK > 0 {
			rec.TopK = lz.Top
		}
		if cfg.ProbeBottom && len(lz.Bottom) > 0 {
			rec.LambdaMin = &lz.Bottom[0]
		}
	}
	if cfg.ProbeTrace {
		tr, err := probe.Hutchinson[kernels.Buffer](ctx, op, be, probe.TraceSettings{Probes: cfg.TraceProbes, Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		rec.Trace, rec.TraceStdErr = &tr.Value, &tr.StdErr
	}
	if cfg.ProbeDensity {
		dens, err := probe.SLQ[kernels.Buffer](ctx, op, be, probe.SLQSettings{Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil {
			return fmt.Errorf("density: %w", err)
		}
		// Training has no setting of the steps: the warning names them.
		dr := densityReport(dens, SpectrumSettings{SLQSteps: 80}, "SLQ steps, as spectrum --slq-steps")
		name := filepath.Join("density", fmt.Sprintf("step_%06d.json", rec.Step))
		if err := os.MkdirAll(filepath.Join(t.dir, "density"), 0o755); err != nil {
			return err
		}
		b, err := MarshalJSON(dr, "")
		if err != nil {
			return fmt.Errorf("density at step %d: %w", rec.Step, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(t.dir, name), b); err != nil {
			return err
		}
		rec.DensityFile = name
		fr := dr.Fractions
		rec.FractionPositive, rec.NegativeMass, rec.NearZero, rec.ZeroTol = &fr.Positive.Value, &fr.Negative.Value, &fr.NearZero.Value, &fr.ZeroTol
		rec.FractionPositiveErr, rec.NegativeMassErr, rec.NearZeroErr = &fr.Positive.Err, &fr.Negative.Err, &fr.NearZero.Err
	}
	return nil
}

// sharpEstimate is one sharpness probe: the estimate of λmax, its residual
// ‖Hv - λv‖, the operator applications it took, and whether it converged.
type sharpEstimate struct {
	value, residual float64
	iters           int
	converged       bool
}

// sharpness estimates the largest algebraic eigenvalue of op
// (probe.Sharpness: power iteration, shifted when the dominant eigenvalue
// is negative, Lanczos when it does not converge), warm started from vec
// (when *has), which it updates. An estimate that did not converge is
// returned with converged false, for the log to flag.
func (t *trainer[T]) sharpness(ctx context.Context, op probe.Operator[kernels.Buffer], vec kernels.Buffer, has *bool) (sharpEstimate, error) {
	s := probe.SharpnessSettings[kernels.Buffer]{Tol: t.cfg.PowerTol, MaxIter: t.cfg.PowerMaxIter, Seed: t.cfg.Seed + 3}
	if s.Tol == 0 {
		s.Tol = 1e-5
	}
	if s.MaxIter > 0 {
		// A cap on the work of a probe caps the Lanczos fallback too.
		s.LanczosSteps = min(80, s.MaxIter)
	}
	if *has {
		s.Start = &vec
	}
	// The Lanczos stage keeps a basis of up to LanczosSteps vectors where
	// it fits, and streams it otherwise (probe.StreamLanczos).
	steps := s.LanczosSteps
	if steps == 0 {
		steps = 80
	}
	if _, err := models.CheckMemory(t.be, t.cfg.Model, models.Usage{Vectors: steps}); err != nil {
		s.Stream = true
	}
	switch t.cfg.SharpnessMethod {
	case "lanczos":
		s.LanczosFirst = true
	case "power-handover":
		s.Handover = sharpnessHandover
	case "":
		// Measured on TestEdgeOfStability's run (products per probe, the
		// same sharpness): with a stored basis Lanczos 9.6, power
		// handing over 11.8, power alone 70.2; streamed, power handing
		// over 15.7, Lanczos 17.2 (its Ritz vector costs a second pass).
		if s.Stream {
			s.Handover = sharpnessHandover
		} else {
			s.LanczosFirst = true
		}
	}
	r, err := probe.Sharpness[kernels.Buffer](ctx, op, t.be, s)
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		if r.Method != "" {
			t.be.Free(r.Vector)
		}
		return sharpEstimate{}, fmt.Errorf("sharpness (%s): %w", r.Method, err)
	}
	t.be.Copy(vec, r.Vector)
	t.be.Free(r.Vector)
	*has = true
	return sharpEstimate{value: r.Value, residual: r.Residual, iters: r.Stats.Iterations, converged: err == nil}, nil
}

// sharpnessHandover is probe.SharpnessSettings.Handover for the
// "power-handover" sharpness method: on TestEdgeOfStability's run,
// Handover 1, 5 and 10 took 11.1, 11.6 and 12.7 power and Lanczos steps per
// probe (20 and 40 took 15.8 and 18.8 with Lanczos testing every fifth step).
const sharpnessHandover = 1

// preconditioned applies P^-1/2 H P^-1/2 for a diagonal P^-1/2 = d; its
// eigenvalues are those of P^-1 H.
type preconditioned[T kernels.Float] struct {
	op  *models.Operator[T]
	d   kernels.Buffer
	be  kernels.Elementwise
	tmp kernels.Buffer
}

func (o *preconditioned[T]) Dim() int { return o.op.Dim() }

func (o *preconditioned[T]) Apply(ctx context.Context, dst, v kernels.Buffer) error {
	o.be.Mul(o.tmp, o.d, v)
	if err := o.op.Apply(ctx, dst, o.tmp); err != nil {
		return err
	}
	o.be.Mul(dst, o.d, dst)
	return nil
}
