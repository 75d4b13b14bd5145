package models

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// geluOp is the exact GELU, x*Phi(x), as a Gorgonia op (Gorgonia has no erf).
// With deriv set it is GELU's derivative Phi(x) + x*phi(x), which is only
// ever evaluated, never differentiated: Hessians come from the R-operator.
// This is an implementation independent of the backends' activation code, so
// the graph's gradient remains a reference for the Plan's.
type geluOp struct{ deriv bool }

var (
	_ G.Op   = geluOp{}
	_ G.SDOp = geluOp{}
)

func geluOf(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

func geluPrimeOf(x float64) float64 {
	return 0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

func (op geluOp) Arity() int { return 1 }

func (op geluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (op geluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("gelu: input shape is %T", in[0])
	}
	return s.Clone(), nil
}

func (op geluOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("gelu: want 1 input, have %d", len(in))
	}
	t, ok := in[0].(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("gelu: input is %T, not a tensor", in[0])
	}
	f := geluOf
	if op.deriv {
		f = geluPrimeOf
	}
	out := tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.Of(t.Dtype()))
	switch src := t.Data().(type) {
	case []float64:
		dst := out.Data().([]float64)
		for i, x := range src {
			dst[i] = f(x)
		}
	case []float32:
		dst := out.Data().([]float32)
		for i, x := range src {
			dst[i] = float32(f(float64(x)))
		}
	default:
		return nil, fmt.Errorf("gelu: unsupported dtype %v", t.Dtype())
	}
	return out, nil
}

func (op geluOp) ReturnsPtr() bool     { return false }
func (op geluOp) CallsExtern() bool    { return false }
func (op geluOp) OverwritesInput() int { return -1 }
func (op geluOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "gelu{deriv=%v}", op.deriv)
}

func (op geluOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op geluOp) String() string {
	if op.deriv {
		return "gelu'"
	}
	return "gelu"
}

func (op geluOp) DiffWRT(n int) []bool { return []bool{!op.deriv} }

func (op geluOp) SymDiff(in G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.deriv {
		return nil, fmt.Errorf("gelu': second derivatives come from the R-operator, not Gorgonia")
	}
	d, err := G.ApplyOp(geluOp{deriv: true}, in[0])
	if err != nil {
		return nil, err
	}
	g, err := G.HadamardProd(grad, d)
	if err != nil {
		return nil, err
	}
	return G.Nodes{g}, nil
}
