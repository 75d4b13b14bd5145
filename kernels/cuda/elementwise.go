package cuda

import "github.com/curvprobe/curvprobe/kernels"

// Launchers of elementwise.cu. Each checks its arguments as kernels/cpu
// does (the same panics), then queues the kernel; dst may alias inputs as
// the Backend contract allows.

// AddRow adds the row vector v (length cols) to every row of the rows×cols
// matrix x (add_row):
//
//	for i < rows, j < cols: x[i*cols+j] += v[j]
func (bk *Backend[T]) AddRow(x, v kernels.Buffer, rows, cols int) {
	xp, vp := bk.ptr(x), bk.ptr(v)
	if rows < 0 || cols < 0 || bk.length(x) != rows*cols || bk.length(v) != cols {
		panic("kernels: AddRow dimension mismatch")
	}
	n := rows * cols
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kAddRow, elemGrid(n), blockSize, 1, k.ptr(xp).ptr(vp).idx(rows).idx(cols))
}

// ColSum sets dst[j] = alpha*sum_i x[i,j] + beta*dst[j] for the rows×cols
// matrix x, summing in float64 (col_sum: 32 columns per block, 8 row
// partial sums per column added in a fixed order). With beta = 0, dst is
// not read. dst must not alias x.
//
//	for j < cols: s := 0.0; for i < rows { s += x[i*cols+j] }; dst[j] = alpha*s + beta*dst[j]
func (bk *Backend[T]) ColSum(dst, x kernels.Buffer, rows, cols int, alpha, beta float64) {
	dp, xp := bk.ptr(dst), bk.ptr(x)
	if rows < 0 || cols < 0 || bk.length(x) != rows*cols || bk.length(dst) != cols {
		panic("kernels: ColSum dimension mismatch")
	}
	if cols == 0 {
		return
	}
	var k kargs
	grid := rowGrid((cols+31)/32, maxRowGrid)
	bk.run(kColSum, grid, 32, 8, k.ptr(dp).ptr(xp).idx(rows).idx(cols).f64(alpha).f64(beta))
}

// Activate sets a = s(z) and, where d1 and d2 are non-nil, d1 = s'(z) and
// d2 = s"(z) (the second derivative), elementwise, each evaluated in float64 as
// kernels/cpu.ActivationAt and rounded once to T (activate). a may alias
// z; d1 and d2 may not.
//
//	for i := range z { a[i], d1[i], d2[i] = ActivationAt(act, z[i]) }
func (bk *Backend[T]) Activate(act kernels.Activation, z, a, d1, d2 kernels.Buffer) {
	zp, ap, d1p, d2p := bk.ptr(z), bk.ptr(a), bk.ptr(d1), bk.ptr(d2)
	n := bk.length(z)
	if bk.length(a) != n || (d1 != nil && bk.length(d1) != n) || (d2 != nil && bk.length(d2) != n) {
		panic("kernels: Activate length mismatch")
	}
	if act < kernels.Linear || act > kernels.Softplus {
		panic("kernels: unknown activation")
	}
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kActivate, elemGrid(n), blockSize, 1, k.i32(int32(act)).ptr(zp).ptr(ap).ptr(d1p).ptr(d2p).idx(n))
}

// products checks the lengths of a product kernel's buffers and returns
// their pointers and common length.
func (bk *Backend[T]) products(what string, dst kernels.Buffer, in ...kernels.Buffer) ([]uintptr, int) {
	n := bk.length(dst)
	ps := []uintptr{bk.ptr(dst)}
	for _, b := range in {
		ps = append(ps, bk.ptr(b))
		if bk.length(b) != n {
			panic("kernels: " + what + " length mismatch")
		}
	}
	return ps, n
}

// Mul sets dst[i] = x[i]*y[i] (mul; the float64 product of two T values
// rounded once, which equals T's own product). dst may alias x or y.
func (bk *Backend[T]) Mul(dst, x, y kernels.Buffer) {
	p, n := bk.products("Mul", dst, x, y)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kMul, elemGrid(n), blockSize, 1, k.ptr(p[0]).ptr(p[1]).ptr(p[2]).idx(n))
}

// MulAdd sets dst[i] += x[i]*y[i], evaluated in float64 and rounded once
// (mul_add). dst may alias x or y.
func (bk *Backend[T]) MulAdd(dst, x, y kernels.Buffer) {
	p, n := bk.products("MulAdd", dst, x, y)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kMulAdd, elemGrid(n), blockSize, 1, k.ptr(p[0]).ptr(p[1]).ptr(p[2]).idx(n))
}

// Mul3Add sets dst[i] += x[i]*y[i]*z[i], evaluated in float64 and rounded
// once (mul3_add). dst may alias any input.
func (bk *Backend[T]) Mul3Add(dst, x, y, z kernels.Buffer) {
	p, n := bk.products("Mul3Add", dst, x, y, z)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kMul3Add, elemGrid(n), blockSize, 1, k.ptr(p[0]).ptr(p[1]).ptr(p[2]).ptr(p[3]).idx(n))
}
