package probe

import (
	"context"
	"errors"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/mat"
)

// BlockPowerSettings configure BlockPowerIteration. Zero values mean the
// defaults noted.
type BlockPowerSettings struct {
	// K is the number of eigenpairs wanted (the block size); 0 means 1.
	K int
	// Tol is the relative residual every Ritz pair must reach:
	// ‖H x_i - θ_i x_i‖ <= Tol · max_j |θ_j|. 0 means 1e-6.
	Tol float64
	// MaxIter bounds the iterations (K operator applications each);
	// 0 means 300.
	MaxIter int
	// Seed seeds the Rademacher start block (vector j from subSeed(Seed, j)).
	Seed uint64
	// Shift makes the iteration run on H - Shift·I (reported values are
	// those of H), as in PowerSettings.
	Shift float64
	// Recorder, if not nil, receives a Progress per iteration with the
	// largest Ritz value.
	Recorder Recorder
}

// BlockPowerResult holds the K eigenpairs of largest magnitude (of
// H - Shift·I) found by BlockPowerIteration, ordered by descending value.
type BlockPowerResult[V any] struct {
	Values []float64
	// Vectors are unit-norm Ritz vectors allocated with the Space; they
	// belong to the caller.
	Vectors []V
	// Residuals are ‖H x_i - θ_i x_i‖.
	Residuals []float64
	Stats     Stats
}

// BlockPowerIteration finds the K eigenpairs of op of largest magnitude by
// subspace (block power) iteration with Rayleigh-Ritz: Y = H X, the Ritz
// pairs of the block from the K×K matrix XᵀY, then X = orth(H Z) for the
// Ritz vectors Z (Rutishauser 1970; Saad, Numerical Methods for Large
// Eigenvalue Problems, ch. 5). Each iteration applies op to the K block
// vectors together (one ApplyBatch when op is a BatchOperator), which is
// where it beats K separate power iterations on a GPU. Convergence of
// eigenvalue i goes like |λ_{K+1}/λ_i|^iter; Lanczos needs fewer products
// for the extremes, block iteration fewer passes over the data. On
// non-convergence it returns the current pairs with ErrNotConverged.
func BlockPowerIteration[V any](ctx context.Context, op Operator[V], sp Space[V], s BlockPowerSettings) (*BlockPowerResult[V], error) {
	start := time.Now()
	n := op.Dim()
	k := s.K
	if k == 0 {
		k = 1
	}
	if k < 0 || k > n {
		panic("probe: BlockPowerIteration K out of range")
	}
	tol, maxIter := s.Tol, s.MaxIter
	if tol == 0 {
		tol = 1e-6
	}
	if maxIter == 0 {
		maxIter = 300
	}
	x, y := allocN(sp, k, n), allocN(sp, k, n)
	z, hz := allocN(sp, k, n), allocN(sp, k, n)
	defer func() { freeN(sp, x); freeN(sp, y); freeN(sp, hz) }()
	for j := range x {
		sp.Rademacher(x[j], subSeed(s.Seed, j))
	}
	orthonormalise(sp, x)
	res := &BlockPowerResult[V]{Values: make([]float64, k), Residuals: make([]float64, k)}
	apply := func(dst, v []V) error {
		if err := applyBlock(ctx, op, dst, v); err != nil {
			return err
		}
		if s.Shift != 0 {
			for j := range v {
				sp.Axpy(-s.Shift, v[j], dst[j])
			}
		}
		res.Stats.Applies += len(v)
		return nil
	}
	var err error
	for iter := 1; ; iter++ {
		if err = ctx.Err(); err != nil {
			break
		}
		if err = apply(y, x); err != nil {
			break
		}
		// Rayleigh-Ritz on span(X): T = XᵀHX, T = S Θ Sᵀ.
		t := mat.NewSymDense(k, nil)
		for a := 0; a < k; a++ {
			for b := a; b < k; b++ {
				t.SetSym(a, b, 0.5*(sp.Dot(x[a], y[b])+sp.Dot(x[b], y[a])))
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(t, true) {
			err = errors.New("probe: block power iteration: Rayleigh-Ritz eigendecomposition failed")
			break
		}
		theta := eig.Values(nil)
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		// Order by descending magnitude (the pairs subspace iteration finds).
		order := make([]int, k)
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return math.Abs(theta[order[a]]) > math.Abs(theta[order[b]]) })
		scale := 0.0
		for i, o := range order {
			sp.Scale(0, z[i])
			sp.Scale(0, hz[i])
			for j := 0; j < k; j++ {
				c := vecs.At(j, o)
				sp.Axpy(c, x[j], z[i])
				sp.Axpy(c, y[j], hz[i])
			}
			res.Values[i] = theta[o]
			scale = math.Max(scale, math.Abs(theta[o]))
		}
		converged := true
		for i := range z {
			// Residual ‖HZ_i - θ_i Z_i‖ via a copy into y (free now).
			sp.Copy(y[i], hz[i])
			sp.Axpy(-res.Values[i], z[i], y[i])
			res.Residuals[i] = sp.Nrm2(y[i])
			if res.Residuals[i] > tol*scale {
				converged = false
			}
		}
		res.Stats.Iterations = iter
		record(s.Recorder, "block power", iter, maxIter, res.Values[0]+s.Shift)
		if converged {
			break
		}
		if iter >= maxIter {
			err = ErrNotConverged
			break
		}
		for i := range x {
			sp.Copy(x[i], hz[i])
		}
		orthonormalise(sp, x)
	}
	// Report the pairs of H, descending by value.
	for i := range res.Values {
		res.Values[i] += s.Shift
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return res.Values[idx[a]] > res.Values[idx[b]] })
	vals, resid, vecsOut := make([]float64, k), make([]float64, k), make([]V, k)
	for i, o := range idx {
		vals[i], resid[i], vecsOut[i] = res.Values[o], res.Residuals[o], z[o]
	}
	res.Values, res.Residuals, res.Vectors = vals, resid, vecsOut
	res.Stats.Elapsed = time.Since(start)
	return res, err
}

// orthonormalise makes the vectors orthonormal in place by modified
// Gram-Schmidt applied twice (twice is enough; Giraud et al. 2005). A vector
// that vanishes is replaced by a fresh Rademacher one orthogonalised
// against the others.
func orthonormalise[V any](sp Space[V], v []V) {
	for i := range v {
		for attempt := uint64(0); ; attempt++ {
			for pass := 0; pass < 2; pass++ {
				for j := 0; j < i; j++ {
					sp.Axpy(-sp.Dot(v[j], v[i]), v[j], v[i])
				}
			}
			if nrm := sp.Nrm2(v[i]); nrm > 1e-12 || attempt > 3 {
				sp.Scale(1/nrm, v[i])
				break
			}
			sp.Rademacher(v[i], subSeed(0x0b10c, i)+attempt)
		}
	}
}
