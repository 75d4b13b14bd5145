//go:build amd64

package cpu

// gemmNarrowF32AVX2 is the kernel of gemmNarrow32 (gemmnarrow_amd64.s) for
// rows rows, a multiple of 4.
//
//go:noescape
func gemmNarrowF32AVX2(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k int, mask *[16]int32, beta int)

// gemmNarrowTF32AVX2 is the kernel of gemmNarrow32 for a transposed A
// (gemmnarrow_amd64.s): ct (n×m16) += bᵀ·a over the first k4 rows of a and
// b and the first m16 columns of a, k4 a multiple of 4 and m16 of 16.
//
//go:noescape
func gemmNarrowTF32AVX2(ct *float32, a *float32, lda int, b *float32, ldb, n, m16, k4 int)

// gemmSmallKF32AVX2 is the kernel of gemmSmallK32 (gemmnarrow_amd64.s):
// the first m2 rows (a multiple of 2) and n8 columns (a multiple of 8) of
// C = A·Bᵀ from bt = Bᵀ (k×n).
//
//go:noescape
func gemmSmallKF32AVX2(c *float32, ldc int, a *float32, lda int, bt *float32, n, n8, m2, k, beta int)
