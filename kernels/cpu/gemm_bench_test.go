package cpu

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
)

// BenchmarkGemmFused measures whether the R-operator's pairs of GEMMs with
// the same output (Rz = a·V + Ra·W; u = Rd·Wᵀ + d·Vᵀ; Hv_W = aᵀ·Rd + Raᵀ·d)
// run faster as one GEMM over a doubled inner dimension, at the shapes of
// 784x512x512x10 with a batch of 512 (the hidden layer's 512×512×512), in
// float32 at 1 and 2 OpenBLAS threads. "split" is two GEMMs into the same C
// (beta 0 then 1), "fused" one with k doubled (operands side by side, or
// stacked for the transposed A).
func BenchmarkGemmFused(b *testing.B) {
	be := openBLASBackend(b)
	buf := func(size int, seed uint64) kernels.Buffer {
		x := be.Alloc(size)
		be.Normal(x, seed)
		return x
	}
	for _, threads := range []int{1, 2} {
		for _, c := range []struct {
			name    string
			tA, tB  kernels.Trans
			m, n, k int // op(A) is m×k, op(B) k×n, for each of the pair
		}{
			{"Rz/hidden", kernels.NoTrans, kernels.NoTrans, 512, 512, 512},
			{"Rz/out", kernels.NoTrans, kernels.NoTrans, 512, 10, 512},
			{"HvW/hidden", kernels.Transpose, kernels.NoTrans, 512, 512, 512},
			{"HvW/out", kernels.Transpose, kernels.NoTrans, 512, 10, 512},
			{"u/hidden", kernels.NoTrans, kernels.Transpose, 512, 512, 512},
			{"u/out", kernels.NoTrans, kernels.Transpose, 512, 512, 10},
		} {
			m, n, k := c.m, c.n, c.k
			a1, a2, b1, b2, cc := buf(m*k, 1), buf(m*k, 2), buf(k*n, 3), buf(k*n, 4), buf(m*n, 5)
			af, bf := buf(2*m*k, 6), buf(2*k*n, 7)
			// Leading dimensions of the pair and of the fused operands: side
			// by side along k for an untransposed A and a transposed B,
			// stacked (the same leading dimension) otherwise.
			lda, ldaF, ldb, ldbF := k, 2*k, n, n
			if c.tA {
				lda, ldaF = m, m
			}
			if c.tB {
				ldb, ldbF = k, 2*k
			}
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				SetThreads(threads)
				split := func() {
					be.Gemm(c.tA, c.tB, m, n, k, 1, a1, lda, b1, ldb, 0, cc, n)
					be.Gemm(c.tA, c.tB, m, n, k, 1, a2, lda, b2, ldb, 1, cc, n)
				}
				fused := func() { be.Gemm(c.tA, c.tB, m, n, 2*k, 1, af, ldaF, bf, ldbF, 0, cc, n) }
				interleaved(b, split, fused)
			})
		}
	}
}

// interleaved times f and g alternately b.N times each, so that a change
// in the machine's load affects both, and reports their medians in ms and
// the median of the per-pair ratios g/f.
func interleaved(b *testing.B, f, g func()) {
	f()
	g()
	tf, tg, r := make([]float64, 0, b.N), make([]float64, 0, b.N), make([]float64, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		f()
		t1 := time.Now()
		g()
		t2 := time.Now()
		df, dg := t1.Sub(t0).Seconds()*1e3, t2.Sub(t1).Seconds()*1e3
		if i%2 == 1 { // alternate which goes first
			t0 = time.Now()
			g()
			t1 = time.Now()
			f()
			t2 = time.Now()
			dg, df = t1.Sub(t0).Seconds()*1e3, t2.Sub(t1).Seconds()*1e3
		}
		tf, tg, r = append(tf, df), append(tg, dg), append(r, dg/df)
	}
	b.ReportMetric(medianOf(tf), "ms-first")
	b.ReportMetric(medianOf(tg), "ms-second")
	b.ReportMetric(medianOf(r), "second/first")
}

// inHalves returns a function that runs f on [0, n) as two goroutines,
// f(n/2, n) on a new one and f(0, n/2) on the caller's, and waits for both.
func inHalves(f func(lo, hi int), n int) func() {
	return func() {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(n/2, n)
		}()
		f(0, n/2)
		wg.Wait()
	}
}

func medianOf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkGemmThreads compares OpenBLAS's own two threads ("first") with
// two goroutines each running a single-threaded OpenBLAS GEMM on half of
// C's rows ("second"), at the forward pass's 512×512×784 and the hidden
// 512×512×512, with beta = 1.
func BenchmarkGemmThreads(b *testing.B) {
	be := openBLASBackend(b)
	for _, k := range []int{784, 512} {
		const n, m = 512, 512
		a, w, c := be.Alloc(n*k), be.Alloc(k*m), be.Alloc(n*m)
		be.Normal(a, 1)
		be.Normal(w, 2)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			gemm := func(lo, hi int) {
				be.Gemm(kernels.NoTrans, kernels.NoTrans, hi-lo, m, k, 1, be.View(a, lo*k, (hi-lo)*k), k, w, m, 1, be.View(c, lo*m, (hi-lo)*m), m)
			}
			own := func() {
				SetThreads(2)
				gemm(0, n)
			}
			halves := inHalves(gemm, n)
			split := func() {
				SetThreads(1)
				halves()
			}
			interleaved(b, own, split)
		})
	}
}

// BenchmarkGemmNarrow compares OpenBLAS at 2 threads ("first") with 1
// ("second"), called directly (Gemm itself puts narrow products on one
// thread), on the products of a 10-wide output layer at batch 512 and
// 2048: the forward z = a·W (b×10, k b), the weight product aᵀ·d (b×10,
// k b) and the backward d·Wᵀ (b×b, k 10). It is the measurement behind
// narrowFlops.
func BenchmarkGemmNarrow(b *testing.B) {
	be := openBLASBackend(b)
	for _, c := range []struct {
		name    string
		tA, tB  kernels.Trans
		m, n, k int
	}{
		{"forward", kernels.NoTrans, kernels.NoTrans, 512, 10, 512},
		{"weights", kernels.Transpose, kernels.NoTrans, 512, 10, 512},
		{"backward", kernels.NoTrans, kernels.Transpose, 512, 512, 10},
		{"forward2048", kernels.NoTrans, kernels.NoTrans, 2048, 10, 2048},
		{"weights2048", kernels.Transpose, kernels.NoTrans, 2048, 10, 2048},
		{"backward2048", kernels.NoTrans, kernels.Transpose, 2048, 2048, 10},
	} {
		a, w, cc := be.Alloc(c.m*c.k), be.Alloc(c.k*c.n), be.Alloc(c.m*c.n)
		be.Normal(a, 1)
		be.Normal(w, 2)
		lda, ldb := c.k, c.n
		if c.tA {
			lda = c.m
		}
		if c.tB {
			ldb = c.k
		}
		b.Run(c.name, func(b *testing.B) {
			ta, tb := blasTrans(c.tA), blasTrans(c.tB)
			gemm := func(threads int) func() {
				return func() { // the BLAS itself: Gemm would pick one thread
					SetThreads(threads)
					be.b32.Sgemm(ta, tb, c.m, c.n, c.k, 1, Slice[float32](a), lda, Slice[float32](w), ldb, 0, Slice[float32](cc), c.n)
				}
			}
			interleaved(b, gemm(2), gemm(1))
		})
	}
}

// BenchmarkGemmBeta compares beta = 1 ("first") with beta = 0 ("second",
// where OpenBLAS scales C by beta in a pass of its own before the product),
// at the forward pass's shapes (batch 512) and 1 and 2 threads.
func BenchmarkGemmBeta(b *testing.B) {
	be := openBLASBackend(b)
	for _, threads := range []int{1, 2} {
		for _, s := range [][2]int{{784, 512}, {512, 512}, {512, 10}} {
			const n = 512
			k, m := s[0], s[1]
			a, w, c := be.Alloc(n*k), be.Alloc(k*m), be.Alloc(n*m)
			be.Normal(a, 1)
			be.Normal(w, 2)
			b.Run(fmt.Sprintf("%dx%d/threads=%d", k, m, threads), func(b *testing.B) {
				SetThreads(threads)
				gemm := func(beta float64) func() {
					return func() { be.Gemm(kernels.NoTrans, kernels.NoTrans, n, m, k, 1, a, k, w, m, beta, c, m) }
				}
				interleaved(b, gemm(1), gemm(0))
			})
		}
	}
}

// openBLASLoaded reports whether the backend's BLAS is OpenBLAS.
// openBLASBackend skips b unless OpenBLAS is loaded and returns a float32
// backend; the BLAS's thread count is reset to its default when b ends.
func openBLASBackend(b *testing.B) *Backend[float32] {
	b.Helper()
	if !openBLASLoaded() {
		b.Skip("OpenBLAS not loaded")
	}
	b.Cleanup(func() { SetThreads(0) })
	return New[float32]()
}

func openBLASLoaded() bool {
	return strings.HasPrefix(BLASName(), "OpenBLAS")
}

// BenchmarkSplitMemory compares, for the memory-bound float32 passes of a
// 512×512 layer (1 MiB, in L3), one loop ("first") with the loop split in
// two halves over two goroutines ("second"): the product Mul, the bias
// AddRow and the bias gradient's column sums (split by columns).
func BenchmarkSplitMemory(b *testing.B) {
	const rows, cols = 512, 512
	d, x, y := make([]float32, rows*cols), make([]float32, rows*cols), make([]float32, rows*cols)
	v, acc := make([]float32, cols), make([]float64, cols)
	for i := range x {
		x[i], y[i] = float32(kernels.NormalAt(1, uint64(i))), float32(kernels.NormalAt(2, uint64(i)))
	}
	for _, c := range []struct {
		name string
		f    func(lo, hi int)
		n    int
	}{
		{"Mul", func(lo, hi int) { mulF32(d[lo:hi], x[lo:hi], y[lo:hi]) }, rows * cols},
		{"AddRow", func(lo, hi int) {
			for i := lo; i < hi; i++ {
				addF32(d[i*cols:(i+1)*cols], v)
			}
		}, rows},
		{"ColSum", func(lo, hi int) {
			for i := range rows {
				addF32ToF64(acc[lo:hi], x[i*cols+lo:i*cols+hi])
			}
		}, cols},
	} {
		b.Run(c.name, func(b *testing.B) {
			interleaved(b, func() { c.f(0, c.n) }, inHalves(c.f, c.n))
		})
	}
}
