package kernels

// GemmShapes returns the stored shapes of Gemm's operands for op(A) m×k
// and op(B) k×n: A is ar×ac (k×m when transposed), B is br×bc (n×k when
// transposed).
func GemmShapes(tA, tB Trans, m, n, k int) (ar, ac, br, bc int) {
	ar, ac = m, k
	if tA {
		ar, ac = k, m
	}
	br, bc = k, n
	if tB {
		br, bc = n, k
	}
	return ar, ac, br, bc
}

// CheckGemm panics, with a message that names the operand, when Gemm's
// arguments do not fit: a negative dimension, a leading dimension below an
// operand's stored width (and below 1), or a buffer of aLen, bLen or cLen
// elements too short for its operand. Every backend's Gemm calls it first.
func CheckGemm(tA, tB Trans, m, n, k int, aLen, lda, bLen, ldb, cLen, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: Gemm negative dimension")
	}
	ar, ac, br, bc := GemmShapes(tA, tB, m, n, k)
	checkMatrix("A", aLen, ar, ac, lda)
	checkMatrix("B", bLen, br, bc, ldb)
	checkMatrix("C", cLen, m, n, ldc)
}

func checkMatrix(name string, n, rows, cols, ld int) {
	if ld < max(1, cols) {
		panic("kernels: Gemm leading dimension of " + name + " too small")
	}
	if rows > 0 && cols > 0 && n < (rows-1)*ld+cols {
		panic("kernels: Gemm buffer " + name + " too short")
	}
}
