package probe

import (
	"context"
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
	if s.Start != nil {
		sp.Copy(v, *s.Start)
	} else {
		sp.Rademacher(v, subSeed(s.Seed, 0))
	}
	nrm := sp.Nrm2(v)
	if nrm == 0 {
		panic("probe: zero start vector")
	}
	sp.Scale(1/nrm, v)
	w := sp.Alloc(n)
	r := sp.Alloc(n)
	defer sp.Free(w)
	defer sp.Free(r)

	res := &PowerResult[V]{Value: math.NaN(), Vector: v, Residual: math.Inf(1)}
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
		record(s.Recorder, "power", it, maxIter, res.Value)
		if res.Residual <= tol*math.Max(math.Abs(res.Value), math.Abs(mu)) {
			return done(nil)
		}
		if it == maxIter {
			return done(ErrNotConverged)
		}
		// v <- w/‖w‖. ‖w‖ > 0 here: w = 0 would give a zero residual.
		sp.Copy(v, w)
		sp.Scale(1/sp.Nrm2(w), v)
	}
}
