package probe

import (
	"context"
	"errors"
	"math"
	"time"
)

// LanczosSettings configures Lanczos. The zero value asks for the largest
// eigenvalue with the default accuracy.
type LanczosSettings struct {
	// TopK and BottomK are the numbers of largest and smallest eigenpairs
	// wanted. Both zero means TopK = 1. Each must be at most the
	// operator's Dim.
	TopK, BottomK int
	// MaxSteps bounds the dimension of the Krylov space, which is also the
	// number of operator applications and the number of basis vectors
	// stored. Zero means max(80, 3*(TopK+BottomK)+20). It is capped at the
	// operator's Dim, where the Ritz values become exact.
	MaxSteps int
	// Tol is the convergence tolerance on the residual bound of each
	// wanted Ritz pair (θ_i, x_i): iteration stops when for all of them
	//	|β_m y_{m,i}| <= Tol * max(|θ_i|, 1e-4 max_j |θ_j|),
	// where β_m is the norm of the next Lanczos direction and y_{m,i} the
	// last component of the i-th eigenvector of T_m. The bound equals
	// ‖H x_i - θ_i x_i‖ in exact arithmetic, and bounds |θ_i - λ| for some
	// eigenvalue λ of H. The floor 1e-4 ‖T‖ makes eigenvalues near zero
	// converge to an absolute accuracy rather than an unattainable
	// relative one. Convergence is tested every CheckEvery steps, at the
	// last step and at invariant subspaces. Zero means 1e-10.
	Tol float64
	// Seed seeds the Rademacher start vector (and restart vectors after an
	// invariant subspace).
	Seed uint64
	// Vectors asks for Ritz vectors and their true residuals, at the
	// cost of one extra operator application per vector.
	Vectors bool
	// Recorder, if not nil, receives a Progress at every convergence test.
	Recorder Recorder
	// CheckEvery is the number of steps between convergence tests (each
	// an eigendecomposition of the m×m tridiagonal matrix with its
	// eigenvectors, O(m³)). Zero means automatic: a test at every step
	// while 25m² <= Dim, where it costs a fraction of the step's own full
	// reorthogonalisation (O(m·Dim); see checkDue), so that the iteration
	// stops at the first step whose Krylov space meets Tol and no product
	// is spent past it; every 5 steps beyond. StreamLanczos tests at every
	// step whatever it is.
	CheckEvery int
}

// Wanted returns how many of the largest and smallest eigenvalues s asks
// for: TopK and BottomK, or the largest alone when both are zero. Every
// estimate of extreme eigenvalues (probe/run's spectrum, the CLI's) takes
// its default from here.
func (s LanczosSettings) Wanted() (top, bottom int) {
	if s.TopK == 0 && s.BottomK == 0 {
		return 1, 0
	}
	return s.TopK, s.BottomK
}

// LanczosResult is the outcome of Lanczos.
type LanczosResult[V any] struct {
	// Top holds the largest Ritz values, descending, and Bottom the
	// smallest, ascending. When TopK+BottomK exceeds the Dim of the
	// operator the two overlap. A partial result (cancellation) may hold
	// fewer values than asked for.
	Top, Bottom []float64
	// TopVectors and BottomVectors hold the matching unit-norm Ritz
	// vectors when LanczosSettings.Vectors is set; they were allocated
	// with the Space and belong to the caller.
	TopVectors, BottomVectors []V
	// TopBounds and BottomBounds hold the residual bounds |β_m y_{m,i}|.
	TopBounds, BottomBounds []float64
	// TopResiduals and BottomResiduals hold the true residuals
	// ‖H x - θ x‖ of the Ritz vectors when Vectors is set (nil otherwise).
	// In floating point they level off at a few ε‖H‖ while the bounds keep
	// falling.
	TopResiduals, BottomResiduals []float64
	// Steps is the dimension of the final Krylov space.
	Steps int
	// Stats counts the work done.
	Stats Stats
}

// Lanczos computes extreme eigenpairs of op by the Lanczos iteration with
// full reorthogonalisation: every new direction is orthogonalised against
// all stored basis vectors by classical Gram-Schmidt, twice (Paige 1971;
// Parlett 1998), so no spurious copies ("ghosts") of converged Ritz values
// appear. It stores up to MaxSteps vectors of the Space and costs O(m²)
// Dot/Axpy calls for m steps besides the m operator applications.
//
// If a step finds an invariant subspace (the new direction vanishes), the
// Ritz values of the current Krylov space are exact eigenvalues; since a
// single Krylov space holds each eigenvalue only once, the iteration then
// continues from a fresh random vector orthogonal to the basis, so that
// multiplicities revealed this way (for example the null space of a
// low-rank operator) are counted. Multiple eigenvalues of a operator that
// has no small invariant subspace are resolved only through rounding and
// may be reported once.
//
// Lanczos returns ErrNotConverged with the Ritz pairs of the last Krylov
// space when MaxSteps is reached first, and ctx.Err() (or the Operator's
// error) with the Ritz pairs computed so far when it is interrupted.
func Lanczos[V any](ctx context.Context, op Operator[V], sp Space[V], s LanczosSettings) (*LanczosResult[V], error) {
	return LanczosFrom(ctx, op, sp, s, nil)
}

// LanczosFrom is Lanczos started from *from instead of a random vector
// when from is not nil: a warm start, such as the eigenvector of the
// previous training step or the iterate of a power iteration that stalled.
// *from is copied, not modified, and must not be zero.
func LanczosFrom[V any](ctx context.Context, op Operator[V], sp Space[V], s LanczosSettings, from *V) (*LanczosResult[V], error) {
	start := time.Now()
	n := op.Dim()
	topK, botK := s.TopK, s.BottomK
	switch {
	case topK < 0 || botK < 0:
		panic("probe: negative LanczosSettings.TopK or BottomK")
	case s.MaxSteps < 0 || s.Tol < 0:
		panic("probe: negative LanczosSettings.MaxSteps or Tol")
	case topK > n || botK > n:
		panic("probe: LanczosSettings.TopK or BottomK exceeds the operator's Dim")
	}
	topK, botK = s.Wanted()
	need := min(n, topK+botK)
	maxSteps := s.MaxSteps
	if maxSteps == 0 {
		maxSteps = max(80, 3*(topK+botK)+20)
	}
	if maxSteps < need {
		panic("probe: LanczosSettings.MaxSteps is less than TopK+BottomK")
	}
	maxSteps = min(maxSteps, n)
	tol := s.Tol
	if tol == 0 {
		tol = 1e-10
	}

	res := &LanczosResult[V]{}
	if n == 0 {
		res.Stats.Elapsed = time.Since(start)
		return res, nil
	}
	k := newKrylov(op, sp, maxSteps)
	defer k.free()
	v := sp.Alloc(n)
	defer sp.Free(v)
	restarts := 0
	if from != nil {
		sp.Copy(v, *from)
	} else {
		sp.Rademacher(v, subSeed(s.Seed, restarts))
	}
	if !k.push(v) {
		panic("probe: zero start vector") // a Rademacher vector is never zero
	}

	var theta, z []float64
	var err error
	for {
		if err = k.step(ctx); err != nil {
			break
		}
		m := len(k.q)
		brk := k.breakdown()
		last := m >= maxSteps
		if m >= need && (brk || last || checkDue(m, n, s.CheckEvery)) {
			theta, z = tridiagEigen(k.alpha, k.off)
			conv := lanczosConverged(theta, z, k.residual(), topK, botK, tol)
			est := theta[m-1]
			if topK == 0 {
				est = theta[0]
			}
			c := m - 1
			if topK == 0 {
				c = 0
			}
			rel := math.Abs(k.residual()*z[(m-1)*m+c]) / math.Abs(est)
			recordResidual(s.Recorder, "lanczos", m, maxSteps, est, rel, tol)
			// At an invariant subspace the bounds vanish, but more copies
			// of the wanted eigenvalues may lie outside it: go on.
			if conv && !brk {
				break
			}
			if last {
				if !conv {
					err = ErrNotConverged
				}
				break
			}
		}
		if last {
			// m < need cannot happen at the last step: need <= maxSteps.
			break
		}
		if brk {
			restarts++
			// A random vector has a component outside a basis of fewer
			// than n vectors; try a few seeds in case rounding eats it.
			ok := false
			for try := 0; try < 3 && !ok; try++ {
				sp.Rademacher(v, subSeed(s.Seed, restarts+1000*try))
				ok = k.push(v)
			}
			if !ok {
				break // the basis spans the space: the Ritz values are exact
			}
			continue
		}
		k.extend()
	}

	m := len(k.alpha)
	if m > 0 && (theta == nil || len(theta) != m) {
		theta, z = tridiagEigen(k.alpha, k.off)
	}
	res.Steps = m
	res.Stats = k.stats
	nt, nb := min(topK, m), min(botK, m)
	res.Top = make([]float64, nt)
	res.TopBounds = make([]float64, nt)
	res.Bottom = make([]float64, nb)
	res.BottomBounds = make([]float64, nb)
	beta := k.residual()
	for i := 0; i < nt; i++ {
		c := m - 1 - i
		res.Top[i] = theta[c]
		res.TopBounds[i] = math.Abs(beta * z[(m-1)*m+c])
	}
	for i := 0; i < nb; i++ {
		res.Bottom[i] = theta[i]
		res.BottomBounds[i] = math.Abs(beta * z[(m-1)*m+i])
	}
	if s.Vectors && m > 0 {
		// Ritz vectors are combinations of the basis and need no operator
		// application, so they are formed even for a partial result; their
		// true residuals are skipped once the context is done.
		withResid := ctx.Err() == nil && (err == nil || errors.Is(err, ErrNotConverged))
		res.TopVectors, res.TopResiduals = ritz(ctx, k, z, theta, topIndices(m, nt), withResid)
		res.BottomVectors, res.BottomResiduals = ritz(ctx, k, z, theta, bottomIndices(nb), withResid)
		res.Stats.Applies = k.stats.Applies
	}
	res.Stats.Elapsed = time.Since(start)
	return res, err
}

// residual is the norm β_m of the next Lanczos direction, zero at an
// invariant subspace.
func (k *krylov[V]) residual() float64 {
	if k.breakdown() {
		return 0
	}
	return k.resid
}

func lanczosConverged(theta, z []float64, beta float64, topK, botK int, tol float64) bool {
	m := len(theta)
	tiny := floorRel * math.Max(math.Abs(theta[0]), math.Abs(theta[m-1]))
	ok := func(c int) bool {
		return math.Abs(beta*z[(m-1)*m+c]) <= tol*math.Max(math.Abs(theta[c]), tiny)
	}
	for i := 0; i < min(topK, m); i++ {
		if !ok(m - 1 - i) {
			return false
		}
	}
	for i := 0; i < min(botK, m); i++ {
		if !ok(i) {
			return false
		}
	}
	return true
}

// checkDue reports whether Lanczos tests convergence after step m on an
// operator of dimension n, with LanczosSettings.CheckEvery every: every
// every steps when it is set; otherwise at every step while
// checkCost·m² <= n, and every defaultCheckEvery steps beyond.
func checkDue(m, n, every int) bool {
	if every > 0 {
		return m%every == 0
	}
	return checkCost*int64(m)*int64(m) <= int64(n) || m%defaultCheckEvery == 0
}

// checkCost is the factor that keeps a convergence test at every step
// cheap beside the step itself. Measured on the 2-core Zen 3 of
// bench/RESULTS.md: tridiagEigen (Dsteqr with eigenvectors) takes 56 µs at
// m = 25, 2.1 ms at 100, 41 ms at 200 and 121 ms at 300, 2-5 ns·m³; the
// step's reorthogonalisation (DotMany and AxpyMany over the m basis
// vectors) takes 1-2 ns per element of the m×n basis. With 25m² <= n a
// test costs at most about a fifth of the reorthogonalisation (less than
// a tenth below m = 100), and less again beside the product; m ≤ 89 on
// the 199,210-parameter MLP of bench/e2e_top5.sh, whose top 5 converge in
// 23 steps.
const checkCost = 25

// defaultCheckEvery is the spacing of convergence tests once a test costs
// more than a step's reorthogonalisation (see checkDue).
const defaultCheckEvery = 5

// floorRel is the fraction of ‖T‖ below which Ritz values count as zero in
// the relative convergence test: they are converged to Tol*floorRel*‖T‖
// absolute (1e-14‖T‖ with the default Tol, about 50ε and still reachable,
// since the bound, unlike the true residual, falls below ε‖H‖). Without a
// floor, eigenvalues at rounding level (the flat directions of a Hessian)
// would never count as converged.
const floorRel = 1e-4

func topIndices(m, k int) []int {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = m - 1 - i
	}
	return idx
}

func bottomIndices(k int) []int {
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// ritz forms the Ritz vectors x_c = Σ_j z[j,c] q_j for the columns idx of
// z and, if withResid, their true residuals ‖H x_c - θ_c x_c‖.
func ritz[V any](ctx context.Context, k *krylov[V], z, theta []float64, idx []int, withResid bool) ([]V, []float64) {
	m := len(theta)
	vecs := make([]V, len(idx))
	var resid []float64
	if withResid {
		resid = make([]float64, len(idx))
	}
	for i, c := range idx {
		x := k.sp.Alloc(k.n)
		for j := 0; j < m; j++ {
			k.sp.Axpy(z[j*m+c], k.q[j], x)
		}
		vecs[i] = x
		if resid == nil {
			continue
		}
		if err := k.op.Apply(ctx, k.w, x); err != nil {
			resid = nil
			continue
		}
		k.stats.Applies++
		k.sp.Axpy(-theta[c], x, k.w)
		resid[i] = k.sp.Nrm2(k.w)
	}
	return vecs, resid
}
