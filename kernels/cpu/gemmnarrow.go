package cpu

import "math"

// narrowCols is the widest op(B) (n columns) that gemmNarrow32 computes.
//
// OpenBLAS packs the whole of A for a product, whatever n is, and its
// kernels are tuned for wide outputs: the products of a 10-class output
// layer (z = a·W, 512×10 by k 512, and the weight gradient aᵀ·d) ran at
// 15-25 GFLOP/s inside a gradient (784x512x512x10, batch 512, float32, one
// OpenBLAS thread, AMD EPYC Zen 3), 0.2-0.38 ms each, against the 120-130
// of the 512-wide products. gemmNarrow32 broadcasts A's elements against
// B's rows held in two vector registers, four rows of C at a time, reading
// A once and never packing it.
const narrowCols = 16

// gemmNarrow32 sets C = op(A)·B + beta*C for float32, B not transposed,
// n <= narrowCols columns, alpha 1 and beta 0 or 1, and reports true; it
// reports false, doing nothing, for anything else or without AVX2 and FMA
// (Gemm then calls the BLAS). Each element of C is a chain of fused
// multiply-adds over l in order, from 0, plus C's old value last when beta
// is 1. The rows past the kernels' blocks (4 rows; 16 of a transposed A)
// come from the kernel run again over the last whole block, in scratch,
// storing only those rows.
func gemmNarrow32(tA bool, m, n, k int, alpha float64, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) bool {
	if !hasAVX2FMA || n > narrowCols || n < 1 || m < 4 || tA && m < 16 || k < 1 || alpha != 1 || (beta != 0 && beta != 1) {
		return false
	}
	if tA {
		m16 := m &^ 15
		narrowT32(m16, 0, n, k, a, lda, b, ldb, beta, c, ldc)
		if m16 < m {
			// The last m%16 rows: the kernel over the last 16 (m >= 16),
			// of which the rows already stored are not stored again.
			w := m - 16
			narrowT32(16, m16-w, n, k, a[w:], lda, b, ldb, beta, c[w*ldc:], ldc)
		}
		return true
	}
	var mask [16]int32
	for j := range n {
		mask[j] = -1
	}
	b1 := 0
	if beta == 1 {
		b1 = 1
	}
	m4 := m &^ 3
	gemmNarrowF32AVX2(&c[0], ldc, &a[0], lda, &b[0], ldb, m4, k, &mask, b1)
	if m4 < m {
		// The last m%4 rows: the kernel over the last 4 (m >= 4) into
		// scratch, C's old value added after it as the kernel adds it.
		w := m - 4
		var t [4 * narrowCols]float32
		gemmNarrowF32AVX2(&t[0], narrowCols, &a[w*lda], lda, &b[0], ldb, 4, k, &mask, 0)
		for i := m4; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				if beta == 1 {
					row[j] = t[(i-w)*narrowCols+j] + row[j]
				} else {
					row[j] = t[(i-w)*narrowCols+j]
				}
			}
		}
	}
	return true
}

// narrowT32 is gemmNarrow32's transposed-A case for m a multiple of 16:
// Cᵀ (n×m) = Bᵀ·A into a scratch matrix by the kernel (the rows of A and
// B past a multiple of 4 in Go, by the same chain), then stored in or
// added to C, all but its first skip rows (which a call over an earlier
// window stored).
func narrowT32(m, skip, n, k int, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) {
	if m == 0 {
		return
	}
	ct := make([]float32, n*m)
	k4 := k &^ 3
	if k4 > 0 {
		gemmNarrowTF32AVX2(&ct[0], &a[0], lda, &b[0], ldb, n, m, k4)
	}
	for l := k4; l < k; l++ {
		for j := range n {
			bl := b[l*ldb+j]
			for i, v := range a[l*lda : l*lda+m] {
				ct[j*m+i] = fma32(v, bl, ct[j*m+i])
			}
		}
	}
	for i := skip; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 1 {
				row[j] += ct[j*m+i]
			} else {
				row[j] = ct[j*m+i]
			}
		}
	}
}

// fma32 returns x*y + z rounded to float32 (through float64: x*y is exact
// there, the sum rounded twice).
func fma32(x, y, z float32) float32 {
	return float32(math.FMA(float64(x), float64(y), float64(z)))
}

// smallK is the largest inner dimension k that gemmSmallK32 computes.
//
// The backward product of a 10-class output layer, g = d·Wᵀ (512×512 by
// k 10 at batch 512), is a sum of 10 outer products that OpenBLAS ran at
// about 20 GFLOP/s (0.25-0.3 ms) on one thread, its packing of W as long
// as the product.
const smallK = 16

// gemmSmallK32 sets C = A·Bᵀ + beta*C for float32 with k <= smallK, A not
// transposed, B transposed, alpha 1, beta 0 or 1, at least 2 rows and 8
// columns, and reports true; it reports false, doing nothing, otherwise or
// without AVX2 and FMA. B is copied transposed (k×n) first, so that each
// row of C is built from contiguous rows of Bᵀ. Each element of C is a
// chain of fused multiply-adds over l in order from 0, then C's old value
// added when beta is 1. The columns past a multiple of 8 come from the
// kernel run again over the last 8, in scratch, storing only those; the
// last row of an odd m is computed in Go (each step rounded through
// float64, which can differ from the fused float32 step by an ulp in rare
// cases).
func gemmSmallK32(m, n, k int, alpha float64, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) bool {
	if !hasAVX2FMA || k < 1 || k > smallK || m < 2 || n < 8 || alpha != 1 || (beta != 0 && beta != 1) {
		return false
	}
	bt := make([]float32, k*n)
	for j := range n {
		for l, v := range b[j*ldb : j*ldb+k] {
			bt[l*n+j] = v
		}
	}
	b1 := 0
	if beta == 1 {
		b1 = 1
	}
	m2, n8 := m&^1, n&^7
	gemmSmallKF32AVX2(&c[0], ldc, &a[0], lda, &bt[0], n, n8, m2, k, b1)
	if n8 < n {
		// The last n%8 columns: the kernel over the last 8 (n >= 8) into
		// scratch, C's old value added after it as the kernel adds it.
		w := n - 8
		t := make([]float32, m2*8)
		gemmSmallKF32AVX2(&t[0], 8, &a[0], lda, &bt[w], n, 8, m2, k, 0)
		for i := range m2 {
			row := c[i*ldc+n8 : i*ldc+n]
			for j := range row {
				if beta == 1 {
					row[j] = t[i*8+n8-w+j] + row[j]
				} else {
					row[j] = t[i*8+n8-w+j]
				}
			}
		}
	}
	for i := m2; i < m; i++ {
		for j := range n {
			var acc float32
			for l := range k {
				acc = fma32(a[i*lda+l], bt[l*n+j], acc)
			}
			if beta == 1 {
				acc += c[i*ldc+j]
			}
			c[i*ldc+j] = acc
		}
	}
	return true
}
