package models

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/curvprobe/curvprobe/kernels"
	G "gorgonia.org/gorgonia"
)

// Program is what Lower reads off a Graph: the layer widths, the activation
// on each layer's output (Linear on the last), whether layers have biases,
// and the loss. NewPlan turns it into backend calls.
type Program struct {
	Layers []int
	Acts   []kernels.Activation
	Bias   bool
	Loss   Loss
}

// Spec returns the Spec of a program whose hidden layers share one activation.
func (p *Program) Spec() Spec {
	act := kernels.Linear
	if len(p.Acts) > 1 {
		act = p.Acts[0]
	}
	return Spec{Layers: append([]int(nil), p.Layers...), Activation: act, Loss: p.Loss, Bias: p.Bias}
}

// Lower walks gr from its loss node down to the input and recognises each
// node: the loss (log-softmax cross-entropy or mean squared error), and per
// layer the matrix product with a parameter W<l>, the broadcast addition of
// a bias b<l>, and the activation. A node it does not understand is an
// error naming the node and its op.
func Lower(gr *Graph) (*Program, error) {
	p := &Program{}
	logits, err := lowerLoss(gr, p)
	if err != nil {
		return nil, err
	}
	type layer struct {
		in, out int
		inAct   kernels.Activation
		bias    bool
	}
	var rev []layer
	n := logits
	for idx := 0; ; idx++ {
		if n == gr.X {
			break
		}
		var ly layer
		if _, rest, ok := matchBiasAdd(n); ok {
			ly.bias = true
			n = rest
		}
		op := opName(n)
		if op != "A × B" {
			if idx == 0 && isActivation(n) {
				return nil, nodeError(n, "the output layer must be linear: an activation feeds the loss")
			}
			return nil, nodeError(n, "want a matrix product x·W (a layer)")
		}
		ch := children(n)
		if len(ch) != 2 || !isParam(ch[1], "W") {
			return nil, nodeError(n, "want the product of an input and a parameter W<l>")
		}
		shape := ch[1].Shape()
		ly.in, ly.out = shape[0], shape[1]
		n = ch[0]
		if n != gr.X {
			act, in, err := matchActivation(n)
			_, _, isBias := matchBiasAdd(n)
			switch {
			case err == nil:
				ly.inAct, n = act, in
			case isBias || opName(n) == "A × B":
				ly.inAct = kernels.Linear // a linear hidden layer feeds the next directly
			default:
				return nil, err
			}
		}
		rev = append(rev, ly)
		if len(rev) > 1000 {
			return nil, nodeError(n, "more than 1000 layers: the graph has a cycle?")
		}
	}
	if len(rev) == 0 {
		return nil, nodeError(logits, "no layer between the input and the loss")
	}
	nl := len(rev)
	p.Layers = make([]int, nl+1)
	p.Acts = make([]kernels.Activation, nl)
	p.Bias = rev[0].bias
	for i := 0; i < nl; i++ {
		ly := rev[nl-1-i]
		if ly.bias != p.Bias {
			return nil, fmt.Errorf("models: lowering: layer %d has bias=%v but the output layer has bias=%v; mixed biases are not supported", i, ly.bias, p.Bias)
		}
		if i == 0 {
			p.Layers[0] = ly.in
		} else if p.Layers[i] != ly.in {
			return nil, fmt.Errorf("models: lowering: layer %d takes %d inputs but layer %d gives %d", i, ly.in, i-1, p.Layers[i])
		}
		p.Layers[i+1] = ly.out
		if i > 0 {
			p.Acts[i-1] = ly.inAct
		}
	}
	p.Acts[nl-1] = kernels.Linear
	return p, nil
}

// lowerLoss recognises the loss node and returns the logits node.
func lowerLoss(gr *Graph, p *Program) (*G.Node, error) {
	n := gr.Loss
	switch opName(n) {
	case "neg": // -mean(sum(y ⊙ logsoftmax(z), 1))
		mean := only(n)
		if mean == nil || opName(mean) != "÷" {
			return nil, nodeError(n, "want -mean(...) of a cross-entropy")
		}
		s0 := children(mean)[0]
		if !strings.HasPrefix(opName(s0), "Σ") {
			return nil, nodeError(s0, "want a sum")
		}
		s1 := only(s0)
		if s1 == nil || opName(s1) != "Σ[1]" {
			return nil, nodeError(s0, "want a sum over classes Σ[1]")
		}
		prod := only(s1)
		if prod == nil || opName(prod) != "⊙" {
			return nil, nodeError(s1, "want y ⊙ log-softmax")
		}
		ch := children(prod)
		if len(ch) != 2 || ch[0] != gr.Y || fmt.Sprint(ch[1].Op()) != "Softmax{-1, true}()" {
			return nil, nodeError(prod, "want y ⊙ LogSoftMax(z) over the last axis")
		}
		p.Loss = CrossEntropy
		return only(ch[1]), nil
	case "÷": // mean(square(z - y))
		s := children(n)[0]
		if opName(s) != "Σ[0 1]" {
			return nil, nodeError(s, "want a sum over all elements")
		}
		sq := only(s)
		if sq == nil || opName(sq) != "square" {
			return nil, nodeError(s, "want the sum of squares")
		}
		diff := only(sq)
		if diff == nil || opName(diff) != "-" {
			return nil, nodeError(sq, "want the square of z - y")
		}
		ch := children(diff)
		if len(ch) != 2 || ch[1] != gr.Y {
			return nil, nodeError(diff, "want z - y")
		}
		p.Loss = MSE
		return ch[0], nil
	}
	return nil, nodeError(n, "not a loss this lowering knows (cross-entropy of log-softmax, mean squared error)")
}

var paramName = regexp.MustCompile(`^([Wb])(\d+)$`)

func isParam(n *G.Node, kind string) bool {
	m := paramName.FindStringSubmatch(n.Name())
	return n.Op() == nil && m != nil && m[1] == kind
}

// matchBiasAdd recognises z + Repeat(Reshape(b)) as built by BroadcastAdd.
func matchBiasAdd(n *G.Node) (bias, rest *G.Node, ok bool) {
	if opName(n) != "+" {
		return nil, nil, false
	}
	ch := children(n)
	if len(ch) != 2 || !strings.HasPrefix(opName(ch[1]), "Repeat") {
		return nil, nil, false
	}
	rc := children(ch[1])
	if len(rc) == 0 || !strings.HasPrefix(opName(rc[0]), "Reshape") {
		return nil, nil, false
	}
	b := only(rc[0])
	if b == nil || !isParam(b, "b") {
		return nil, nil, false
	}
	return b, ch[0], true
}

func isActivation(n *G.Node) bool {
	_, _, err := matchActivation(n)
	return err == nil
}

// matchActivation recognises an activation node and returns its input.
func matchActivation(n *G.Node) (kernels.Activation, *G.Node, error) {
	switch opName(n) {
	case "tanh":
		return kernels.Tanh, only(n), nil
	case "sigmoid":
		return kernels.Sigmoid, only(n), nil
	case "softplus":
		return kernels.Softplus, only(n), nil
	case "gelu":
		return kernels.Gelu, only(n), nil
	case "⊙": // Rectify: x ⊙ (x >= 0)
		ch := children(n)
		if len(ch) == 2 && opName(ch[1]) == ">=" {
			cmp := children(ch[1])
			if len(cmp) == 2 && cmp[0] == ch[0] && fmt.Sprint(cmp[1].Op()) == "const 0" {
				return kernels.ReLU, ch[0], nil
			}
		}
	}
	return 0, nil, nodeError(n, "want an activation (relu, tanh, sigmoid, gelu, softplus) or the input x")
}

func nodeError(n *G.Node, msg string) error {
	op := "input"
	if n.Op() != nil {
		op = fmt.Sprint(n.Op())
	}
	return fmt.Errorf("models: lowering: node %s (op %q): %s", n.Name(), op, msg)
}

// opName is the op's string form without Gorgonia's retSame flag
// ("⊙ false" -> "⊙", "A × B" stays), or "" for an input.
func opName(n *G.Node) string {
	if n == nil || n.Op() == nil {
		return ""
	}
	s := fmt.Sprint(n.Op())
	s = strings.TrimSuffix(s, " false")
	return strings.TrimSuffix(s, " true")
}

func children(n *G.Node) []*G.Node {
	var out []*G.Node
	it := n.Graph().From(n.ID())
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

// only returns n's single child, or nil when n has another number of children
// (ops such as mean carry a size node as a second child; callers check).
func only(n *G.Node) *G.Node {
	ch := children(n)
	if len(ch) == 0 {
		return nil
	}
	return ch[0]
}
