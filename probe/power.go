package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// PowerSettings configures PowerIteration. The zero value is usable.
type PowerSettings[V any] struct {
	// Tol is the convergence tolerance on the relative residual:
	// iteration stops at the first iterate v (unit norm) with
	//	‖(H - Shift I) v - μ v‖ <= Tol * max(|μ + Shift|, |μ|),
	// where μ = v·(H - Shift I)v is the Rayleigh quotient of the shifted
	// operator. With Shift = 0 this is ‖Hv - λv‖ <= Tol |λ|. A residual r
	// bounds the eigenvalue error by r, and by r²/gap once the iteration
	// has settled, so Tol = 1e-6 typically gives λ to ~1e-10 relative.
	// Zero means 1e-6.
	Tol float64
	// MaxIter is the largest number of iterations (one operator
	// application each). Zero means 200.
	MaxIter int
	// Seed seeds the Rademacher start vector when Start is nil.
	Seed uint64
	// Start, if not nil, points to a warm start vector (for example the
	// eigenvector of the previous training step). It is copied, not
	// modified, and must not be zero.
	Start *V
	// Shift makes the iteration run on H - Shift*I; reported eigenvalues
	// are those of H. Power iteration finds the eigenvalue of largest
	// magnitude, so with Shift = λmax (from a first run) it converges to
	// λmin. Lanczos with BottomK is usually cheaper for λmin.
	Shift float64
	// Recorder, if not nil, receives a Progress per iteration.
	Recorder Recorder
	// Handover, if positive, stops the iteration early with ErrStalled
	// once the rate at which the relative residual fell over the last
	// stallWindow iterations predicts that more than Handover further
	// iterations would be needed to reach Tol (or that it does not fall
	// at all): the point where a Krylov method, which needs about the
	// square root of power iteration's iterations, should take over.
	// Zero means never: the iteration runs to MaxIter.
	Handover int
}

// ErrStalled is returned, wrapping ErrNotConverged, by a power iteration
// stopped early by PowerSettings.Handover.
var ErrStalled = fmt.Errorf("%w: power iteration stalled", ErrNotConverged)

// stallWindow is the number of iterations over which PowerIteration
// measures the rate at which its residual falls, and the first iteration
// it does so after. Power iteration's residual falls by |λ2/λ1| per step
// only asymptotically; with eigenvalues of both signs it zigzags with
// period 2; five steps see through both.
const stallWindow = 5

// startVector sets dst to the unit vector along *from, or along the
// Rademacher vector of (seed, 0) when from is nil. A zero *from is a
// programmer error.
func startVector[V any](sp Space[V], dst V, from *V, seed uint64) {
	if from != nil {
		sp.Copy(dst, *from)
	} else {
		sp.Rademacher(dst, subSeed(seed, 0))
	}
	nrm := sp.Nrm2(dst)
	if nrm == 0 {
		panic("probe: zero start vector")
	}
	sp.Scale(1/nrm, dst)
}

// PowerResult is the outcome of PowerIteration.
type PowerResult[V any] struct {
	// Value is the Rayleigh quotient v·Hv of Vector: the eigenvalue of H
	// of largest magnitude (of H - Shift I, shifted back).
	Value float64
	// Vector is the unit-norm eigenvector estimate, allocated with the
	// Space and owned by the caller.
	Vector V
	// Residual is ‖Hv - Value v‖, the absolute residual.
	Residual float64
	// Stats counts the work done.
	Stats Stats
}

// PowerIteration estimates the dominant eigenpair of op by power
// iteration, v <- (H - Shift I)v / ‖(H - Shift I)v‖. It converges at the
// rate |λ2/λ1| of the two largest eigenvalues in magnitude (of the shifted
// operator); when they are close, or equal and opposite, it may not
// converge within MaxIter and returns the last iterate with ErrNotConverged.
// On cancellation it returns the last iterate with ctx.Err(); before the
// first application, Value is NaN and Residual +Inf.
func PowerIteration[V any](ctx context.Context, op Operator[V], sp Space[V], s PowerSettings[V]) (*PowerResult[V], error) {
	start := time.Now()
	tol := s.Tol
	if tol < 0 || s.MaxIter < 0 {
		panic("probe: negative PowerSettings.Tol or MaxIter")
	}
	if tol == 0 {
		tol = 1e-6
	}
	maxIter := s.MaxIter
	if maxIter == 0 {
		maxIter = 200
	}
	n := op.Dim()
	v := sp.Alloc(n)
	startVector(sp, v, s.Start, s.Seed)
	w := sp.Alloc(n)
	r := sp.Alloc(n)
	defer sp.Free(w)
	defer sp.Free(r)

	res := &PowerResult[V]{Value: math.NaN(), Vector: v, Residual: math.Inf(1)}
	var hist [stallWindow + 1]float64 // relative residuals, by iteration mod stallWindow+1
	done := func(err error) (*PowerResult[V], error) {
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	for it := 1; ; it++ {
		if err := ctx.Err(); err != nil {
			return done(err)
		}
		if err := op.Apply(ctx, w, v); err != nil {
			return done(err)
		}
		res.Stats.Applies++
		res.Stats.Iterations++
		if s.Shift != 0 {
			sp.Axpy(-s.Shift, v, w)
		}
		mu := sp.Dot(v, w)
		sp.Copy(r, w)
		sp.Axpy(-mu, v, r)
		res.Value = mu + s.Shift
		res.Residual = sp.Nrm2(r)
		if math.IsNaN(res.Value) || math.IsInf(res.Value, 0) || math.IsNaN(res.Residual) {
			return done(ErrNonFinite)
		}
		rel := res.Residual / math.Max(math.Abs(res.Value), math.Abs(mu))
		recordResidual(s.Recorder, "power", it, maxIter, res.Value, rel, tol)
		if rel <= tol {
			return done(nil)
		}
		if it == maxIter {
			return done(ErrNotConverged)
		}
		hist[it%(stallWindow+1)] = rel
		if s.Handover > 0 && it > stallWindow {
			// Per-iteration rate over the window; the iterations still
			// needed at that rate.
			old := hist[(it-stallWindow)%(stallWindow+1)]
			rate := math.Log(rel/old) / stallWindow
			if rate >= 0 || math.Log(tol/rel)/rate > float64(s.Handover) {
				return done(ErrStalled)
			}
		}
		// v <- w/‖w‖. ‖w‖ > 0 here: w = 0 would give a zero residual.
		sp.Copy(v, w)
		sp.Scale(1/sp.Nrm2(w), v)
	}
}

// SharpnessSettings configures Sharpness. The zero value is usable.
type SharpnessSettings[V any] struct {
	// Tol is the convergence tolerance of every stage, as in
	// PowerSettings.Tol (and LanczosSettings.Tol for the Lanczos stage).
	// Zero means 1e-6.
	Tol float64
	// MaxIter bounds the iterations of each power-iteration stage; zero
	// means 200.
	MaxIter int
	// LanczosSteps bounds the Krylov dimension of the Lanczos stage; zero
	// means 80.
	LanczosSteps int
	// Seed seeds the random start vectors.
	Seed uint64
	// Start, if not nil, points to a warm start vector (the eigenvector
	// of the previous training step) for the power-iteration stages. It is
	// copied, not modified, and must not be zero.
	Start *V
	// Recorder, if not nil, receives the stages' progress.
	Recorder Recorder
	// Handover is PowerSettings.Handover for the power-iteration stages:
	// a stage whose residual falls too slowly to converge within Handover
	// more iterations hands over to Lanczos, started from its iterate.
	// Zero means never: a stage hands over only at MaxIter.
	Handover int
	// LanczosFirst skips the power-iteration stages: Lanczos for the top
	// eigenvalue straight away, started from Start (or a random vector),
	// and testing convergence at every step. Its first step is power
	// iteration's first step, with the same estimate and residual, and
	// every later one is at least as good (the Ritz value of a Krylov space
	// is the best estimate in it); it holds the basis, one vector per step.
	// On the edge-of-stability run of probe/run's TestEdgeOfStability it
	// took 9.6 products per probe where power iteration took 71.9 (11.1
	// with Handover 1).
	LanczosFirst bool
	// Stream makes the Lanczos stage StreamLanczos, which holds
	// StreamVectors vectors (and forms its Ritz vector by a second pass)
	// instead of a basis of up to LanczosSteps vectors: for operators
	// whose basis would not fit in memory.
	Stream bool
}

// SharpnessResult is the outcome of Sharpness.
type SharpnessResult[V any] struct {
	// Value is the estimate of the largest (algebraic) eigenvalue λmax.
	Value float64
	// Vector is the unit-norm eigenvector estimate, allocated with the
	// Space and owned by the caller.
	Vector V
	// Residual is ‖Hv - Value v‖ of Vector.
	Residual float64
	// Method names the stage that produced the estimate: "power",
	// "shifted power" or "lanczos".
	Method string
	// Shift is the shift of the "shifted power" stage (zero otherwise).
	Shift float64
	// Stats counts the work of all stages together.
	Stats Stats
}

// Sharpness estimates the largest algebraic eigenvalue λmax of op, the
// sharpness of a loss surface, and its eigenvector. Power iteration alone
// finds the eigenvalue of largest magnitude, which is λmin when the most
// negative curvature dominates (as it does on a diverging run), so
// Sharpness works in stages:
//
//  1. power iteration on H (warm started from Start when given); a
//     converged, non-negative eigenvalue is λmax;
//  2. if it converged to a negative eigenvalue μ, which is then λmin,
//     power iteration on H - μI, whose spectrum lies in [0, λmax - μ], so
//     that its dominant eigenvalue is λmax - μ (warm started from Start);
//     its estimate counts as converged when its residual is at most
//     Tol·max(|λ|, 1e-4|μ|), the test Lanczos applies (|μ| = ‖H‖);
//  3. if either stage did not converge, or stalled (its residual fell too
//     slowly to converge within Handover more iterations), or the shifted
//     one met an eigenvalue below μ, Lanczos for the top eigenvalue,
//     started from the last power iterate, which finds λmax whatever the
//     magnitudes (StreamLanczos when Stream is set).
//
// Every stage's estimate is the Rayleigh quotient of its vector, its
// residual the true ‖Hv - λv‖. When the last stage does not converge,
// Sharpness returns its estimate with ErrNotConverged: the value is then
// not λmax to any known accuracy (only some eigenvalue of H lies within
// Residual of it) and must be reported as unconverged. On cancellation or
// an operator error it returns the estimate so far with that error.
func Sharpness[V any](ctx context.Context, op Operator[V], sp Space[V], s SharpnessSettings[V]) (*SharpnessResult[V], error) {
	start := time.Now()
	if s.Tol < 0 || s.MaxIter < 0 || s.LanczosSteps < 0 {
		panic("probe: negative SharpnessSettings.Tol, MaxIter or LanczosSteps")
	}
	tol := s.Tol
	if tol == 0 {
		tol = 1e-6
	}
	res := &SharpnessResult[V]{Value: math.NaN(), Residual: math.Inf(1)}
	var stats Stats
	done := func(err error) (*SharpnessResult[V], error) {
		res.Stats = stats
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	take := func(r *PowerResult[V], method string, shift float64) {
		if method != "power" {
			sp.Free(res.Vector)
		}
		res.Value, res.Vector, res.Residual, res.Method, res.Shift = r.Value, r.Vector, r.Residual, method, shift
		stats.Applies += r.Stats.Applies
		stats.Iterations += r.Stats.Iterations
	}
	if s.Handover < 0 {
		panic("probe: negative SharpnessSettings.Handover")
	}
	if s.LanczosFirst {
		return sharpnessLanczos(ctx, op, sp, s, tol, s.Start, res, stats, start)
	}
	ps := PowerSettings[V]{Tol: tol, MaxIter: s.MaxIter, Seed: s.Seed, Start: s.Start, Recorder: s.Recorder, Handover: s.Handover}
	r, err := PowerIteration(ctx, op, sp, ps)
	take(r, "power", 0)
	switch {
	case err == nil && r.Value >= 0:
		return done(nil)
	case err == nil:
		// r.Value is the dominant eigenvalue and negative: λmin. Shifted by
		// it the operator is positive semidefinite up to the tolerance.
		mu := r.Value
		ps.Shift = mu
		// PowerIteration's test is relative to max(|λ|, |λ - μ|), which
		// may be far larger than |λmax|: the sharpness is converged when
		// its residual is within Tol of max(|λ|, floorRel |μ|), the same
		// test (and floor against ‖H‖ = |μ|) as Lanczos'. One rerun from
		// the vector so far with the tolerance tightened to match.
		good := func(r *PowerResult[V]) bool {
			return r.Residual <= tol*math.Max(math.Abs(r.Value), floorRel*math.Abs(mu))
		}
		var r2 *PowerResult[V]
		for pass := 0; pass < 2; pass++ {
			r2, err = PowerIteration(ctx, op, sp, ps)
			take(r2, "shifted power", mu)
			if err != nil && !errors.Is(err, ErrNotConverged) {
				return done(err)
			}
			// The top of H - μI is λmax - μ >= 0; a value below μ
			// (beyond the residual) means the shift was not below the
			// spectrum.
			if err != nil || r2.Value < mu-r2.Residual || good(r2) {
				break
			}
			want := tol * math.Max(math.Abs(r2.Value), floorRel*math.Abs(mu))
			ps.Tol = want / math.Max(math.Abs(r2.Value), math.Abs(r2.Value-mu))
			v := r2.Vector
			ps.Start = &v
		}
		if err == nil && r2.Value >= mu-r2.Residual && good(r2) {
			return done(nil)
		}
	case !errors.Is(err, ErrNotConverged):
		return done(err)
	}
	// Lanczos starts from the last power iterate when that was heading for
	// λmax (a non-negative estimate, or the shifted stage): it holds what
	// the warm start and the power steps found of the top eigenvectors.
	// An iterate heading for a dominant negative eigenvalue has lost its
	// component along λmax's eigenvector (by |λmax/λmin| per step), from
	// which Lanczos could not find λmax: then Lanczos starts from Start,
	// or a random vector.
	from := s.Start
	if res.Method == "shifted power" || res.Value >= 0 {
		from = &res.Vector
	}
	return sharpnessLanczos(ctx, op, sp, s, tol, from, res, stats, start)
}

// sharpnessLanczos is Sharpness's Lanczos stage, started from *from (a
// random vector when nil or zero); res and stats are the power stages' (a
// nil or zero-length Vector when there were none), replaced by the Lanczos
// estimate.
func sharpnessLanczos[V any](ctx context.Context, op Operator[V], sp Space[V], s SharpnessSettings[V], tol float64, from *V, res *SharpnessResult[V], stats Stats, start time.Time) (*SharpnessResult[V], error) {
	done := func(err error) (*SharpnessResult[V], error) {
		res.Stats = stats
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	ls := LanczosSettings{TopK: 1, MaxSteps: s.LanczosSteps, Tol: tol, Seed: subSeed(s.Seed, 1), Vectors: true, Recorder: s.Recorder, CheckEvery: 1}
	if from != nil && sp.Nrm2(*from) == 0 {
		from = nil
	}
	var lz *LanczosResult[V]
	var err error
	if s.Stream {
		if ls.MaxSteps == 0 {
			ls.MaxSteps = 80
		}
		lz, err = StreamLanczos(ctx, op, sp, ls, from)
	} else {
		lz, err = LanczosFrom(ctx, op, sp, ls, from)
	}
	stats.Applies += lz.Stats.Applies
	stats.Iterations += lz.Stats.Iterations
	if len(lz.TopVectors) == 0 {
		// Interrupted before a Ritz pair existed: keep the power estimate.
		if err == nil {
			panic("probe: Lanczos returned no Ritz vector")
		}
		return done(err)
	}
	if res.Method != "" {
		sp.Free(res.Vector)
	}
	res.Value, res.Vector, res.Method, res.Shift = lz.Top[0], lz.TopVectors[0], "lanczos", 0
	res.Residual = lz.TopBounds[0]
	if lz.TopResiduals != nil {
		res.Residual = lz.TopResiduals[0]
	}
	return done(err)
}
