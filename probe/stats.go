package probe

import (
	"errors"
	"time"
)

// ErrNotConverged is returned, together with the partial result, by an
// estimator that reached its iteration limit before its convergence test
// was met.
var ErrNotConverged = errors.New("probe: not converged")

// ErrNonFinite is returned when the operator produced a NaN or an
// infinity, which no estimate survives.
var ErrNonFinite = errors.New("probe: operator produced a non-finite value")

// Stats counts the work an estimator did.
type Stats struct {
	// Applies is the number of operator applications (Hessian-vector
	// products), the dominant cost.
	Applies int
	// Iterations is the number of iterations: power steps, Lanczos steps
	// (summed over probes for SLQ), or probes for the trace estimators.
	Iterations int
	// Elapsed is the wall-clock time the estimator took.
	Elapsed time.Duration
}

// Progress is one report of an estimator's progress.
type Progress struct {
	// Stage names the estimator: "power", "lanczos", "slq", "hutchinson"
	// or "hutch++".
	Stage string
	// Iter is the current iteration (or probe) and Max its limit.
	Iter, Max int
	// Estimate is the current estimate: the eigenvalue for power
	// iteration, the extreme wanted Ritz value for Lanczos, the running
	// trace estimate for the trace estimators, the running estimate of
	// (1/n) tr(H) for SLQ.
	Estimate float64
	// Residual is the relative residual of Estimate for the eigenvalue
	// estimators, ‖Hv - λv‖/|λ| (power iteration) or its bound
	// |β_m y_m|/|θ| (Lanczos), and Tol the value it must fall to; both
	// are zero where the estimator has none.
	Residual, Tol float64
}

// Recorder receives progress reports. A nil Recorder in a settings struct
// means no reports. Record is called from the estimator's goroutine and
// should return quickly.
type Recorder interface {
	Record(Progress)
}

func record(r Recorder, stage string, iter, max int, estimate float64) {
	if r != nil {
		r.Record(Progress{Stage: stage, Iter: iter, Max: max, Estimate: estimate})
	}
}

// recordResidual reports an eigenvalue estimate with its relative
// residual and the tolerance it must meet.
func recordResidual(r Recorder, stage string, iter, max int, estimate, residual, tol float64) {
	if r != nil {
		r.Record(Progress{Stage: stage, Iter: iter, Max: max, Estimate: estimate, Residual: residual, Tol: tol})
	}
}

// subSeed returns the seed of probe (or stream) j of an estimator seeded
// with seed. It is a word of the counter-based stream itself, so the probes
// of different j are independent and the same on every Space.
func subSeed(seed uint64, j int) uint64 {
	return uint64At(seed, uint64(j))
}
