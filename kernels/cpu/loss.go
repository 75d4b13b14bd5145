package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// label returns the class index stored in l, panicking unless it is an
// integer in [0, cols).
func label[T kernels.Float](l T, cols int) int {
	f := float64(l)
	if !(f >= 0 && f < float64(cols)) || f != math.Trunc(f) {
		panic("kernels: label out of range")
	}
	return int(f)
}

// SoftmaxCE computes, for the rows×cols logits z and class labels (stored
// as T, integers in [0, cols), length rows), the row softmax p and the
// gradient d = scale*(p - onehot(labels)), and returns
// sum_i -log p[i, label_i]. Each row is evaluated in float64 with its maximum
// subtracted:
//
//	m := max_j z[i,j]; s := sum_j exp(z[i,j] - m)
//	loss += log(s) - (z[i,label_i] - m)
//	p[i,j] = exp(z[i,j] - m)/s; d[i,j] = scale*(p[i,j] - [j == label_i])
//
// p and d may be nil, and either may alias z. A label that is not an integer
// in [0, cols) panics: loaders validate labels.
func (*Backend[T]) SoftmaxCE(z, labels, p, d kernels.Buffer, rows, cols int, scale float64) float64 {
	zs, ls := data[T](z), data[T](labels)
	ps, ds := data[T](p), data[T](d)
	if rows < 0 || cols < 0 || len(zs) != rows*cols || len(ls) != rows ||
		(p != nil && len(ps) != rows*cols) || (d != nil && len(ds) != rows*cols) {
		panic("kernels: SoftmaxCE dimension mismatch")
	}
	var loss float64
	// ex holds a row's exp(z - m), so that each is computed once.
	var ex []float64
	if p != nil || d != nil {
		ex = make([]float64, cols)
	}
	for i := range rows {
		lab := label(ls[i], cols)
		row := zs[i*cols : (i+1)*cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, float64(v))
		}
		var s float64
		for j, v := range row {
			e := math.Exp(float64(v) - m)
			s += e
			if ex != nil {
				ex[j] = e // read before p or d overwrite z
			}
		}
		loss += math.Log(s) - (float64(row[lab]) - m)
		if p == nil && d == nil {
			continue
		}
		for j := range row {
			pj := ex[j] / s
			if ps != nil {
				ps[i*cols+j] = T(pj)
			}
			if ds != nil {
				if j == lab {
					pj--
				}
				ds[i*cols+j] = T(scale * pj)
			}
		}
	}
	return loss
}

// SoftmaxHVP sets, row-wise, dst = scale*(p*r - p*(p . r)), the softmax
// cross-entropy Hessian (times scale) applied to r, in float64. dst may
// alias p or r.
//
//	for i < rows: q := sum_j p[i,j]*r[i,j]; dst[i,j] = scale*p[i,j]*(r[i,j] - q)
func (*Backend[T]) SoftmaxHVP(dst, p, r kernels.Buffer, rows, cols int, scale float64) {
	ds, ps, rs := data[T](dst), data[T](p), data[T](r)
	if rows < 0 || cols < 0 || len(ps) != rows*cols || len(rs) != rows*cols || len(ds) != rows*cols {
		panic("kernels: SoftmaxHVP dimension mismatch")
	}
	for i := range rows {
		pr, rr, dr := ps[i*cols:(i+1)*cols], rs[i*cols:(i+1)*cols], ds[i*cols:(i+1)*cols]
		var q float64
		for j, pj := range pr {
			q += float64(pj) * float64(rr[j])
		}
		for j := range dr {
			pj := float64(pr[j])
			dr[j] = T(scale * (pj*float64(rr[j]) - pj*q))
		}
	}
}

// SquaredError computes, for outputs z and targets y of the same length,
// d = 2*scale*(z - y) (d may be nil, and may alias z or y) and returns
// sum (z - y)^2, in float64.
func (*Backend[T]) SquaredError(z, y, d kernels.Buffer, scale float64) float64 {
	zs, ys, ds := data[T](z), data[T](y), data[T](d)
	if len(ys) != len(zs) || (d != nil && len(ds) != len(zs)) {
		panic("kernels: SquaredError length mismatch")
	}
	var loss float64
	for i := range zs {
		r := float64(zs[i]) - float64(ys[i])
		loss += r * r
		if ds != nil {
			ds[i] = T(2 * scale * r)
		}
	}
	return loss
}

// CountCorrect returns the number of rows of the rows×cols matrix z whose
// first maximal column equals the row's label. Labels are validated as in
// SoftmaxCE.
func (*Backend[T]) CountCorrect(z, labels kernels.Buffer, rows, cols int) int {
	zs, ls := data[T](z), data[T](labels)
	if rows < 0 || cols < 0 || len(zs) != rows*cols || len(ls) != rows {
		panic("kernels: CountCorrect dimension mismatch")
	}
	n := 0
	for i := range rows {
		lab := label(ls[i], cols)
		row := zs[i*cols : (i+1)*cols]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == lab {
			n++
		}
	}
	return n
}
