package cuda

import "github.com/curvprobe/curvprobe/kernels"

// Launchers of loss.cu. The row kernels run one block per row (rowBlock
// threads) over at most maxPartials blocks; the losses and the count come
// back through Device.reduce as one float64.

// SoftmaxCE computes, for the rows×cols logits z and class labels (stored
// as T, integers in [0, cols)), the row softmax p and the gradient d =
// scale*(p - onehot(labels)), and returns sum_i -log p[i, label_i], each
// row in float64 with its maximum subtracted (softmax_ce):
//
//	m := max_j z[i,j]; s := sum_j exp(z[i,j] - m)
//	loss += log(s) - (z[i,label_i] - m)
//	p[i,j] = exp(z[i,j] - m)/s; d[i,j] = scale*(p[i,j] - [j == label_i])
//
// p and d may be nil, and either may alias z. A label that is not an
// integer in [0, cols) panics (after the kernel, which flags it).
func (bk *Backend[T]) SoftmaxCE(z, labels, p, d kernels.Buffer, rows, cols int, scale float64) float64 {
	zp, lp, pp, dp := bk.ptr(z), bk.ptr(labels), bk.ptr(p), bk.ptr(d)
	if rows < 0 || cols < 0 || bk.length(z) != rows*cols || bk.length(labels) != rows ||
		(p != nil && bk.length(p) != rows*cols) || (d != nil && bk.length(d) != rows*cols) {
		panic("kernels: SoftmaxCE dimension mismatch")
	}
	if rows == 0 {
		return 0
	}
	if cols == 0 {
		panic("kernels: label out of range")
	}
	var k kargs
	k.ptr(zp).ptr(lp).ptr(pp).ptr(dp).idx(rows).idx(cols).f64(scale)
	loss, bad := bk.runReduce(kSoftmaxCE, rowGrid(rows, maxPartials), rowBlock(cols), &k, true)
	if bad {
		panic("kernels: label out of range")
	}
	return loss
}

// SoftmaxHVP sets, row-wise, dst = scale*(p*r - p*(p . r)), in float64
// (softmax_hvp). dst may alias p or r.
//
//	for i < rows: q := sum_j p[i,j]*r[i,j]; dst[i,j] = scale*(p[i,j]*r[i,j] - p[i,j]*q)
func (bk *Backend[T]) SoftmaxHVP(dst, p, r kernels.Buffer, rows, cols int, scale float64) {
	dp, pp, rp := bk.ptr(dst), bk.ptr(p), bk.ptr(r)
	if rows < 0 || cols < 0 || bk.length(p) != rows*cols || bk.length(r) != rows*cols || bk.length(dst) != rows*cols {
		panic("kernels: SoftmaxHVP dimension mismatch")
	}
	if rows == 0 || cols == 0 {
		return
	}
	var k kargs
	bk.run(kSoftmaxHVP, rowGrid(rows, maxRowGrid), rowBlock(cols), 1, k.ptr(dp).ptr(pp).ptr(rp).idx(rows).idx(cols).f64(scale))
}

// SquaredError computes, for outputs z and targets y of the same length,
// d = 2*scale*(z - y) (d may be nil, and may alias z or y) and returns
// sum (z - y)^2 in float64 (squared_error):
//
//	for i: r := z[i] - y[i]; loss += r*r; d[i] = 2*scale*r
func (bk *Backend[T]) SquaredError(z, y, d kernels.Buffer, scale float64) float64 {
	zp, yp, dp := bk.ptr(z), bk.ptr(y), bk.ptr(d)
	n := bk.length(z)
	if bk.length(y) != n || (d != nil && bk.length(d) != n) {
		panic("kernels: SquaredError length mismatch")
	}
	if n == 0 {
		return 0
	}
	var k kargs
	loss, _ := bk.runReduce(kSquaredError, reduceGrid(n), blockSize, k.ptr(zp).ptr(yp).ptr(dp).idx(n).f64(scale), false)
	return loss
}

// CountCorrect returns the number of rows of the rows×cols matrix z whose
// first maximal column equals the row's label (count_correct). Labels are
// validated as in SoftmaxCE.
//
//	for i < rows: best := 0; for j, v := range row { if v > row[best] { best = j } }; if best == label_i { n++ }
func (bk *Backend[T]) CountCorrect(z, labels kernels.Buffer, rows, cols int) int {
	zp, lp := bk.ptr(z), bk.ptr(labels)
	if rows < 0 || cols < 0 || bk.length(z) != rows*cols || bk.length(labels) != rows {
		panic("kernels: CountCorrect dimension mismatch")
	}
	if rows == 0 {
		return 0
	}
	if cols == 0 {
		panic("kernels: label out of range")
	}
	var k kargs
	n, bad := bk.runReduce(kCountCorrect, rowGrid(rows, maxPartials), rowBlock(cols), k.ptr(zp).ptr(lp).idx(rows).idx(cols), true)
	if bad {
		panic("kernels: label out of range")
	}
	return int(n)
}
