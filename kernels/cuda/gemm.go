package cuda

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// colMajorGemm is a cuBLAS (column-major) GEMM call: C = alpha*op(X)*op(Y) +
// beta*C with op(X) m×k, op(Y) k×n, where X and Y are the row-major
// operands named by swapped (X = B, Y = A when true).
type colMajorGemm struct {
	opX, opY int // cublasOpN or cublasOpT
	m, n, k  int
	swapped  bool // X is B and Y is A
	ldx, ldy int
	ldc      int
}

// rowMajorGemm maps the row-major GEMM of kernels.Backend, C = alpha *
// op(A)*op(B) + beta*C with C m×n, onto cuBLAS's column-major one. A
// row-major r×c matrix with leading dimension ld is, read column-major,
// its c×r transpose with the same ld; so the row-major C is the
// column-major C^T = op(B)^T op(A)^T: cuBLAS computes the n×m product of
// X = B (op as given: B read column-major is B^T, and op(B)^T is B^T
// untransposed or B transposed) and Y = A likewise, with k unchanged and
// every leading dimension passed through.
func rowMajorGemm(tA, tB kernels.Trans, m, n, k, lda, ldb, ldc int) colMajorGemm {
	op := func(t kernels.Trans) int {
		if t {
			return cublasOpT
		}
		return cublasOpN
	}
	return colMajorGemm{
		opX: op(tB), opY: op(tA),
		m: n, n: m, k: k,
		swapped: true,
		ldx:     ldb, ldy: lda, ldc: ldc,
	}
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C with op(A) m×k and op(B)
// k×n, row-major with leading dimensions lda, ldb, ldc, by cuBLAS
// sgemm/dgemm through rowMajorGemm (alpha and beta rounded to T; math mode
// CUBLAS_DEFAULT_MATH unless Options.TF32). With beta = 0, C is not read.
// With k = 0 it sets C = beta*C (scale_matrix in elementwise.cu). C must
// not alias A or B.
//
//	for i < m, j < n: c[i*ldc+j] = alpha*sum_l opA(i,l)*opB(l,j) + beta*c[i*ldc+j]
func (bk *Backend[T]) Gemm(tA, tB kernels.Trans, m, n, k int, alpha float64, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, beta float64, c kernels.Buffer, ldc int) {
	ap, bp, cp := bk.ptr(a), bk.ptr(b), bk.ptr(c)
	kernels.CheckGemm(tA, tB, m, n, k, bk.length(a), lda, bk.length(b), ldb, bk.length(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		var ka kargs
		bk.run(kScaleMatrix, elemGrid(m*n), blockSize, 1, ka.ptr(cp).idx(m).idx(n).idx(ldc).f64(beta))
		return
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 {
			panic("kernels: Gemm dimension exceeds cuBLAS's 32-bit int")
		}
	}
	g := rowMajorGemm(tA, tB, m, n, k, lda, ldb, ldc)
	xp, yp := ap, bp
	if g.swapped {
		xp, yp = bp, ap
	}
	d := bk.dev
	d.do(func() {
		if bk.prec == 0 {
			al, be := float32(alpha), float32(beta)
			d.checkBLAS("cublasSgemm_v2", d.blas.sgemm(d.handle, int32(g.opX), int32(g.opY), int32(g.m), int32(g.n), int32(g.k),
				&al, xp, int32(g.ldx), yp, int32(g.ldy), &be, cp, int32(g.ldc)))
			return
		}
		d.checkBLAS("cublasDgemm_v2", d.blas.dgemm(d.handle, int32(g.opX), int32(g.opY), int32(g.m), int32(g.n), int32(g.k),
			&alpha, xp, int32(g.ldx), yp, int32(g.ldy), &beta, cp, int32(g.ldc)))
	})
}
