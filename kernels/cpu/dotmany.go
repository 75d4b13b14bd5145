package cpu

import "github.com/curvprobe/curvprobe/kernels"

// DotMany sets dst[i] = q[i] . x for every i, each equal bit for bit to
// Dot(q[i], x): the Gram-Schmidt coefficients of x against a Krylov basis
// (probe.MultiSpace). The dot products are shared out across cores, each
// computed whole by one, so the result does not depend on the thread count.
//
//	for i := range q { dst[i] = Dot(q[i], x) }
func (bk *Backend[T]) DotMany(dst []float64, q []kernels.Buffer, x kernels.Buffer) {
	if len(dst) != len(q) {
		panic("kernels: DotMany length mismatch")
	}
	n := x.Len()
	for _, v := range q {
		if v.Len() != n {
			panic("kernels: DotMany length mismatch")
		}
	}
	parallel(len(q), n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dst[i] = bk.Dot(q[i], x)
		}
	})
}

// axpyBlock is the number of elements of y that AxpyMany updates with every
// vector before moving on: 32 KiB of float32, so the block of y stays in
// the L1 cache while the vectors stream past it.
const axpyBlock = 8192

// AxpyMany sets y = y + alpha[0]*q[0] + alpha[1]*q[1] + ..., equal bit for
// bit to the Axpy calls in that order: the Gram-Schmidt update of y against
// a Krylov basis (probe.MultiSpace). It works through y one cache-sized
// block at a time, applying every vector to the block before the next, so
// y is read and written once instead of once per vector, and shares the
// blocks out across cores (elementwise, so the thread count changes
// nothing). y must not alias any q[i].
//
//	for i := range q { Axpy(alpha[i], q[i], y) }
func (bk *Backend[T]) AxpyMany(alpha []float64, q []kernels.Buffer, y kernels.Buffer) {
	if len(alpha) != len(q) {
		panic("kernels: AxpyMany length mismatch")
	}
	ys := data[T](y)
	qs := make([][]T, len(q))
	for i, v := range q {
		qs[i] = data[T](v)
		if len(qs[i]) != len(ys) {
			panic("kernels: AxpyMany length mismatch")
		}
	}
	blocks := (len(ys) + axpyBlock - 1) / axpyBlock
	parallel(blocks, axpyBlock*len(q), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			s, e := b*axpyBlock, min((b+1)*axpyBlock, len(ys))
			for i, a := range alpha {
				if is32[T]() {
					bk.b32.Saxpy(e-s, float32(a), f32(qs[i][s:e]), 1, f32(ys[s:e]), 1)
				} else {
					bk.b64.Daxpy(e-s, a, f64(qs[i][s:e]), 1, f64(ys[s:e]), 1)
				}
			}
		}
	})
}
