package models

import (
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Graph is the Gorgonia expression graph of a Spec for a batch of Batch
// samples: inputs X [Batch, D] and Y [Batch, C] (one-hot labels for
// cross-entropy, targets for MSE), parameters W0 [in, out], b0 [out], ...,
// the logits, the loss and Gorgonia's first-order gradient of the loss with
// respect to every parameter, in the flat order of Spec.Blocks.
type Graph struct {
	Spec   Spec
	Batch  int
	G      *G.ExprGraph
	X, Y   *G.Node
	Params []*G.Node
	Logits *G.Node
	Loss   *G.Node
	Grads  []*G.Node

	vm G.VM // Eval's tape machine, compiled on its first call
}

// NewGraph builds the Gorgonia graph of spec for a batch of the given size,
// in float64 or float32 (dtype tensor.Float64 or tensor.Float32).
func NewGraph(spec Spec, batch int, dtype tensor.Dtype) (gr *Graph, err error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	if batch <= 0 {
		return nil, fmt.Errorf("models: batch %d must be positive", batch)
	}
	if dtype != tensor.Float64 && dtype != tensor.Float32 {
		return nil, fmt.Errorf("models: dtype %v unsupported (want float64 or float32)", dtype)
	}
	// Gorgonia reports many errors by panicking in Must; turn them into errors here.
	defer func() {
		if r := recover(); r != nil {
			gr, err = nil, fmt.Errorf("models: building the graph: %v", r)
		}
	}()
	g := G.NewGraph()
	gr = &Graph{Spec: spec, Batch: batch, G: g}
	gr.X = G.NewMatrix(g, dtype, G.WithShape(batch, spec.Inputs()), G.WithName("x"))
	gr.Y = G.NewMatrix(g, dtype, G.WithShape(batch, spec.Outputs()), G.WithName("y"))
	a := gr.X
	for l := 0; l < spec.NumLayers(); l++ {
		in, out := spec.Layers[l], spec.Layers[l+1]
		w := G.NewMatrix(g, dtype, G.WithShape(in, out), G.WithName(fmt.Sprintf("W%d", l)))
		gr.Params = append(gr.Params, w)
		z := G.Must(G.Mul(a, w))
		if spec.Bias {
			b := G.NewVector(g, dtype, G.WithShape(out), G.WithName(fmt.Sprintf("b%d", l)))
			gr.Params = append(gr.Params, b)
			z = G.Must(G.BroadcastAdd(z, b, nil, []byte{0}))
		}
		if l == spec.NumLayers()-1 {
			a = z
			break
		}
		a, err = activate(spec.Activation, z)
		if err != nil {
			return nil, err
		}
	}
	gr.Logits = a
	switch spec.Loss {
	case CrossEntropy:
		logp := G.Must(G.LogSoftMax(a))
		gr.Loss = G.Must(G.Neg(G.Must(G.Mean(G.Must(G.Sum(G.Must(G.HadamardProd(gr.Y, logp)), 1))))))
	case MSE:
		gr.Loss = G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(a, gr.Y))))))
	}
	gr.Grads, err = G.Grad(gr.Loss, gr.Params...)
	if err != nil {
		return nil, fmt.Errorf("models: gradient of the graph: %w", err)
	}
	return gr, nil
}

// activate applies act with Gorgonia's own ops where it has them (relu is
// Gorgonia's Rectify, x ⊙ (x >= 0)), and geluOp for GELU.
func activate(act kernels.Activation, z *G.Node) (*G.Node, error) {
	switch act {
	case kernels.Linear:
		return z, nil
	case kernels.ReLU:
		return G.Rectify(z)
	case kernels.Tanh:
		return G.Tanh(z)
	case kernels.Sigmoid:
		return G.Sigmoid(z)
	case kernels.Softplus:
		return G.Softplus(z)
	case kernels.Gelu:
		return G.ApplyOp(geluOp{}, z)
	}
	return nil, fmt.Errorf("models: activation %v has no graph form", act)
}

// Eval runs the graph on Gorgonia's tape machine (the reference
// implementation) with the given flat parameters, inputs x [Batch*D] and
// y [Batch*C] (one-hot for cross-entropy), and returns the loss and the flat
// gradient. It is slow and meant for checking Plans. It compiles the graph
// on its first call and reuses that machine after, so a Graph's Evals must
// not run at once (each also binds the graph's inputs).
func (gr *Graph) Eval(params, x, y []float64) (loss float64, grad []float64, err error) {
	spec := gr.Spec
	if len(params) != spec.NumParams() || len(x) != gr.Batch*spec.Inputs() || len(y) != gr.Batch*spec.Outputs() {
		return 0, nil, fmt.Errorf("models: Eval: have %d params, %d inputs, %d targets; want %d, %d, %d",
			len(params), len(x), len(y), spec.NumParams(), gr.Batch*spec.Inputs(), gr.Batch*spec.Outputs())
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("models: Eval: %v", r)
		}
	}()
	dt := gr.X.Dtype()
	bind := func(n *G.Node, vals []float64) error {
		return G.Let(n, tensor.New(tensor.WithShape(n.Shape()...), tensor.WithBacking(convert(dt, vals))))
	}
	if err := bind(gr.X, x); err != nil {
		return 0, nil, err
	}
	if err := bind(gr.Y, y); err != nil {
		return 0, nil, err
	}
	for i, b := range spec.Blocks() {
		if err := bind(gr.Params[i], params[b.Offset:b.Offset+b.Size()]); err != nil {
			return 0, nil, err
		}
	}
	// One machine for every call: compiling the graph cost more than
	// running it on the small cases tests check by finite differences.
	if gr.vm == nil {
		gr.vm = G.NewTapeMachine(gr.G)
	}
	defer gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("models: tape machine: %w", err)
	}
	loss = scalarOf(gr.Loss.Value().Data())
	for _, g := range gr.Grads {
		grad = append(grad, float64s(g.Value().Data())...)
	}
	return loss, grad, nil
}

func convert(dt tensor.Dtype, v []float64) any {
	if dt == tensor.Float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	return append([]float64(nil), v...)
}

func scalarOf(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case []float64:
		return x[0]
	case []float32:
		return float64(x[0])
	}
	panic(fmt.Sprintf("models: unexpected scalar %T", v))
}

func float64s(v any) []float64 {
	switch x := v.(type) {
	case []float64:
		return append([]float64(nil), x...)
	case []float32:
		out := make([]float64, len(x))
		for i, f := range x {
			out[i] = float64(f)
		}
		return out
	case float64:
		return []float64{x}
	case float32:
		return []float64{float64(x)}
	}
	panic(fmt.Sprintf("models: unexpected value %T", v))
}
