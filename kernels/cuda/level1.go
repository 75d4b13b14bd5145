package cuda

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// cublasChunk is the most elements one cuBLAS level-1 call takes here
// (its n is a 32-bit int).
const cublasChunk = 1 << 30

// forChunks calls f(o, m) for the successive chunks of at most chunk of n
// elements of sz bytes each, with o the chunk's byte offset and m its
// length, until f returns false (a failed cuBLAS call).
func forChunks(n, chunk int, sz uintptr, f func(o uintptr, m int32) bool) {
	for off := 0; off < n; off += chunk {
		if !f(uintptr(off)*sz, int32(min(n-off, chunk))) {
			return
		}
	}
}

// Copy sets dst = src (cuMemcpyDtoDAsync). dst and src may overlap: an
// exact alias is a no-op, a partial overlap goes through a temporary.
func (bk *Backend[T]) Copy(dst, src kernels.Buffer) {
	dp, sp := bk.ptr(dst), bk.ptr(src)
	n := bk.length(dst)
	if n != bk.length(src) {
		panic("kernels: Copy length mismatch")
	}
	if n == 0 || dp == sp {
		return
	}
	bytes := uintptr(n) * elemSize[T]()
	if dp < sp+bytes && sp < dp+bytes {
		tmp := bk.Alloc(n)
		defer bk.Free(tmp)
		bk.Copy(tmp, src)
		bk.Copy(dst, tmp)
		return
	}
	d := bk.dev
	d.do(func() {
		d.check("cuMemcpyDtoDAsync_v2", d.drv.cuMemcpyDtoDAsync(dp, sp, uint64(bytes), d.stream))
	})
}

// Fill sets every element of dst to T(a): cuMemsetD8Async when T(a) is +0,
// else the fill kernel (elementwise.cu):
//
//	for i := range dst { dst[i] = T(a) }
func (bk *Backend[T]) Fill(dst kernels.Buffer, a float64) {
	p, n := bk.ptr(dst), bk.length(dst)
	if n == 0 {
		return
	}
	if v := T(a); v == 0 && !math.Signbit(float64(v)) {
		d := bk.dev
		d.do(func() {
			d.check("cuMemsetD8Async", d.drv.cuMemsetD8Async(p, 0, uint64(n)*uint64(elemSize[T]()), d.stream))
		})
		return
	}
	var k kargs
	bk.run(kFill, elemGrid(n), blockSize, 1, k.ptr(p).f64(a).idx(n))
}

// Dot returns x . y accumulated in float64 by the dot kernel (reduce.cu),
// for float32 as for float64 (cuBLAS sdot would accumulate in float32):
//
//	s := 0.0; for i { s += float64(x[i])*float64(y[i]) }
func (bk *Backend[T]) Dot(x, y kernels.Buffer) float64 {
	xp, yp, n := bk.ptr(x), bk.ptr(y), bk.length(x)
	if n != bk.length(y) {
		panic("kernels: Dot length mismatch")
	}
	if n == 0 {
		return 0
	}
	var k kargs
	s, _ := bk.runReduce(kDot, reduceGrid(n), blockSize, k.ptr(xp).ptr(yp).idx(n), false)
	return s
}

// Axpy sets y = alpha*x + y (cuBLAS saxpy/daxpy, alpha rounded to T). x and
// y may be the same buffer.
func (bk *Backend[T]) Axpy(alpha float64, x, y kernels.Buffer) {
	xp, yp, n := bk.ptr(x), bk.ptr(y), bk.length(x)
	if n != bk.length(y) {
		panic("kernels: Axpy length mismatch")
	}
	if n == 0 {
		return
	}
	d, sz := bk.dev, elemSize[T]()
	d.do(func() {
		forChunks(n, cublasChunk, sz, func(o uintptr, m int32) bool {
			if bk.prec == 0 {
				a := float32(alpha)
				return d.checkBLAS("cublasSaxpy_v2", d.blas.saxpy(d.handle, m, &a, xp+o, 1, yp+o, 1))
			}
			return d.checkBLAS("cublasDaxpy_v2", d.blas.daxpy(d.handle, m, &alpha, xp+o, 1, yp+o, 1))
		})
	})
}

// Scale sets x = alpha*x (cuBLAS sscal/dscal). alpha = 0 sets x to zero
// whatever x holds (a memset), as the CPU backend pins it.
func (bk *Backend[T]) Scale(alpha float64, x kernels.Buffer) {
	xp, n := bk.ptr(x), bk.length(x)
	if n == 0 {
		return
	}
	if alpha == 0 {
		bk.Fill(x, 0)
		return
	}
	d, sz := bk.dev, elemSize[T]()
	d.do(func() {
		forChunks(n, cublasChunk, sz, func(o uintptr, m int32) bool {
			if bk.prec == 0 {
				a := float32(alpha)
				return d.checkBLAS("cublasSscal_v2", d.blas.sscal(d.handle, m, &a, xp+o, 1))
			}
			return d.checkBLAS("cublasDscal_v2", d.blas.dscal(d.handle, m, &alpha, xp+o, 1))
		})
	})
}

// Nrm2 returns the Euclidean norm of x: the square root of the float64 sum
// of squares from the sumsq kernel (reduce.cu), which cannot overflow or
// underflow for float32 inputs. For float64 inputs whose sum of squares
// overflows or may have underflowed (below 2^-900), it falls back to cuBLAS
// dnrm2, which scales.
//
//	s := 0.0; for i { s += float64(x[i])*float64(x[i]) }; return sqrt(s)
func (bk *Backend[T]) Nrm2(x kernels.Buffer) float64 {
	xp, n := bk.ptr(x), bk.length(x)
	if n == 0 {
		return 0
	}
	var k kargs
	ss, _ := bk.runReduce(kSumsq, reduceGrid(n), blockSize, k.ptr(xp).idx(n), false)
	if bk.prec == 0 || math.IsNaN(ss) || (ss >= 0x1p-900 && !math.IsInf(ss, 1)) {
		return math.Sqrt(ss)
	}
	var r float64
	d := bk.dev
	d.do(func() {
		if n > math.MaxInt32 {
			// Rare (huge or tiny float64 values in a vector of 2^31
			// elements): the unscaled sum is the best we have.
			r = math.Sqrt(ss)
			return
		}
		if !d.checkBLAS("cublasDnrm2_v2", d.blas.dnrm2(d.handle, int32(n), xp, 1, &r)) {
			r = math.NaN()
		}
	})
	return r
}

// Rademacher fills dst with dst[i] = kernels.RademacherAt(seed, i), i
// counted from the start of dst (rand.cu).
func (bk *Backend[T]) Rademacher(dst kernels.Buffer, seed uint64) {
	p, n := bk.ptr(dst), bk.length(dst)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kRademacher, elemGrid(n), blockSize, 1, k.ptr(p).idx(n).u64(seed))
}

// Normal fills dst with dst[i] = T(kernels.NormalAt(seed, i)), i counted
// from the start of dst (rand.cu; Box-Muller in double with CUDA's log,
// sqrt and cos, within a few float64 ulps of Go's).
func (bk *Backend[T]) Normal(dst kernels.Buffer, seed uint64) {
	p, n := bk.ptr(dst), bk.length(dst)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kNormal, elemGrid(n), blockSize, 1, k.ptr(p).idx(n).u64(seed))
}
