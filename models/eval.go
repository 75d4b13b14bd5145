package models

import (
	"context"
	"fmt"
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// Eval is the result of a pass over a dataset.
type Eval struct {
	Loss     float64 // mean loss over the dataset
	Accuracy float64 // fraction of samples whose argmax output is the label; NaN without labels
	GradNorm float64 // Euclidean norm of the gradient (Gradient only; 0 from Evaluate)
}

// Evaluate returns the loss and accuracy of the current parameters on d.
func (p *Plan[T]) Evaluate(ctx context.Context, d *Data) (Eval, error) {
	return p.pass(ctx, d, nil)
}

// Gradient sets dst to the gradient of the mean loss over d and returns the
// loss and accuracy. dst has NumParams elements.
func (p *Plan[T]) Gradient(ctx context.Context, dst kernels.Buffer, d *Data) (Eval, error) {
	p.checkLen(dst)
	p.be.Fill(dst, 0)
	return p.pass(ctx, d, dst)
}

func (p *Plan[T]) checkLen(bufs ...kernels.Buffer) {
	for _, b := range bufs {
		if b.Len() != p.NumParams() {
			panic(fmt.Sprintf("models: vector of %d elements for a model of %d parameters", b.Len(), p.NumParams()))
		}
	}
}

func (p *Plan[T]) scratch() *state {
	if p.scr == nil {
		p.scr = p.newState(p.batch, true)
	}
	return p.scr
}

func (p *Plan[T]) pass(ctx context.Context, d *Data, grad kernels.Buffer) (Eval, error) {
	return p.passInto(ctx, d, grad, nil)
}

// passInto is pass over op's data (d, when op is nil) with the forward
// state of batch i computed into op's cached[i], with the second
// derivatives the R-operator needs, and kept there (with the batch itself,
// for streamed data), when op keeps its passes; into the plan's scratch
// otherwise.
func (p *Plan[T]) passInto(ctx context.Context, d *Data, grad kernels.Buffer, op *Operator[T]) (Eval, error) {
	var cached []*state
	if op != nil {
		d, cached = op.d, op.cached
	}
	invN := 1 / float64(d.N)
	var loss float64
	correct := 0
	for i, start := 0, 0; start < d.N; i, start = i+1, start+p.batch {
		if err := ctx.Err(); err != nil {
			return Eval{}, err
		}
		var bd batchData
		var err error
		if op != nil {
			bd, err = op.batch(i, start)
		} else {
			bd, err = p.batchOf(d, start, min(p.batch, d.N-start))
		}
		if err != nil {
			return Eval{}, err
		}
		var st *state
		if cached != nil {
			st = cached[i]
			p.forward(st, bd, invN, true)
		} else {
			st = p.scratch()
			p.forward(st, bd, invN, false)
		}
		loss += st.lossSum
		correct += st.correct
		if grad != nil {
			p.accumulateGrad(st, bd, grad)
		}
	}
	ev := Eval{Loss: loss * invN, Accuracy: math.NaN()}
	if p.spec.Loss == MSE {
		ev.Loss /= float64(p.spec.Outputs())
	}
	if d.labels != nil || d.host != nil && d.host.withLabels() {
		ev.Accuracy = float64(correct) * invN
	}
	if math.IsNaN(ev.Loss) || math.IsInf(ev.Loss, 0) {
		return ev, fmt.Errorf("%w: loss is %v", ErrNonFinite, ev.Loss)
	}
	// In float32 the loss, summed in float64, can stay finite while the
	// network's values overflow: the gradient shows it.
	if grad != nil {
		ev.GradNorm = p.be.Nrm2(grad)
		if math.IsNaN(ev.GradNorm) || math.IsInf(ev.GradNorm, 0) {
			return ev, fmt.Errorf("%w: gradient has norm %v (loss %.6g)", ErrNonFinite, ev.GradNorm, ev.Loss)
		}
	}
	return ev, nil
}

// Curvature selects the matrix a CurvatureOperator applies.
type Curvature int

const (
	// Hessian is the exact Hessian of the mean loss (R-operator).
	Hessian Curvature = iota
	// GaussNewton is the generalised Gauss-Newton matrix J^T H_L J.
	GaussNewton
)

// String returns "hessian" or "ggn".
func (c Curvature) String() string {
	if c == GaussNewton {
		return "ggn"
	}
	return "hessian"
}

// Operator applies the Hessian (or Gauss-Newton matrix) of the mean loss
// over a dataset at the parameters it was made at. It satisfies
// probe.Operator[kernels.Buffer] and probe.BatchOperator[kernels.Buffer].
// When the per-batch forward passes fit in Settings.CacheBytes and in the
// memory the backend can still allocate, they are computed once and kept;
// otherwise every product recomputes them.
// Changing the Plan's parameters invalidates an Operator: make a new one.
type Operator[T kernels.Float] struct {
	p      *Plan[T]
	d      *Data
	kind   Curvature
	cached []*state
	// kept holds, beside the cached passes of streamed data, each batch
	// as first read (on the backend), so that products do not read the
	// source again; kept[i].n == 0 until batch i is read.
	kept []batchData
	tan  *tangents // grown on demand to the largest k*rows used
	// Applies counts products (k for an ApplyBatch of k directions).
	Applies int
}

// CurvatureOperator returns the operator of kind over d at the current parameters.
func (p *Plan[T]) CurvatureOperator(d *Data, kind Curvature) *Operator[T] {
	op := &Operator[T]{p: p, d: d, kind: kind}
	nb := (d.N + p.batch - 1) / p.batch
	rows := min(p.batch, d.N)
	var c checked
	perBatch := p.stateBytes(rows, false)
	if d.host != nil { // streamed: the batches are kept beside their passes
		perBatch = c.add(perBatch, c.mul(int64(rows), int64(p.spec.Inputs()+1+p.spec.Outputs())*int64(kernels.ElemSize[T]())))
	}
	need := c.mul(int64(nb), perBatch)
	if p.cache > 0 && !c.overflow && need <= p.cache && p.fits(need) {
		for start := 0; start < d.N; start += p.batch {
			op.cached = append(op.cached, p.newState(min(p.batch, d.N-start), false))
		}
		if d.host != nil {
			op.kept = make([]batchData, nb)
		}
	}
	return op
}

// batch returns batch i of the operator's data, which starts at sample
// start: the copy kept on the backend when there is one, else read (and,
// for streamed data whose passes are kept, copied to be kept).
func (op *Operator[T]) batch(i, start int) (batchData, error) {
	if op.kept != nil && op.kept[i].n > 0 {
		return op.kept[i], nil
	}
	p := op.p
	bd, err := p.batchOf(op.d, start, min(p.batch, op.d.N-start))
	if err != nil || op.kept == nil {
		return bd, err
	}
	keep := func(b kernels.Buffer) kernels.Buffer {
		if b == nil {
			return nil
		}
		k := p.be.Alloc(b.Len())
		p.be.Copy(k, b)
		return k
	}
	op.kept[i] = batchData{n: bd.n, x: keep(bd.x), labels: keep(bd.labels), target: keep(bd.target)}
	return op.kept[i], nil
}

// Dim returns the number of parameters.
func (op *Operator[T]) Dim() int { return op.p.NumParams() }

// Close releases the operator's cached passes and tangent scratch.
func (op *Operator[T]) Close() {
	for _, st := range op.cached {
		op.p.freeState(st)
	}
	for _, bd := range op.kept {
		for _, b := range []kernels.Buffer{bd.x, bd.labels, bd.target} {
			if b != nil {
				op.p.be.Free(b)
			}
		}
	}
	op.kept = nil
	if op.tan != nil {
		op.p.freeTangents(op.tan)
	}
	op.cached, op.tan = nil, nil
}

// Gradient sets dst to the gradient of the mean loss over the operator's
// data at its parameters and returns the loss and accuracy, as
// Plan.Gradient does, with the same numbers. When the operator keeps its
// forward passes, the passes of the gradient are the ones kept, so the
// first product that follows does not compute them again: a gradient and
// k products cost one forward pass, not two.
func (op *Operator[T]) Gradient(ctx context.Context, dst kernels.Buffer) (Eval, error) {
	p := op.p
	p.checkLen(dst)
	p.be.Fill(dst, 0)
	return p.passInto(ctx, nil, dst, op)
}

// Apply sets dst = H v (or G v). It is ApplyBatch with one direction.
func (op *Operator[T]) Apply(ctx context.Context, dst, v kernels.Buffer) error {
	return op.ApplyBatch(ctx, []kernels.Buffer{dst}, []kernels.Buffer{v})
}

// ApplyBatch sets dst[j] = H v[j] (or G v[j]) for the k = len(v)
// directions in one pass over the data: each batch's forward state is
// computed (or fetched from the cache) once and the k tangent passes share
// it, with the products that have a shared operand done as one GEMM over
// all k directions (see DESIGN.md, the R-operator). The result for each
// direction equals Apply's to rounding (exactly, for k = 1). The tangent
// scratch grows to k times a batch's tangents and is kept for later calls
// until Close. len(dst) must equal len(v); no dst[j] may alias any v[i] or
// another dst[i].
func (op *Operator[T]) ApplyBatch(ctx context.Context, dst, v []kernels.Buffer) error {
	p := op.p
	if len(dst) != len(v) {
		panic(fmt.Sprintf("models: ApplyBatch of %d directions into %d vectors", len(v), len(dst)))
	}
	k := len(v)
	if k == 0 {
		return nil
	}
	p.checkLen(dst...)
	p.checkLen(v...)
	err := op.passes(ctx, dst, v, func(st *state, tan *tangents, bd batchData, invN float64) {
		p.accumulateHVP(st, tan, bd, v, dst, invN, op.kind == GaussNewton)
	})
	if err != nil {
		return err
	}
	op.Applies += k
	return op.checkFinite(dst, "")
}

// passes zeroes dst and calls accumulate once per batch of the operator's
// data, with the batch's forward state (computed, or fetched from the
// cache) and tangent scratch for len(v) directions.
func (op *Operator[T]) passes(ctx context.Context, dst, v []kernels.Buffer, accumulate func(st *state, tan *tangents, bd batchData, invN float64)) error {
	p, k := op.p, len(v)
	if k == 0 {
		return nil
	}
	for _, b := range dst {
		p.be.Fill(b, 0)
	}
	invN := 1 / float64(op.d.N)
	for i, start := 0, 0; start < op.d.N; i, start = i+1, start+p.batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		bd, err := op.batch(i, start)
		if err != nil {
			return err
		}
		st := p.scratch()
		if op.cached != nil {
			st = op.cached[i]
		}
		if op.cached == nil || !st.hasState {
			p.forward(st, bd, invN, true)
		}
		tan := st.tan
		if tan == nil || k > 1 {
			tan = op.tangents(k * min(p.batch, op.d.N))
		}
		accumulate(st, tan, bd, invN)
	}
	return nil
}

// checkFinite returns ErrNonFinite when a product in dst is NaN or
// infinite; what names the matrix's part ("" for the whole).
func (op *Operator[T]) checkFinite(dst []kernels.Buffer, what string) error {
	k := len(dst)
	for j, b := range dst {
		if nrm := op.p.be.Nrm2(b); math.IsNaN(nrm) || math.IsInf(nrm, 0) {
			if k == 1 {
				return fmt.Errorf("%w: %s%s-vector product has norm %v", ErrNonFinite, what, op.kind, nrm)
			}
			return fmt.Errorf("%w: %s%s-vector product %d of %d has norm %v", ErrNonFinite, what, op.kind, j, k, nrm)
		}
	}
	return nil
}

// tangents returns the operator's tangent scratch, grown to at least rows rows.
func (op *Operator[T]) tangents(rows int) *tangents {
	if op.tan != nil && op.tan.rows >= rows {
		return op.tan
	}
	if op.tan != nil {
		op.p.freeTangents(op.tan)
	}
	op.tan = op.p.newTangents(rows)
	return op.tan
}

// HVP sets dst = H v for the mean loss over d, recomputing the forward pass
// (a one-off product; for many products use CurvatureOperator, which keeps it).
func (p *Plan[T]) HVP(ctx context.Context, dst, v kernels.Buffer, d *Data) error {
	op := &Operator[T]{p: p, d: d, kind: Hessian}
	return op.Apply(ctx, dst, v)
}

// GGNVP sets dst = G v, the generalised Gauss-Newton product, over d.
func (p *Plan[T]) GGNVP(ctx context.Context, dst, v kernels.Buffer, d *Data) error {
	op := &Operator[T]{p: p, d: d, kind: GaussNewton}
	return op.Apply(ctx, dst, v)
}
