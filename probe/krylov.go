package probe

import (
	"context"
	"math"

	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// breakdownTol is the relative size of the Lanczos residual β_j (against an
// estimate of ‖H‖) below which the Krylov space counts as invariant. After
// twice-is-enough reorthogonalisation the residual of an exactly invariant
// space is a few ε‖H‖ in float64 (measured ~1e-15 on the low-rank tests);
// 1e-12 leaves a margin of about three orders of magnitude. A float32 Space
// never falls below it, and then merely continues with a vector that is
// numerically a fresh direction orthogonal to the basis, which is harmless.
const breakdownTol = 1e-12

// krylov is a Lanczos basis Q = [q_0 ... q_{m-1}] with the symmetric
// tridiagonal T = Q^T H Q (diagonal alpha, off-diagonal off), kept
// orthonormal by full classical Gram-Schmidt reorthogonalisation applied
// twice. After step, w holds the unnormalised next direction and resid its
// norm, so that H Q = Q T + resid w/‖w‖ e_m^T.
type krylov[V any] struct {
	op    Operator[V]
	sp    Space[V]
	n     int
	q     []V
	alpha []float64
	off   []float64 // off[j] couples q[j] and q[j+1]; 0 after a restart
	coef  []float64 // Gram-Schmidt coefficients, reused
	w     V
	resid float64
	anorm float64 // running estimate of ‖T‖ <= ‖H‖
	stats Stats
}

func newKrylov[V any](op Operator[V], sp Space[V], maxSteps int) *krylov[V] {
	n := op.Dim()
	return &krylov[V]{
		op:    op,
		sp:    sp,
		n:     n,
		q:     make([]V, 0, maxSteps),
		alpha: make([]float64, 0, maxSteps),
		off:   make([]float64, 0, maxSteps),
		coef:  make([]float64, 0, maxSteps),
		w:     sp.Alloc(n),
	}
}

// free releases the basis and the work vector.
func (k *krylov[V]) free() {
	for _, q := range k.q {
		k.sp.Free(q)
	}
	k.q = k.q[:0]
	k.sp.Free(k.w)
}

// dgks is the Daniel-Gragg-Kaufman-Stewart (1976) threshold of selective
// reorthogonalisation: after one classical Gram-Schmidt pass, a second is
// needed only when the pass removed most of the vector, leaving less than
// dgks of its norm; then the second pass is enough (twice is enough:
// Giraud, Langou, Rozložník 2005). In Lanczos the residual after the
// three-term recurrence is already nearly orthogonal to the basis, so the
// second pass, half of the reorthogonalisation's cost, is mostly skipped.
const dgks = 0.7071067811865476 // 1/sqrt(2)

// orthogonalise removes from x its components along the basis by classical
// Gram-Schmidt, with a second pass where the DGKS test asks for one, using
// a MultiSpace's one-pass DotMany and AxpyMany where the Space has them
// (the same numbers as the loops of Dot and Axpy). nrm is ‖x‖ on entry; it
// returns ‖x‖ on exit.
func (k *krylov[V]) orthogonalise(x V, nrm float64) float64 {
	m := len(k.q)
	if m == 0 {
		return nrm
	}
	ms, many := k.sp.(MultiSpace[V])
	for pass := 0; pass < 2; pass++ {
		k.coef = k.coef[:m]
		if many {
			ms.DotMany(k.coef, k.q, x)
			for i := range k.coef {
				k.coef[i] = -k.coef[i]
			}
			ms.AxpyMany(k.coef, k.q, x)
		} else {
			for i, q := range k.q {
				k.coef[i] = k.sp.Dot(q, x)
			}
			for i, q := range k.q {
				k.sp.Axpy(-k.coef[i], q, x)
			}
		}
		after := k.sp.Nrm2(x)
		if after > dgks*nrm {
			return after
		}
		nrm = after
	}
	return nrm
}

// push orthogonalises the start (or restart) vector v against the basis,
// normalises it and appends it, coupled to the previous block by zero.
// v is overwritten. push reports false, appending nothing, when v has no
// component outside the basis that rounding does not dominate.
func (k *krylov[V]) push(v V) bool {
	before := k.sp.Nrm2(v)
	if before == 0 {
		return false
	}
	nrm := k.orthogonalise(v, before)
	if nrm <= 1e-8*before {
		return false
	}
	q := k.sp.Alloc(k.n)
	k.sp.Copy(q, v)
	k.sp.Scale(1/nrm, q)
	if len(k.q) > 0 {
		k.off = append(k.off, 0)
	}
	k.q = append(k.q, q)
	return true
}

// step applies H to the newest basis vector, appends α to T, and leaves
// the reorthogonalised residual in w with its norm in resid.
func (k *krylov[V]) step(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := len(k.q) - 1
	qj := k.q[j]
	if err := k.op.Apply(ctx, k.w, qj); err != nil {
		return err
	}
	k.stats.Applies++
	k.stats.Iterations++
	a := k.sp.Dot(qj, k.w)
	k.sp.Axpy(-a, qj, k.w)
	b := 0.0
	if j > 0 {
		b = k.off[j-1]
		k.sp.Axpy(-b, k.q[j-1], k.w)
	}
	k.resid = k.orthogonalise(k.w, k.sp.Nrm2(k.w))
	if math.IsNaN(a+k.resid) || math.IsInf(a+k.resid, 0) {
		return ErrNonFinite
	}
	k.alpha = append(k.alpha, a)
	k.anorm = math.Max(k.anorm, math.Abs(a)+b+k.resid)
	return nil
}

// breakdown reports whether the last step found an invariant subspace.
func (k *krylov[V]) breakdown() bool {
	return k.resid <= breakdownTol*k.anorm
}

// extend appends w/resid to the basis: w is scaled in place and becomes
// the new basis vector, and a fresh work vector takes its place (one pass
// over the vector instead of a copy and then a scaling).
func (k *krylov[V]) extend() {
	q := k.w
	k.sp.Scale(1/k.resid, q)
	k.off = append(k.off, k.resid)
	k.q = append(k.q, q)
	k.w = k.sp.Alloc(k.n)
}

// tridiagEigen returns the eigenvalues (ascending) of the symmetric
// tridiagonal matrix with diagonal alpha and off-diagonal off, and its
// eigenvectors as the columns of the row-major m×m z, by implicit QL/QR
// (LAPACK Dsteqr). alpha and off are not modified.
func tridiagEigen(alpha, off []float64) (theta, z []float64) {
	m := len(alpha)
	theta = append([]float64(nil), alpha...)
	e := append([]float64(nil), off[:max(m-1, 0)]...)
	z = make([]float64, m*m)
	work := make([]float64, max(1, 2*m-2))
	if !(gonum.Implementation{}).Dsteqr(lapack.EVTridiag, m, theta, e, z, max(m, 1), work) {
		// Dsteqr fails only after 30m QL sweeps without convergence,
		// which does not happen for finite input.
		panic("probe: tridiagonal eigensolver failed (non-finite Lanczos coefficients?)")
	}
	return theta, z
}
