package probe

import (
	"math"
	"strconv"
)

// EdgeOfStability returns 2/λmax, the largest step size for which gradient
// descent on the quadratic model with top Hessian eigenvalue lambdaMax is
// stable (Cohen et al. 2021). It returns +Inf when lambdaMax <= 0: no
// direction of positive curvature limits the step.
func EdgeOfStability(lambdaMax float64) float64 {
	if lambdaMax <= 0 {
		return math.Inf(1)
	}
	return 2 / lambdaMax
}

// ConditionNumber returns |max|/|min|, the condition number of a Hessian
// with extreme eigenvalues max and min in magnitude; +Inf when min is zero.
func ConditionNumber(max, min float64) float64 {
	if min == 0 {
		return math.Inf(1)
	}
	return math.Abs(max) / math.Abs(min)
}

// CriticalPoint is the kind of point of a loss surface judged from the
// gradient norm and the extreme Hessian eigenvalues.
type CriticalPoint int

// The kinds of points Classify distinguishes.
const (
	// NotCritical: the gradient is not small.
	NotCritical CriticalPoint = iota
	// Minimum: all eigenvalues positive.
	Minimum
	// Maximum: all eigenvalues negative.
	Maximum
	// Saddle: eigenvalues of both signs.
	Saddle
	// Degenerate: an extreme eigenvalue is zero within tolerance and the
	// other does not decide (e.g. a positive semidefinite Hessian with
	// flat directions), so second order information is inconclusive.
	Degenerate
)

var criticalPointNames = [...]string{
	NotCritical: "not critical",
	Minimum:     "minimum",
	Maximum:     "maximum",
	Saddle:      "saddle",
	Degenerate:  "degenerate",
}

// String returns the name of the kind of point: "minimum", "maximum",
// "saddle", "degenerate" or "not critical".
func (c CriticalPoint) String() string {
	if c < 0 || int(c) >= len(criticalPointNames) {
		return "CriticalPoint(" + strconv.Itoa(int(c)) + ")"
	}
	return criticalPointNames[c]
}

// ClassifyTolerance sets the tolerances of Classify. The zero value is
// usable.
type ClassifyTolerance struct {
	// EigTol is the relative tolerance for a zero eigenvalue: λ counts
	// as zero when |λ| <= EigTol * max(|λmin|, |λmax|). Zero means 1e-6,
	// about the relative accuracy of Hessian eigenvalues computed in
	// float32 through Lanczos.
	EigTol float64
	// GradTol is the absolute tolerance for a critical point: the point
	// is critical when gradNorm <= GradTol. Zero means 1e-6. Pass a tiny
	// positive value to demand an (almost) exactly zero gradient.
	GradTol float64
}

// Classify returns the kind of point with extreme Hessian eigenvalues
// lambdaMin <= lambdaMax and gradient norm gradNorm: NotCritical if
// gradNorm > GradTol; otherwise, with eigenvalues within EigTol of zero
// counted as zero, Minimum if lambdaMin > 0, Maximum if lambdaMax < 0,
// Saddle if lambdaMin < 0 < lambdaMax, and Degenerate otherwise (including
// a zero Hessian). It panics if lambdaMin > lambdaMax or an input is NaN.
func Classify(lambdaMin, lambdaMax, gradNorm float64, tol ClassifyTolerance) CriticalPoint {
	if math.IsNaN(lambdaMin) || math.IsNaN(lambdaMax) || math.IsNaN(gradNorm) {
		panic("probe: NaN passed to Classify")
	}
	if lambdaMin > lambdaMax {
		panic("probe: Classify needs lambdaMin <= lambdaMax")
	}
	if tol.EigTol < 0 || tol.GradTol < 0 {
		panic("probe: negative ClassifyTolerance")
	}
	eigTol, gradTol := tol.EigTol, tol.GradTol
	if eigTol == 0 {
		eigTol = 1e-6
	}
	if gradTol == 0 {
		gradTol = 1e-6
	}
	if gradNorm > gradTol {
		return NotCritical
	}
	zero := eigTol * math.Max(math.Abs(lambdaMin), math.Abs(lambdaMax))
	switch {
	case lambdaMin > zero:
		return Minimum
	case lambdaMax < -zero:
		return Maximum
	case lambdaMin < -zero && lambdaMax > zero:
		return Saddle
	default:
		return Degenerate
	}
}
