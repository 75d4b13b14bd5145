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
	if a == 0 && !math.Signbit(a) {
		clear(d) // the runtime's vectorised zeroing: +0 is all bits zero
		return
	}
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
		return dot32(f32(xs), f32(ys))
	}
	return bk.b64.Ddot(len(xs), f64(xs), 1, f64(ys), 1)
}

// dot32 returns the sum of float64(x[i])*float64(y[i]) (each product exact
// in float64) in eight partial sums, element i into partial i%8 in index
// order, combined pairwise at the end: the lanes of the assembly (dotF32),
// which the Go loop follows so that both give the same bits, whatever the
// BLAS and instruction set.
//
// Lanczos takes one or two dot products of a parameter vector per product
// and its reorthogonalisation one per basis vector; gonum's dsdot converts
// and adds two at a time. Nrm2 is sqrt(dot32(x, x)).
//
//	p[i%8] += float64(x[i])*float64(y[i]); s = ((p0+p4)+(p1+p5)) + ((p2+p6)+(p3+p7))
func dot32(x, y []float32) float64 {
	var p [8]float64
	n := len(x) &^ 7
	if !dotF32(&p, x, y) {
		for i := 0; i < n; i += 8 {
			for j, v := range x[i : i+8] {
				p[j] += float64(v) * float64(y[i+j])
			}
		}
	}
	for j, v := range x[n:] {
		p[j] += float64(v) * float64(y[n+j])
	}
	return ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]))
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
// overflow or underflow for float32 inputs): sqrt(Dot(x, x)), bit for bit.
func (bk *Backend[T]) Nrm2(x kernels.Buffer) float64 {
	xs := data[T](x)
	if is32[T]() {
		return math.Sqrt(dot32(f32(xs), f32(xs)))
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
