package models

import (
	"github.com/curvprobe/curvprobe/kernels"
)

// state holds one batch's forward and backward pass (everything the
// R-operator reuses) and the scratch of its tangent passes, sized for up to
// rows samples. Index l runs over weight layers 0..L-1.
type state struct {
	rows     int
	n        int // rows of the batch currently held
	z, a     []kernels.Buffer
	d1, d2   []kernels.Buffer // s'(z_l), s''(z_l) of hidden layers (nil on the last)
	p        kernels.Buffer   // softmax probabilities (cross-entropy)
	d, g     []kernels.Buffer // d_l = dLoss/dz_l, g_l = d_{l+1} W_{l+1}^T
	rz, ra   []kernels.Buffer
	rd       []kernels.Buffer
	u        kernels.Buffer
	lossSum  float64
	correct  int
	withD2   bool
	hasState bool
}

func (p *Plan[T]) newState(rows int, tangents bool) *state {
	be, L, w := p.be, p.spec.NumLayers(), p.spec.Layers
	st := &state{rows: rows}
	alloc := func(l int) kernels.Buffer { return be.Alloc(rows * w[l+1]) }
	maxw := 0
	for l := 0; l < L; l++ {
		st.z = append(st.z, alloc(l))
		st.d = append(st.d, alloc(l))
		if l < L-1 {
			st.a = append(st.a, alloc(l))
			st.d1 = append(st.d1, alloc(l))
			st.d2 = append(st.d2, alloc(l))
			st.g = append(st.g, alloc(l))
		} else {
			st.a = append(st.a, st.z[l])
			st.d1, st.d2, st.g = append(st.d1, nil), append(st.d2, nil), append(st.g, nil)
		}
		maxw = max(maxw, w[l])
	}
	if p.spec.Loss == CrossEntropy {
		st.p = be.Alloc(rows * p.spec.Outputs())
	}
	if tangents {
		for l := 0; l < L; l++ {
			st.rz = append(st.rz, alloc(l))
			st.rd = append(st.rd, alloc(l))
			if l < L-1 {
				st.ra = append(st.ra, alloc(l))
			} else {
				st.ra = append(st.ra, nil)
			}
		}
		st.u = be.Alloc(rows * maxw)
	}
	return st
}

func (p *Plan[T]) freeState(st *state) {
	L := p.spec.NumLayers()
	for l := 0; l < L; l++ {
		for _, b := range []kernels.Buffer{st.z[l], st.d[l], st.rz0(l), st.rd0(l)} {
			if b != nil {
				p.be.Free(b)
			}
		}
		if l < L-1 {
			for _, b := range []kernels.Buffer{st.a[l], st.d1[l], st.d2[l], st.g[l], st.ra0(l)} {
				if b != nil {
					p.be.Free(b)
				}
			}
		}
	}
	for _, b := range []kernels.Buffer{st.p, st.u} {
		if b != nil {
			p.be.Free(b)
		}
	}
}

func (st *state) rz0(l int) kernels.Buffer { return at(st.rz, l) }
func (st *state) rd0(l int) kernels.Buffer { return at(st.rd, l) }
func (st *state) ra0(l int) kernels.Buffer { return at(st.ra, l) }

func at(s []kernels.Buffer, l int) kernels.Buffer {
	if l < len(s) {
		return s[l]
	}
	return nil
}

// stateBytes estimates the memory of a state of the given rows.
func (p *Plan[T]) stateBytes(rows int, tangents bool) int64 {
	var size T
	elem := int64(8)
	if any(size) == any(float32(0)) {
		elem = 4
	}
	var n int64
	for l := 0; l < p.spec.NumLayers(); l++ {
		k := int64(2)
		if l < p.spec.NumLayers()-1 {
			k = 6
		}
		if tangents {
			k += 3
		}
		n += k * int64(rows*p.spec.Layers[l+1])
	}
	return n * elem
}

// batchData are the views of one batch of a Data set.
type batchData struct {
	n                 int
	x, labels, target kernels.Buffer
}

func (p *Plan[T]) batchOf(d *Data, start, n int) batchData {
	be := p.be
	D, C := p.spec.Inputs(), p.spec.Outputs()
	bd := batchData{n: n, x: be.View(d.x, start*D, n*D)}
	if d.labels != nil {
		bd.labels = be.View(d.labels, start, n)
	}
	if d.targets != nil {
		bd.target = be.View(d.targets, start*C, n*C)
	}
	return bd
}

// rowsView returns the first n rows of a layer buffer of width w.
func (p *Plan[T]) rowsView(b kernels.Buffer, n, w int) kernels.Buffer {
	if b == nil {
		return nil
	}
	return p.be.View(b, 0, n*w)
}

// forward runs the forward pass, the loss and the backward deltas of one
// batch into st. invN is 1/N for the dataset the batch belongs to, so that
// d_L is the batch's share of the full-dataset loss derivative.
func (p *Plan[T]) forward(st *state, bd batchData, invN float64, withD2 bool) {
	be, L, w := p.be, p.spec.NumLayers(), p.spec.Layers
	n := bd.n
	W, B := p.views(p.params)
	in := bd.x
	for l := 0; l < L; l++ {
		z := p.rowsView(st.z[l], n, w[l+1])
		be.Gemm(kernels.NoTrans, kernels.NoTrans, n, w[l+1], w[l], 1, in, w[l], W[l], w[l+1], 0, z, w[l+1])
		if p.spec.Bias {
			be.AddRow(z, B[l], n, w[l+1])
		}
		if l < L-1 {
			var d2 kernels.Buffer
			if withD2 {
				d2 = p.rowsView(st.d2[l], n, w[l+1])
			}
			a := p.rowsView(st.a[l], n, w[l+1])
			be.Activate(p.prog.Acts[l], z, a, p.rowsView(st.d1[l], n, w[l+1]), d2)
			in = a
		}
	}
	C := p.spec.Outputs()
	zL := p.rowsView(st.z[L-1], n, C)
	dL := p.rowsView(st.d[L-1], n, C)
	switch p.spec.Loss {
	case CrossEntropy:
		st.lossSum = be.SoftmaxCE(zL, bd.labels, p.rowsView(st.p, n, C), dL, n, C, invN)
	case MSE:
		st.lossSum = be.SquaredError(zL, bd.target, dL, invN/float64(C))
	}
	st.correct = -1
	if bd.labels != nil {
		st.correct = be.CountCorrect(zL, bd.labels, n, C)
	}
	for l := L - 1; l > 0; l-- {
		g := p.rowsView(st.g[l-1], n, w[l])
		be.Gemm(kernels.NoTrans, kernels.T, n, w[l], w[l+1], 1, p.rowsView(st.d[l], n, w[l+1]), w[l+1], W[l], w[l+1], 0, g, w[l])
		be.Mul(p.rowsView(st.d[l-1], n, w[l]), g, p.rowsView(st.d1[l-1], n, w[l]))
	}
	st.n, st.withD2, st.hasState = n, withD2, true
}

// input returns the input of layer l for the batch held in st.
func (p *Plan[T]) input(st *state, bd batchData, l int) kernels.Buffer {
	if l == 0 {
		return bd.x
	}
	return p.rowsView(st.a[l-1], st.n, p.spec.Layers[l])
}

// accumulateGrad adds the batch's gradient (already scaled by 1/N) to dst.
func (p *Plan[T]) accumulateGrad(st *state, bd batchData, dst kernels.Buffer) {
	be, L, w, n := p.be, p.spec.NumLayers(), p.spec.Layers, st.n
	GW, GB := p.views(dst)
	for l := 0; l < L; l++ {
		d := p.rowsView(st.d[l], n, w[l+1])
		be.Gemm(kernels.T, kernels.NoTrans, w[l], w[l+1], n, 1, p.input(st, bd, l), w[l], d, w[l+1], 1, GW[l], w[l+1])
		if p.spec.Bias {
			be.ColSum(GB[l], d, n, w[l+1], 1, 1)
		}
	}
}

// accumulateHVP adds the batch's share of H v (or G v when ggn) to dst, by
// the R-operator over the forward state in st.
func (p *Plan[T]) accumulateHVP(st, tan *state, bd batchData, v, dst kernels.Buffer, invN float64, ggn bool) {
	be, L, w, n := p.be, p.spec.NumLayers(), p.spec.Layers, st.n
	W, _ := p.views(p.params)
	V, c := p.views(v)
	HW, HB := p.views(dst)
	// Forward tangent.
	for l := 0; l < L; l++ {
		rz := p.rowsView(tan.rz[l], n, w[l+1])
		be.Gemm(kernels.NoTrans, kernels.NoTrans, n, w[l+1], w[l], 1, p.input(st, bd, l), w[l], V[l], w[l+1], 0, rz, w[l+1])
		if l > 0 {
			be.Gemm(kernels.NoTrans, kernels.NoTrans, n, w[l+1], w[l], 1, p.rowsView(tan.ra[l-1], n, w[l]), w[l], W[l], w[l+1], 1, rz, w[l+1])
		}
		if p.spec.Bias {
			be.AddRow(rz, c[l], n, w[l+1])
		}
		if l < L-1 {
			be.Mul(p.rowsView(tan.ra[l], n, w[l+1]), p.rowsView(st.d1[l], n, w[l+1]), rz)
		}
	}
	// Loss curvature.
	C := p.spec.Outputs()
	rdL := p.rowsView(tan.rd[L-1], n, C)
	rzL := p.rowsView(tan.rz[L-1], n, C)
	switch p.spec.Loss {
	case CrossEntropy:
		be.SoftmaxHVP(rdL, p.rowsView(st.p, n, C), rzL, n, C, invN)
	case MSE:
		be.Copy(rdL, rzL)
		be.Scale(2*invN/float64(C), rdL)
	}
	// Backward tangent.
	for l := L - 1; l >= 0; l-- {
		rd := p.rowsView(tan.rd[l], n, w[l+1])
		be.Gemm(kernels.T, kernels.NoTrans, w[l], w[l+1], n, 1, p.input(st, bd, l), w[l], rd, w[l+1], 1, HW[l], w[l+1])
		if !ggn && l > 0 {
			be.Gemm(kernels.T, kernels.NoTrans, w[l], w[l+1], n, 1, p.rowsView(tan.ra[l-1], n, w[l]), w[l], p.rowsView(st.d[l], n, w[l+1]), w[l+1], 1, HW[l], w[l+1])
		}
		if p.spec.Bias {
			be.ColSum(HB[l], rd, n, w[l+1], 1, 1)
		}
		if l == 0 {
			break
		}
		u := p.rowsView(tan.u, n, w[l])
		be.Gemm(kernels.NoTrans, kernels.T, n, w[l], w[l+1], 1, rd, w[l+1], W[l], w[l+1], 0, u, w[l])
		if !ggn {
			be.Gemm(kernels.NoTrans, kernels.T, n, w[l], w[l+1], 1, p.rowsView(st.d[l], n, w[l+1]), w[l+1], V[l], w[l+1], 1, u, w[l])
		}
		rdPrev := p.rowsView(tan.rd[l-1], n, w[l])
		be.Mul(rdPrev, u, p.rowsView(st.d1[l-1], n, w[l]))
		if !ggn {
			be.Mul3Add(rdPrev, p.rowsView(st.g[l-1], n, w[l]), p.rowsView(st.d2[l-1], n, w[l]), p.rowsView(tan.rz[l-1], n, w[l]))
		}
	}
}
