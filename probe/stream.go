package probe

import (
	"context"
	"math"
	"time"
)

// StreamVectors is the number of operator-length vectors StreamLanczos
// holds at once (the two newest Lanczos vectors and the product), whatever
// the number of steps: what a caller adds to its memory estimate. With
// LanczosSettings.Vectors it holds one more (the start vector, for the
// second pass) and the Ritz vectors it returns.
const StreamVectors = 3

// StreamLanczos computes the largest and/or the smallest eigenvalue of op by
// the Lanczos three-term recurrence without storing the basis: it holds
// StreamVectors vectors whatever the number of steps, where Lanczos holds
// one per step. For an operator whose vectors are large (a network of 10^8
// parameters: 400 MB a vector in float32) this is the difference between
// fitting and not.
//
// The price is the loss of orthogonality that full reorthogonalisation
// prevents: once a Ritz value has converged, rounding reintroduces its
// eigenvector into the recurrence and copies ("ghosts") of it appear among
// the Ritz values (Paige 1971; Parlett 1998, ch. 13). The extreme Ritz
// values are still correct, and their bounds |β_m y_{m,i}| still bound the
// distance to an eigenvalue once converged (Paige's theorem), but a ghost
// cannot be told from a second eigenvalue of the same value, so
// StreamLanczos returns at most one top and one bottom value: TopK and
// BottomK must be 0 or 1.
//
// Each step subtracts the two previous directions and then, once more, the
// component along the newest (local reorthogonalisation, which corrects α_j
// at the cost of one Dot and one Axpy). Convergence (the test of
// LanczosSettings.Tol) is checked at every step, since the products are
// what StreamLanczos is meant to save. At an invariant subspace (β_j = 0)
// the Ritz values are exact eigenvalues of op restricted to it, and the
// iteration stops there: without the basis it cannot continue orthogonally.
//
// When Vectors is set, the Ritz vectors are formed by a second pass that
// regenerates the basis from the stored coefficients, m-1 further
// operator applications for m steps, plus one per vector for its true
// residual. from, when not nil, points to the start vector (a warm
// start, copied, not zero) instead of a random one.
//
// The results and errors are those of Lanczos: ErrNotConverged with the
// last Ritz values when MaxSteps is reached first, ctx.Err() or the
// operator's error with the values so far when interrupted (then without
// Ritz vectors).
func StreamLanczos[V any](ctx context.Context, op Operator[V], sp Space[V], s LanczosSettings, from *V) (*LanczosResult[V], error) {
	start := time.Now()
	n := op.Dim()
	topK, botK := s.TopK, s.BottomK
	switch {
	case topK < 0 || botK < 0 || topK > 1 || botK > 1:
		panic("probe: StreamLanczos wants TopK and BottomK of 0 or 1")
	case s.MaxSteps < 0 || s.Tol < 0:
		panic("probe: negative LanczosSettings.MaxSteps or Tol")
	case (topK > 0 || botK > 0) && n == 0:
		panic("probe: LanczosSettings.TopK or BottomK exceeds the operator's Dim")
	}
	if topK == 0 && botK == 0 {
		topK = 1
	}
	maxSteps := s.MaxSteps
	if maxSteps == 0 {
		maxSteps = 80
	}
	// Unlike Lanczos, MaxSteps is not capped at Dim: without
	// reorthogonalisation Dim steps do not make the Ritz values exact.
	tol := s.Tol
	if tol == 0 {
		tol = 1e-10
	}
	res := &LanczosResult[V]{}
	if n == 0 {
		res.Stats.Elapsed = time.Since(start)
		return res, nil
	}

	// prev and cur are the two newest Lanczos vectors, w the product; the
	// first pass keeps q0 for the second when Ritz vectors are wanted.
	prev, cur, w := sp.Alloc(n), sp.Alloc(n), sp.Alloc(n)
	startVector(sp, cur, from, s.Seed)
	var q0 V
	if s.Vectors {
		q0 = sp.Alloc(n)
		sp.Copy(q0, cur)
	}
	defer func() {
		for _, v := range []V{prev, cur, w} {
			sp.Free(v)
		}
		if s.Vectors {
			sp.Free(q0)
		}
	}()

	var alpha, beta []float64 // beta[j] couples q_j and q_{j+1}
	var theta, z []float64
	var err error
	anorm := 0.0
	brk := false
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		j := len(alpha)
		a, b, e := streamStep(ctx, op, sp, w, cur, prev, beta)
		if e != nil {
			err = e
			break
		}
		res.Stats.Applies++
		res.Stats.Iterations++
		if math.IsNaN(a+b) || math.IsInf(a+b, 0) {
			err = ErrNonFinite
			break
		}
		alpha = append(alpha, a)
		bPrev := 0.0
		if j > 0 {
			bPrev = beta[j-1]
		}
		anorm = math.Max(anorm, math.Abs(a)+bPrev+b)
		brk = b <= breakdownTol*anorm
		if brk {
			b = 0
		}
		beta = append(beta, b)
		m := len(alpha)
		theta, z = tridiagEigen(alpha, beta[:m-1])
		conv := lanczosConverged(theta, z, b, topK, botK, tol)
		est, c := theta[m-1], m-1
		if topK == 0 {
			est, c = theta[0], 0
		}
		rel := math.Abs(b*z[(m-1)*m+c]) / math.Abs(est)
		recordResidual(s.Recorder, "lanczos", m, maxSteps, est, rel, tol)
		if conv || brk {
			break
		}
		if m >= maxSteps {
			err = ErrNotConverged
			break
		}
		// prev, cur <- cur, w/b.
		prev, cur, w = cur, w, prev
		sp.Scale(1/b, cur)
	}

	m := len(alpha)
	res.Steps = m
	if m == 0 {
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	if len(theta) != m {
		theta, z = tridiagEigen(alpha, beta[:m-1])
	}
	bm := beta[m-1]
	if topK > 0 {
		res.Top = []float64{theta[m-1]}
		res.TopBounds = []float64{math.Abs(bm * z[(m-1)*m+m-1])}
	}
	if botK > 0 {
		res.Bottom = []float64{theta[0]}
		res.BottomBounds = []float64{math.Abs(bm * z[(m-1)*m])}
	}
	if s.Vectors && ctx.Err() == nil && (err == nil || err == ErrNotConverged) {
		var idx []int
		if topK > 0 {
			idx = append(idx, m-1)
		}
		if botK > 0 {
			idx = append(idx, 0)
		}
		vecs, resid, e := streamRitz(ctx, op, sp, q0, prev, cur, w, alpha, beta, z, theta, idx, &res.Stats)
		if e != nil {
			for _, v := range vecs {
				sp.Free(v)
			}
			res.Stats.Elapsed = time.Since(start)
			return res, e
		}
		if topK > 0 {
			res.TopVectors, res.TopResiduals = vecs[:1], resid[:1]
			vecs, resid = vecs[1:], resid[1:]
		}
		if botK > 0 {
			res.BottomVectors, res.BottomResiduals = vecs[:1], resid[:1]
		}
	}
	res.Stats.Elapsed = time.Since(start)
	return res, err
}

// streamStep sets w = H cur - a cur - beta[j-1] prev, with j = len(beta)
// the index of cur, reorthogonalised once more against cur, and returns
// a = cur·H cur (corrected by that pass) and b = ‖w‖.
func streamStep[V any](ctx context.Context, op Operator[V], sp Space[V], w, cur, prev V, beta []float64) (a, b float64, err error) {
	if err := op.Apply(ctx, w, cur); err != nil {
		return 0, 0, err
	}
	a = sp.Dot(cur, w)
	sp.Axpy(-a, cur, w)
	if j := len(beta); j > 0 {
		sp.Axpy(-beta[j-1], prev, w)
	}
	c := sp.Dot(cur, w)
	sp.Axpy(-c, cur, w)
	return a + c, sp.Nrm2(w), nil
}

// streamRitz regenerates the Lanczos vectors q_0 ... q_{m-1} from q0 and
// the coefficients by the same recurrence, accumulating the Ritz vectors
// x_c = Σ_j z[j,c] q_j for the columns idx, then applies op once to each
// for its true residual ‖H x_c - θ_c x_c‖. prev, cur and w are scratch.
func streamRitz[V any](ctx context.Context, op Operator[V], sp Space[V], q0, prev, cur, w V, alpha, beta, z, theta []float64, idx []int, st *Stats) ([]V, []float64, error) {
	m := len(alpha)
	n := op.Dim()
	vecs := make([]V, len(idx))
	for i := range vecs {
		vecs[i] = sp.Alloc(n)
	}
	sp.Copy(cur, q0)
	for j := 0; j < m; j++ {
		for i, c := range idx {
			sp.Axpy(z[j*m+c], cur, vecs[i])
		}
		if j == m-1 {
			break
		}
		// w = H q_j - α_j q_j - β_{j-1} q_{j-1}, with the first pass's
		// coefficients; the local pass repeats the first pass's rounding
		// correction. Then q_{j+1} = w/β_j.
		if err := op.Apply(ctx, w, cur); err != nil {
			return vecs, nil, err
		}
		st.Applies++
		sp.Axpy(-alpha[j], cur, w)
		if j > 0 {
			sp.Axpy(-beta[j-1], prev, w)
		}
		sp.Axpy(-sp.Dot(cur, w), cur, w)
		prev, cur, w = cur, w, prev
		sp.Scale(1/beta[j], cur)
	}
	resid := make([]float64, len(idx))
	for i, c := range idx {
		// The Ritz vector is unit-norm in exact arithmetic; normalise
		// away the drift of the regenerated basis.
		if nv := sp.Nrm2(vecs[i]); nv > 0 {
			sp.Scale(1/nv, vecs[i])
		}
		if err := op.Apply(ctx, w, vecs[i]); err != nil {
			return vecs, nil, err
		}
		st.Applies++
		sp.Axpy(-theta[c], vecs[i], w)
		resid[i] = sp.Nrm2(w)
	}
	return vecs, resid, nil
}
