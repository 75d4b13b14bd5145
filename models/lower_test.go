package models

import (
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
	"github.com/curvprobe/curvprobe/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestLowerRecoversSpec(t *testing.T) {
	for _, spec := range allSpecs() {
		gr, err := NewGraph(spec, 3, tensor.Float64)
		if err != nil {
			t.Fatal(err)
		}
		prog, err := Lower(gr)
		if err != nil {
			t.Fatalf("%s: %v", specName(spec), err)
		}
		got := prog.Spec()
		if got.Arch() != spec.Arch() || got.Activation != spec.Activation || got.Loss != spec.Loss || got.Bias != spec.Bias {
			t.Errorf("lowered %s as %s", specName(spec), specName(got))
		}
	}
}

// handGraph builds x·W0 + b0 -> f -> ·W1 -> loss with a caller-chosen f and
// output transform, for graphs the lowering must reject.
func handGraph(t *testing.T, hidden, out func(*G.Node) (*G.Node, error)) *Graph {
	t.Helper()
	g := G.NewGraph()
	gr := &Graph{G: g, Batch: 2}
	gr.X = G.NewMatrix(g, tensor.Float64, G.WithShape(2, 3), G.WithName("x"))
	gr.Y = G.NewMatrix(g, tensor.Float64, G.WithShape(2, 2), G.WithName("y"))
	w0 := G.NewMatrix(g, tensor.Float64, G.WithShape(3, 4), G.WithName("W0"))
	w1 := G.NewMatrix(g, tensor.Float64, G.WithShape(4, 2), G.WithName("W1"))
	a := G.Must(hidden(G.Must(G.Mul(gr.X, w0))))
	z := G.Must(out(G.Must(G.Mul(a, w1))))
	gr.Loss = G.Must(G.Mean(G.Must(G.Square(G.Must(G.Sub(z, gr.Y))))))
	return gr
}

func TestLowerRejects(t *testing.T) {
	id := func(n *G.Node) (*G.Node, error) { return n, nil }
	for _, tc := range []struct {
		name        string
		hidden, out func(*G.Node) (*G.Node, error)
		want        []string
	}{
		{"unknown activation", G.Sin, id, []string{"sin", "want an activation"}},
		{"nonlinear output", G.Tanh, G.Tanh, []string{"tanh", "output layer must be linear"}},
		{"exp", G.Exp, id, []string{"exp"}},
	} {
		gr := handGraph(t, tc.hidden, tc.out)
		_, err := Lower(gr)
		errtest.Mentions(t, tc.name, err, tc.want...)
	}
	// A loss it does not know.
	gr := handGraph(t, G.Tanh, func(n *G.Node) (*G.Node, error) { return n, nil })
	gr.Loss = G.Must(G.Sum(G.Must(G.Abs(gr.Loss))))
	if _, err := Lower(gr); err == nil || !strings.Contains(err.Error(), "not a loss") {
		t.Errorf("unknown loss: %v", err)
	}
}

func TestSpecJSON(t *testing.T) {
	var s Spec
	if err := s.UnmarshalJSON([]byte(`{"layers":[784,200,10],"activation":"gelu","loss":"mse"}`)); err != nil {
		t.Fatal(err)
	}
	if s.Arch() != "784x200x10" || s.Activation != kernels.Gelu || s.Loss != MSE || !s.Bias || s.Init != "" {
		t.Errorf("parsed %+v", s)
	}
	full := Spec{Layers: []int{5, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: false, Init: "pytorch", DType: kernels.Float32}
	b, err := full.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := back.UnmarshalJSON(b); err != nil || back.Init != "pytorch" || back.DType != kernels.Float32 || back.Bias {
		t.Errorf("round trip of %s: %+v, %v", b, back, err)
	}
	for _, bad := range []struct{ in, want string }{
		{`{"layers":[4],"activation":"tanh","loss":"mse"}`, "layers"},
		{`{"layers":[4,2],"activation":"swish","loss":"mse"}`, `"activation"`},
		{`{"layers":[4,2],"activation":"tanh","loss":"hinge"}`, `"loss"`},
		{`{"layers":[4,2],"activation":"tanh","loss":"mse","dropout":0.1}`, "dropout"},
		{`{"layers":[4,1],"activation":"tanh","loss":"cross_entropy"}`, "2 outputs"},
		{`{"layers":[4,2],"activation":"tanh","loss":"mse","init":"zeros"}`, "init"},
		{`{"layers":[4,2],"activation":"tanh","loss":"mse","dtype":"float16"}`, "dtype"},
	} {
		err := s.UnmarshalJSON([]byte(bad.in))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want mention of %s", bad.in, err, bad.want)
		}
	}
	if _, err := ParseArch("784x0x10"); err == nil {
		t.Error("ParseArch accepted a zero width")
	}
}
