package models

import (
	"github.com/curvprobe/curvprobe/kernels"
)

// state holds one batch's forward and backward pass (everything the
// R-operator reuses), sized for up to rows samples, and optionally the
// scratch of its tangent passes for one direction. Index l runs over weight
// layers 0..L-1.
type state struct {
	rows     int
	n        int // rows of the batch currently held
	z, a     []kernels.Buffer
	d1, d2   []kernels.Buffer // s'(z_l), s''(z_l) of hidden layers (nil on the last)
	p        kernels.Buffer   // softmax probabilities (cross-entropy)
	d, g     []kernels.Buffer // d_l = dLoss/dz_l, g_l = d_{l+1} W_{l+1}^T
	tan      *tangents        // nil unless made with tangents
	lossSum  float64
	correct  int
	withD2   bool
	hasState bool
}

// tangents is the scratch of the R-operator's tangent passes for up to rows
// rows: k directions of an n-sample batch take k*n rows, laid out
// direction-major (direction j's block of layer l is rows j*n..(j+1)*n of
// rz[l], ra[l], rd[l] and u), so that products with a shared operand are one
// GEMM over all directions.
type tangents struct {
	rows       int
	rz, ra, rd []kernels.Buffer // ra is nil on the last layer
	u          kernels.Buffer
}

func (p *Plan[T]) newState(rows int, withTangents bool) *state {
	be, L, w := p.be, p.spec.NumLayers(), p.spec.Layers
	st := &state{rows: rows}
	alloc := func(l int) kernels.Buffer { return be.Alloc(rows * w[l+1]) }
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
	}
	if p.spec.Loss == CrossEntropy {
		st.p = be.Alloc(rows * p.spec.Outputs())
	}
	if withTangents {
		st.tan = p.newTangents(rows)
	}
	return st
}

func (p *Plan[T]) freeState(st *state) {
	L := p.spec.NumLayers()
	for l := 0; l < L; l++ {
		p.be.Free(st.z[l])
		p.be.Free(st.d[l])
		if l < L-1 {
			for _, b := range []kernels.Buffer{st.a[l], st.d1[l], st.d2[l], st.g[l]} {
				p.be.Free(b)
			}
		}
	}
	if st.p != nil {
		p.be.Free(st.p)
	}
	if st.tan != nil {
		p.freeTangents(st.tan)
	}
}

// newTangents allocates tangent scratch for rows rows (k directions of up
// to rows/k samples).
func (p *Plan[T]) newTangents(rows int) *tangents {
	be, L, w := p.be, p.spec.NumLayers(), p.spec.Layers
	tn := &tangents{rows: rows}
	maxw := 0
	for l := 0; l < L; l++ {
		tn.rz = append(tn.rz, be.Alloc(rows*w[l+1]))
		tn.rd = append(tn.rd, be.Alloc(rows*w[l+1]))
		if l < L-1 {
			tn.ra = append(tn.ra, be.Alloc(rows*w[l+1]))
		} else {
			tn.ra = append(tn.ra, nil)
		}
		maxw = max(maxw, w[l])
	}
	tn.u = be.Alloc(rows * maxw)
	return tn
}

func (p *Plan[T]) freeTangents(tn *tangents) {
	for l := range tn.rz {
		p.be.Free(tn.rz[l])
		p.be.Free(tn.rd[l])
		if tn.ra[l] != nil {
			p.be.Free(tn.ra[l])
		}
	}
	p.be.Free(tn.u)
}

// stateBytes estimates the memory of a state of the given rows.
func (p *Plan[T]) stateBytes(rows int, tangents bool) int64 {
	elem := int64(kernels.ElemSize[T]())
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

// batchOf returns samples [start, start+n) of d as views of backend
// memory; only data read from a Source can fail.
func (p *Plan[T]) batchOf(d *Data, start, n int) (batchData, error) {
	if d.host != nil {
		return p.streamBatch(d, start, n)
	}
	be := p.be
	D, C := p.spec.Inputs(), p.spec.Outputs()
	bd := batchData{n: n, x: be.View(d.x, start*D, n*D)}
	if d.labels != nil {
		bd.labels = be.View(d.labels, start, n)
	}
	if d.targets != nil {
		bd.target = be.View(d.targets, start*C, n*C)
	}
	return bd, nil
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
		be.Gemm(kernels.NoTrans, kernels.Transpose, n, w[l], w[l+1], 1, p.rowsView(st.d[l], n, w[l+1]), w[l+1], W[l], w[l+1], 0, g, w[l])
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
		be.Gemm(kernels.Transpose, kernels.NoTrans, w[l], w[l+1], n, 1, p.input(st, bd, l), w[l], d, w[l+1], 1, GW[l], w[l+1])
		if p.spec.Bias {
			be.ColSum(GB[l], d, n, w[l+1], 1, 1)
		}
	}
}

// accumulateHVP adds the batch's share of H v[j] (or G v[j] when ggn) to
// dst[j] for the k = len(v) directions, by the R-operator (Pearlmutter 1994)
// over the forward state in st, with the tangents of all directions stacked
// direction-major in tan (which must hold k*st.n rows). The products with an
// operand shared by all directions (Ra·W_l in the forward tangent, Rd·W_l^T
// in the backward one) are one GEMM with k*n rows; the direction-specific
// ones (a·V_j, d·V_j^T, a^T·Rd_j, Ra_j^T·d) and the elementwise products
// with the batch's activation derivatives and softmax run per direction
// block. Each dst[j] receives the same operations in the same order as with
// k = 1, so with k = 1 this is the single-direction R-operator.
func (p *Plan[T]) accumulateHVP(st *state, tan *tangents, bd batchData, v, dst []kernels.Buffer, invN float64, ggn bool) {
	be, L, w, n, k := p.be, p.spec.NumLayers(), p.spec.Layers, st.n, len(v)
	if k*n > tan.rows {
		panic("models: tangent scratch too small")
	}
	W, _ := p.views(p.params)
	V, c := make([][]kernels.Buffer, k), make([][]kernels.Buffer, k)
	HW, HB := make([][]kernels.Buffer, k), make([][]kernels.Buffer, k)
	for j := range v {
		V[j], c[j] = p.views(v[j])
		HW[j], HB[j] = p.views(dst[j])
	}
	// blk is direction j's n×cols block of a stacked tangent buffer; all
	// is the whole k*n×cols stack.
	blk := func(b kernels.Buffer, j, cols int) kernels.Buffer { return be.View(b, j*n*cols, n*cols) }
	all := func(b kernels.Buffer, cols int) kernels.Buffer { return be.View(b, 0, k*n*cols) }
	// Forward tangent: Rz_l = a_{l-1} V_l + Ra_{l-1} W_l + 1 c_l, Ra_l = s'(z_l) * Rz_l.
	for l := 0; l < L; l++ {
		in := p.input(st, bd, l)
		for j := 0; j < k; j++ {
			be.Gemm(kernels.NoTrans, kernels.NoTrans, n, w[l+1], w[l], 1, in, w[l], V[j][l], w[l+1], 0, blk(tan.rz[l], j, w[l+1]), w[l+1])
		}
		if l > 0 {
			be.Gemm(kernels.NoTrans, kernels.NoTrans, k*n, w[l+1], w[l], 1, all(tan.ra[l-1], w[l]), w[l], W[l], w[l+1], 1, all(tan.rz[l], w[l+1]), w[l+1])
		}
		for j := 0; j < k; j++ {
			rz := blk(tan.rz[l], j, w[l+1])
			if p.spec.Bias {
				be.AddRow(rz, c[j][l], n, w[l+1])
			}
			if l < L-1 {
				be.Mul(blk(tan.ra[l], j, w[l+1]), p.rowsView(st.d1[l], n, w[l+1]), rz)
			}
		}
	}
	p.lossCurvature(st, tan, k, invN)
	// Backward tangent.
	for l := L - 1; l >= 0; l-- {
		in := p.input(st, bd, l)
		d := p.rowsView(st.d[l], n, w[l+1])
		for j := 0; j < k; j++ {
			rd := blk(tan.rd[l], j, w[l+1])
			be.Gemm(kernels.Transpose, kernels.NoTrans, w[l], w[l+1], n, 1, in, w[l], rd, w[l+1], 1, HW[j][l], w[l+1])
			if !ggn && l > 0 {
				be.Gemm(kernels.Transpose, kernels.NoTrans, w[l], w[l+1], n, 1, blk(tan.ra[l-1], j, w[l]), w[l], d, w[l+1], 1, HW[j][l], w[l+1])
			}
			if p.spec.Bias {
				be.ColSum(HB[j][l], rd, n, w[l+1], 1, 1)
			}
		}
		if l == 0 {
			break
		}
		be.Gemm(kernels.NoTrans, kernels.Transpose, k*n, w[l], w[l+1], 1, all(tan.rd[l], w[l+1]), w[l+1], W[l], w[l+1], 0, all(tan.u, w[l]), w[l])
		d1 := p.rowsView(st.d1[l-1], n, w[l])
		for j := 0; j < k; j++ {
			u := blk(tan.u, j, w[l])
			if !ggn {
				be.Gemm(kernels.NoTrans, kernels.Transpose, n, w[l], w[l+1], 1, d, w[l+1], V[j][l], w[l+1], 1, u, w[l])
			}
			rdPrev := blk(tan.rd[l-1], j, w[l])
			be.Mul(rdPrev, u, d1)
			if !ggn {
				be.Mul3Add(rdPrev, p.rowsView(st.g[l-1], n, w[l]), p.rowsView(st.d2[l-1], n, w[l]), blk(tan.rz[l-1], j, w[l]))
			}
		}
	}
}

// lossCurvature sets the output layer's backward tangents of the k
// directions stacked in tan, Rd_L = (d²Loss/dz_L²) Rz_L, for the batch
// held in st.
func (p *Plan[T]) lossCurvature(st *state, tan *tangents, k int, invN float64) {
	be, L, n, C := p.be, p.spec.NumLayers(), st.n, p.spec.Outputs()
	switch p.spec.Loss {
	case CrossEntropy:
		for j := 0; j < k; j++ {
			be.SoftmaxHVP(be.View(tan.rd[L-1], j*n*C, n*C), p.rowsView(st.p, n, C), be.View(tan.rz[L-1], j*n*C, n*C), n, C, invN)
		}
	case MSE:
		rdL := be.View(tan.rd[L-1], 0, k*n*C)
		be.Copy(rdL, be.View(tan.rz[L-1], 0, k*n*C))
		be.Scale(2*invN/float64(C), rdL)
	}
}
