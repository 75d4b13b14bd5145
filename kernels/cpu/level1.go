package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Copy sets dst = src. dst and src may overlap.
func (*Backend[T]) Copy(dst, src kernels.Buffer) {
	d, s := data[T](dst), data[T](src)
	if len(d) != len(s) {
		panic("kernels: Copy length mismatch")
	}
	copy(d, s)
}

// Fill sets every element of dst to T(a).
//
//	for i := range dst { dst[i] = T(a) }
func (*Backend[T]) Fill(dst kernels.Buffer, a float64) {
	d := data[T](dst)
	v := T(a)
	for i := range d {
		d[i] = v
	}
}

// Dot returns x . y accumulated in float64 (BLAS ddot; dsdot for float32,
// which forms the products in float64 too).
func (bk *Backend[T]) Dot(x, y kernels.Buffer) float64 {
	xs, ys := data[T](x), data[T](y)
	if len(xs) != len(ys) {
		panic("kernels: Dot length mismatch")
	}
	if is32[T]() {
		return bk.b32.Dsdot(len(xs), f32(xs), 1, f32(ys), 1)
	}
	return bk.b64.Ddot(len(xs), f64(xs), 1, f64(ys), 1)
}

// Axpy sets y = alpha*x + y (BLAS saxpy/daxpy with alpha rounded to T).
// x and y may be the same buffer.
func (bk *Backend[T]) Axpy(alpha float64, x, y kernels.Buffer) {
	xs, ys := data[T](x), data[T](y)
	if len(xs) != len(ys) {
		panic("kernels: Axpy length mismatch")
	}
	if len(xs) == 0 {
		return
	}
	if is32[T]() {
		bk.b32.Saxpy(len(xs), float32(alpha), f32(xs), 1, f32(ys), 1)
		return
	}
	bk.b64.Daxpy(len(xs), alpha, f64(xs), 1, f64(ys), 1)
}

// Scale sets x = alpha*x (BLAS sscal/dscal). alpha = 0 sets x to zero
// whatever x holds, as in the reference BLAS.
func (bk *Backend[T]) Scale(alpha float64, x kernels.Buffer) {
	xs := data[T](x)
	if len(xs) == 0 {
		return
	}
	if alpha == 0 {
		// OpenBLAS versions disagree on 0*NaN; pin the BLAS convention.
		clear(xs)
		return
	}
	if is32[T]() {
		bk.b32.Sscal(len(xs), float32(alpha), f32(xs), 1)
		return
	}
	bk.b64.Dscal(len(xs), alpha, f64(xs), 1)
}

// Nrm2 returns the Euclidean norm of x: BLAS dnrm2 for float64, and for
// float32 the square root of a float64 sum of squares (which cannot
// overflow or underflow for float32 inputs), by dsdot, Dot's vectorised
// routine: sqrt(Dot(x, x)) bit for bit, about 4x faster than a scalar loop
// (Lanczos takes two or three norms of a parameter vector per product).
func (bk *Backend[T]) Nrm2(x kernels.Buffer) float64 {
	xs := data[T](x)
	if is32[T]() {
		return math.Sqrt(bk.b32.Dsdot(len(xs), f32(xs), 1, f32(xs), 1))
	}
	return bk.b64.Dnrm2(len(xs), f64(xs), 1)
}

// Rademacher fills dst with dst[i] = kernels.RademacherAt(seed, i), i
// counted from the start of dst.
func (*Backend[T]) Rademacher(dst kernels.Buffer, seed uint64) {
	d := data[T](dst)
	parallel(len(d), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = T(kernels.RademacherAt(seed, uint64(i)))
		}
	})
}

// Normal fills dst with dst[i] = T(kernels.NormalAt(seed, i)), i counted
// from the start of dst.
func (*Backend[T]) Normal(dst kernels.Buffer, seed uint64) {
	d := data[T](dst)
	parallel(len(d), costTranscendental, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = T(kernels.NormalAt(seed, uint64(i)))
		}
	})
}
