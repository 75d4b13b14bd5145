package models

import (
	"context"
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
)

// LayerRange returns where layer l's parameters lie in the flat parameter
// vector: W_l then b_l (when the network has biases) are contiguous, from
// offset for n values. l must be in [0, NumLayers).
func (s Spec) LayerRange(l int) (offset, n int) {
	if l < 0 || l >= s.NumLayers() {
		panic(fmt.Sprintf("models: layer %d of a network of %d layers", l, s.NumLayers()))
	}
	for _, b := range s.Blocks() {
		switch {
		case b.Layer < l:
			offset += b.Size()
		case b.Layer == l:
			n += b.Size()
		}
	}
	return offset, n
}

// LayerOperator applies one layer's diagonal block of the Hessian (or of
// the Gauss-Newton matrix): for layer l with parameters θ_l = (W_l, b_l)
// (W_l and b_l together; W_l alone without biases), the matrix
// H_ll = ∂²L/∂θ_l², of dimension in·out + out. Its vectors hold layer l's
// parameters only, laid out as in the flat vector (W_l row-major, then
// b_l). Apply equals the full operator applied to v placed at the layer's
// offset with zeros elsewhere, read back at the layer's offset; it skips
// what those zeros make zero: the tangent forward pass starts at layer l,
// the tangent backward pass stops there, and the products of the other
// layers' directions and outputs are not formed. Per data batch and
// direction that is 2(L-l) GEMMs for layer l of L, against 6L-4 for a
// product with the whole matrix.
//
// It satisfies probe.Operator[kernels.Buffer] and
// probe.BatchOperator[kernels.Buffer]. It shares the cached forward
// passes and tangent scratch of the Operator it came from, which must not
// be closed while it is in use, and is like it invalidated by a change of
// the parameters.
type LayerOperator[T kernels.Float] struct {
	op     *Operator[T]
	layer  int
	offset int
	n      int
	// Applies counts products (k for an ApplyBatch of k directions).
	Applies int
}

// Layer returns the operator of layer l's diagonal block (see
// LayerOperator). l must be in [0, NumLayers).
func (op *Operator[T]) Layer(l int) *LayerOperator[T] {
	off, n := op.p.spec.LayerRange(l)
	return &LayerOperator[T]{op: op, layer: l, offset: off, n: n}
}

// Layer returns the index of the layer whose block lo applies.
func (lo *LayerOperator[T]) Layer() int { return lo.layer }

// Dim returns the number of the layer's parameters.
func (lo *LayerOperator[T]) Dim() int { return lo.n }

// Offset returns where the layer's parameters start in the flat vector.
func (lo *LayerOperator[T]) Offset() int { return lo.offset }

// Apply sets dst = H_ll v. It is ApplyBatch with one direction.
func (lo *LayerOperator[T]) Apply(ctx context.Context, dst, v kernels.Buffer) error {
	return lo.ApplyBatch(ctx, []kernels.Buffer{dst}, []kernels.Buffer{v})
}

// ApplyBatch sets dst[j] = H_ll v[j] for the k = len(v) directions in one
// pass over the data, as Operator.ApplyBatch does for the whole matrix.
// Every vector has Dim elements; no dst[j] may alias any v[i] or another
// dst[i].
func (lo *LayerOperator[T]) ApplyBatch(ctx context.Context, dst, v []kernels.Buffer) error {
	p := lo.op.p
	if len(dst) != len(v) {
		panic(fmt.Sprintf("models: ApplyBatch of %d directions into %d vectors", len(v), len(dst)))
	}
	for _, bufs := range [][]kernels.Buffer{dst, v} {
		for _, b := range bufs {
			if b.Len() != lo.n {
				panic(fmt.Sprintf("models: vector of %d elements for layer %d's %d parameters", b.Len(), lo.layer, lo.n))
			}
		}
	}
	err := lo.op.passes(ctx, dst, v, func(st *state, tan *tangents, bd batchData, invN float64) {
		p.accumulateLayerHVP(st, tan, bd, lo.layer, v, dst, invN, lo.op.kind == GaussNewton)
	})
	if err != nil {
		return err
	}
	lo.Applies += len(v)
	return lo.op.checkFinite(dst, fmt.Sprintf("layer %d's ", lo.layer))
}

// accumulateLayerHVP adds the batch's share of H_ll v[j] (G_ll v[j] when
// ggn) to dst[j] for layer l's diagonal block, where v[j] and dst[j] hold
// layer l's parameters only. It is accumulateHVP for a direction that is
// zero outside layer l, with the terms those zeros cancel left out and
// only layer l's output formed:
//
//	Rz_m = Ra_m = 0 below l;  Rz_l = a_{l-1} V_l + 1 c_l;  Rz_m = Ra_{m-1} W_m above l
//	Rd_{m-1} = (Rd_m W_m^T) * s'(z_{m-1}) + (d_m W_m^T) * s''(z_{m-1}) * Rz_{m-1}  for m > l
//	(Hv)_{W_l} = a_{l-1}^T Rd_l,  (Hv)_{b_l} = 1^T Rd_l
//
// (the d_m V_m^T terms vanish above l, and Ra_{l-1}^T d_l with Ra_{l-1} = 0).
// Each skipped operation would have added an exact zero, so the result
// equals the full product's layer-l part.
func (p *Plan[T]) accumulateLayerHVP(st *state, tan *tangents, bd batchData, l int, v, dst []kernels.Buffer, invN float64, ggn bool) {
	be, L, w, n, k := p.be, p.spec.NumLayers(), p.spec.Layers, st.n, len(v)
	if k*n > tan.rows {
		panic("models: tangent scratch too small")
	}
	W, _ := p.views(p.params)
	in, out := w[l], w[l+1]
	V, c := make([]kernels.Buffer, k), make([]kernels.Buffer, k)
	HW, HB := make([]kernels.Buffer, k), make([]kernels.Buffer, k)
	for j := range v {
		V[j], HW[j] = be.View(v[j], 0, in*out), be.View(dst[j], 0, in*out)
		if p.spec.Bias {
			c[j], HB[j] = be.View(v[j], in*out, out), be.View(dst[j], in*out, out)
		}
	}
	blk := func(b kernels.Buffer, j, cols int) kernels.Buffer { return be.View(b, j*n*cols, n*cols) }
	all := func(b kernels.Buffer, cols int) kernels.Buffer { return be.View(b, 0, k*n*cols) }
	// Forward tangent, from layer l up.
	x := p.input(st, bd, l)
	for m := l; m < L; m++ {
		if m == l {
			for j := 0; j < k; j++ {
				rz := blk(tan.rz[l], j, out)
				be.Gemm(kernels.NoTrans, kernels.NoTrans, n, out, in, 1, x, in, V[j], out, 0, rz, out)
				if p.spec.Bias {
					be.AddRow(rz, c[j], n, out)
				}
			}
		} else {
			be.Gemm(kernels.NoTrans, kernels.NoTrans, k*n, w[m+1], w[m], 1, all(tan.ra[m-1], w[m]), w[m], W[m], w[m+1], 0, all(tan.rz[m], w[m+1]), w[m+1])
		}
		if m < L-1 {
			for j := 0; j < k; j++ {
				be.Mul(blk(tan.ra[m], j, w[m+1]), p.rowsView(st.d1[m], n, w[m+1]), blk(tan.rz[m], j, w[m+1]))
			}
		}
	}
	p.lossCurvature(st, tan, k, invN)
	// Backward tangent, from the top down to layer l.
	for m := L - 1; m > l; m-- {
		be.Gemm(kernels.NoTrans, kernels.Transpose, k*n, w[m], w[m+1], 1, all(tan.rd[m], w[m+1]), w[m+1], W[m], w[m+1], 0, all(tan.u, w[m]), w[m])
		d1 := p.rowsView(st.d1[m-1], n, w[m])
		for j := 0; j < k; j++ {
			rdPrev := blk(tan.rd[m-1], j, w[m])
			be.Mul(rdPrev, blk(tan.u, j, w[m]), d1)
			if !ggn {
				be.Mul3Add(rdPrev, p.rowsView(st.g[m-1], n, w[m]), p.rowsView(st.d2[m-1], n, w[m]), blk(tan.rz[m-1], j, w[m]))
			}
		}
	}
	for j := 0; j < k; j++ {
		rd := blk(tan.rd[l], j, out)
		be.Gemm(kernels.Transpose, kernels.NoTrans, in, out, n, 1, x, in, rd, out, 1, HW[j], out)
		if p.spec.Bias {
			be.ColSum(HB[j], rd, n, out, 1, 1)
		}
	}
}
