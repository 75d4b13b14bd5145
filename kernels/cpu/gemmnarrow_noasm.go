//go:build !amd64

package cpu

// gemmNarrowF32AVX2 has no assembly here; gemmNarrow32 never calls it,
// since hasAVX2FMA is false.
func gemmNarrowF32AVX2(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, rows, k int, mask *[16]int32, beta int) {
	panic("cpu: gemmNarrowF32AVX2 without AVX2")
}

// gemmNarrowTF32AVX2 likewise.
func gemmNarrowTF32AVX2(ct *float32, a *float32, lda int, b *float32, ldb, n, m16, k4 int) {
	panic("cpu: gemmNarrowTF32AVX2 without AVX2")
}

// gemmSmallKF32AVX2 likewise.
func gemmSmallKF32AVX2(c *float32, ldc int, a *float32, lda int, bt *float32, n, n8, m2, k, beta int) {
	panic("cpu: gemmSmallKF32AVX2 without AVX2")
}
