package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmNarrow32 checks gemmNarrow32 against a float64 product, over
// shapes around its edges (n from 1 to 16 across the two vector halves, m
// with and without a tail of m%4 rows, k of 1 and more, A plain and
// transposed, leading dimensions past the minimum, beta 0 and 1), to the
// error bound of a float32 dot product: k ulps of sum |A||B| (+|C|). It
// also checks that elements outside the n columns of C are untouched and
// that what it refuses (n > 16, alpha != 1, beta 2) it leaves to the BLAS.
func TestGemmNarrow32(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2 and FMA: Gemm uses the BLAS")
	}
	r := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 { return normals32(r, n) }
	for _, tA := range []bool{false, true} {
		for _, m := range []int{4, 5, 7, 13, 16, 21, 64, 83} {
			for _, n := range []int{1, 7, 8, 9, 10, 16} {
				for _, k := range []int{1, 3, 17, 512} {
					for _, beta := range []float64{0, 1} {
						name := fmt.Sprintf("tA=%v/m=%d/n=%d/k=%d/beta=%g", tA, m, n, k, beta)
						lda, ldb, ldc := k+3, n+2, n+5
						arows := m
						if tA {
							lda, arows = m+1, k
						}
						a, b, c := fill(arows*lda), fill(k*ldb), fill(m*ldc)
						c0 := append([]float32(nil), c...)
						took := gemmNarrow32(tA, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
						if tA && m < 16 { // left to the BLAS
							if took {
								t.Fatalf("%s: took a transposed product of fewer than 16 rows", name)
							}
							continue
						}
						if !took {
							t.Fatalf("%s: refused", name)
						}
						at := func(i, l int) float32 { return a[i*lda+l] }
						if tA {
							at = func(i, l int) float32 { return a[l*lda+i] }
						}
						checkGemm32(t, name, m, n, k, at, func(l, j int) float32 { return b[l*ldb+j] }, beta, c0, c, ldc)
					}
				}
			}
		}
	}
	a, b, c := fill(64*64), fill(64*64), fill(64*64)
	for _, s := range []struct {
		n           int
		alpha, beta float64
	}{{17, 1, 0}, {10, 2, 0}, {10, 1, 2}, {10, 1, 0.5}} {
		if gemmNarrow32(false, 8, s.n, 8, s.alpha, a, 64, b, 64, s.beta, c, 64) {
			t.Errorf("n %d, alpha %g, beta %g: took a product it does not compute", s.n, s.alpha, s.beta)
		}
	}
}

// TestGemmSmallK32 checks gemmSmallK32 (C = A·Bᵀ, k <= 16) against a
// float64 product as TestGemmNarrow32 does gemmNarrow32: m odd and even, n
// with 32-column blocks, 8-column blocks and a tail, k from 1 to 16,
// leading dimensions past the minimum, beta 0 and 1; C outside the product
// untouched; and what it refuses.
func TestGemmSmallK32(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2 and FMA: Gemm uses the BLAS")
	}
	r := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float32 { return normals32(r, n) }
	for _, m := range []int{2, 3, 8, 13} {
		for _, n := range []int{8, 13, 32, 40, 77, 512} {
			for _, k := range []int{1, 3, 10, 16} {
				for _, beta := range []float64{0, 1} {
					name := fmt.Sprintf("m=%d/n=%d/k=%d/beta=%g", m, n, k, beta)
					lda, ldb, ldc := k+1, k+2, n+3
					a, b, c := fill(m*lda), fill(n*ldb), fill(m*ldc)
					c0 := append([]float32(nil), c...)
					if !gemmSmallK32(m, n, k, 1, a, lda, b, ldb, beta, c, ldc) {
						t.Fatalf("%s: refused", name)
					}
					checkGemm32(t, name, m, n, k, func(i, l int) float32 { return a[i*lda+l] }, func(l, j int) float32 { return b[j*ldb+l] }, beta, c0, c, ldc)
				}
			}
		}
	}
	a, b, c := fill(64*64), fill(64*64), fill(64*64)
	for _, s := range []struct {
		m, n, k     int
		alpha, beta float64
	}{{8, 8, 17, 1, 0}, {1, 8, 4, 1, 0}, {8, 7, 4, 1, 0}, {8, 8, 4, 2, 0}, {8, 8, 4, 1, 0.5}} {
		if gemmSmallK32(s.m, s.n, s.k, s.alpha, a, 64, b, 64, s.beta, c, 64) {
			t.Errorf("%+v: took a product it does not compute", s)
		}
	}
}

// TestGemmNarrowTailsSameBits checks that an element of C has the same
// bits whether its row (or column) falls in a kernel's block or in the
// rows (columns) left over, which the kernels run again over the last
// whole block: the leading rows of a product with a tail against the same
// rows of a taller product, and likewise the leading columns of a product
// of A·Bᵀ with k <= smallK.
func TestGemmNarrowTailsSameBits(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2 and FMA: Gemm uses the BLAS")
	}
	r := rand.New(rand.NewPCG(5, 6))
	same := func(name string, m, n int, short, tall []float32, ldc int) {
		t.Helper()
		for i := range m {
			for j := range n {
				if g, w := short[i*ldc+j], tall[i*ldc+j]; math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("%s: C[%d,%d] = %g in the product with a tail, %g in the taller one", name, i, j, g, w)
				}
			}
		}
	}
	const n, k, ldc = 10, 37, 16
	for _, beta := range []float64{0, 1} {
		// A plain: rows past a multiple of 4; A transposed: past 16.
		for _, c := range []struct {
			tA          bool
			short, tall int
		}{{false, 7, 12}, {false, 83, 88}, {true, 21, 32}, {true, 83, 96}} {
			name := fmt.Sprintf("tA=%v/m=%d/beta=%g", c.tA, c.short, beta)
			lda := k
			if c.tA {
				lda = c.tall
			}
			a, b, c0 := normals32(r, c.tall*k), normals32(r, k*n), normals32(r, c.tall*ldc)
			short, tall := append([]float32(nil), c0...), append([]float32(nil), c0...)
			if !gemmNarrow32(c.tA, c.short, n, k, 1, a, lda, b, n, beta, short, ldc) || !gemmNarrow32(c.tA, c.tall, n, k, 1, a, lda, b, n, beta, tall, ldc) {
				t.Fatalf("%s: refused", name)
			}
			same(name, c.short, n, short, tall, ldc)
		}
		// A·Bᵀ, k <= smallK: columns past a multiple of 8.
		const m, kk, ldb = 6, 10, 10
		a, b, c0 := normals32(r, m*kk), normals32(r, 40*ldb), normals32(r, m*40)
		short, tall := append([]float32(nil), c0...), append([]float32(nil), c0...)
		if !gemmSmallK32(m, 13, kk, 1, a, kk, b, ldb, beta, short, 40) || !gemmSmallK32(m, 16, kk, 1, a, kk, b, ldb, beta, tall, 40) {
			t.Fatalf("small k, beta %g: refused", beta)
		}
		same(fmt.Sprintf("small k/n=13/beta=%g", beta), m, 13, short, tall, 40)
	}
}

// normals32 returns n standard normal float32s from r.
func normals32(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// checkGemm32 checks C (m rows of ldc, c0 before the product) against
// op(A)·op(B) + beta*C0 in float64, element (i, j) of op(A) being at(i, l)
// and of op(B) bt(l, j), to the error bound of a float32 dot product, k+1
// ulps of sum |A||B| (+|C0|), and that the columns of C past n are
// untouched.
func checkGemm32(t *testing.T, name string, m, n, k int, at, bt func(int, int) float32, beta float64, c0, c []float32, ldc int) {
	t.Helper()
	for i := range m {
		for j := range ldc {
			got := c[i*ldc+j]
			if j >= n {
				if got != c0[i*ldc+j] {
					t.Fatalf("%s: C[%d,%d] outside the product changed", name, i, j)
				}
				continue
			}
			var want, mag float64
			for l := range k {
				p := float64(at(i, l)) * float64(bt(l, j))
				want += p
				mag += math.Abs(p)
			}
			if beta == 1 {
				want += float64(c0[i*ldc+j])
				mag += math.Abs(float64(c0[i*ldc+j]))
			}
			if d := math.Abs(float64(got) - want); d > float64(k+1)*0x1p-24*mag {
				t.Fatalf("%s: C[%d,%d] = %v, want %v (|error| %g, bound %g)", name, i, j, got, want, d, float64(k+1)*0x1p-24*mag)
			}
		}
	}
}
