package cpu

import (
	"gonum.org/v1/gonum/blas"

	"github.com/curvprobe/curvprobe/kernels"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C with op(A) m×k and op(B) k×n,
// row-major with leading dimensions lda, ldb, ldc (BLAS sgemm/dgemm; alpha
// and beta rounded to T). With beta = 0, C is not read. C must not alias A
// or B. In float32, products of at most 16 columns with B not transposed
// (gemmNarrow32) and of an inner dimension of at most 16 with A plain and B
// transposed (gemmSmallK32) run in this package's AVX2 kernels, which beat
// OpenBLAS's packing on these shapes; another narrow product (see
// narrowFlops) runs on one BLAS thread.
//
//	for i < m, j < n: c[i*ldc+j] = alpha*sum_l opA(i,l)*opB(l,j) + beta*c[i*ldc+j]
func (bk *Backend[T]) Gemm(tA, tB kernels.Trans, m, n, k int, alpha float64, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, beta float64, c kernels.Buffer, ldc int) {
	as, bs, cs := data[T](a), data[T](b), data[T](c)
	kernels.CheckGemm(tA, tB, m, n, k, len(as), lda, len(bs), ldb, len(cs), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		// C = beta*C; BLAS length checks would want a non-empty A and B.
		scaleC(cs, m, n, ldc, beta)
		return
	}
	if is32[T]() && tB == kernels.NoTrans && gemmNarrow32(bool(tA), m, n, k, alpha, f32(as), lda, f32(bs), ldb, beta, f32(cs), ldc) {
		return
	}
	if is32[T]() && tA == kernels.NoTrans && tB == kernels.Transpose && gemmSmallK32(m, n, k, alpha, f32(as), lda, f32(bs), ldb, beta, f32(cs), ldc) {
		return
	}
	if beta == 0 {
		// OpenBLAS zeroes C for beta = 0 in a pass of its own
		// (sgemm_beta), which took 5% of its time in a gradient; the
		// runtime's clear is faster, and C = 0 with beta = 1 gives the
		// same bits (the product is added to +0 either way).
		scaleC(cs, m, n, ldc, 0)
		beta = 1
	}
	ta, tb := blasTrans(tA), blasTrans(tB)
	withBLAS(m, n, k, func() {
		if is32[T]() {
			bk.b32.Sgemm(ta, tb, m, n, k, float32(alpha), f32(as), lda, f32(bs), ldb, float32(beta), f32(cs), ldc)
			return
		}
		bk.b64.Dgemm(ta, tb, m, n, k, alpha, f64(as), lda, f64(bs), ldb, beta, f64(cs), ldc)
	})
}

// blasTrans returns the BLAS transpose flag of t.
func blasTrans(t kernels.Trans) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// scaleC sets the m×n matrix C (leading dimension ldc) to beta*C, clearing
// it for beta 0 (so that NaN and Inf in C do not survive, as BLAS has it).
func scaleC[T kernels.Float](cs []T, m, n, ldc int, beta float64) {
	for i := range m {
		row := cs[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] = T(beta * float64(row[j]))
		}
	}
}
