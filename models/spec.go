package models

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/kernels"
)

// Loss names a training loss.
type Loss int

// The losses of DESIGN.md.
const (
	// CrossEntropy is the mean over samples of -log softmax(z)[label].
	CrossEntropy Loss = iota
	// MSE is the mean over all N*C elements of (z - y)^2, PyTorch's default.
	MSE
)

// String returns the loss's name in model files: "cross_entropy" or "mse".
func (l Loss) String() string {
	switch l {
	case CrossEntropy:
		return "cross_entropy"
	case MSE:
		return "mse"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss returns the Loss named s ("cross_entropy" or "mse").
func ParseLoss(s string) (Loss, error) {
	switch strings.ToLower(s) {
	case "cross_entropy", "crossentropy", "ce":
		return CrossEntropy, nil
	case "mse":
		return MSE, nil
	}
	return 0, fmt.Errorf("unknown loss %q (want cross_entropy or mse)", s)
}

var activationNames = map[kernels.Activation]string{
	kernels.Linear:   "linear",
	kernels.ReLU:     "relu",
	kernels.Tanh:     "tanh",
	kernels.Sigmoid:  "sigmoid",
	kernels.Gelu:     "gelu",
	kernels.Softplus: "softplus",
}

// ActivationName returns the model-file name of a.
func ActivationName(a kernels.Activation) string {
	if s, ok := activationNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation returns the activation named s: relu, tanh, sigmoid, gelu
// (the exact erf form), softplus or linear.
func ParseActivation(s string) (kernels.Activation, error) {
	for a, name := range activationNames {
		if strings.EqualFold(s, name) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("unknown activation %q (want relu, tanh, sigmoid, gelu, softplus or linear)", s)
}

// Spec describes an MLP: layer widths from input to output, the activation
// on every hidden layer (the last layer is linear), the loss and whether the
// layers have biases.
type Spec struct {
	Layers     []int
	Activation kernels.Activation
	Loss       Loss
	Bias       bool
	// Init names the initialisation Plan.Init draws (see Inits); "" is
	// "he" for relu networks and "lecun" otherwise.
	Init InitKind
	// DType is the precision the model is meant to run in, a default for
	// commands given no --dtype; unset leaves it to them. A Plan's
	// precision is its type parameter.
	DType kernels.DType
}

// Inits are the initialisations Plan.Init knows: weights N(0, 1/fan_in)
// (lecun), N(0, 2/fan_in) (he, Kaiming), N(0, 2/(fan_in+fan_out))
// (xavier, Glorot), with zero biases; or pytorch, nn.Linear's default:
// weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
var Inits = []InitKind{InitLeCun, InitHe, InitXavier, InitPyTorch}

// ParseArch parses an architecture such as "784x512x512x10" into widths.
func ParseArch(s string) ([]int, error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(s)), "x")
	if len(parts) < 2 {
		return nil, fmt.Errorf("architecture %q: want at least two widths like 784x10", s)
	}
	widths := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("architecture %q: width %q is not a positive integer", s, p)
		}
		if n > MaxWidth {
			return nil, fmt.Errorf("architecture %q: width %d is above the ceiling of %d units per layer", s, n, MaxWidth)
		}
		widths[i] = n
	}
	return widths, nil
}

// Validate reports whether the spec describes a network the Plan can run.
func (s Spec) Validate() error {
	if len(s.Layers) < 2 {
		return fmt.Errorf("layers: want at least an input and an output width, have %v", s.Layers)
	}
	for i, n := range s.Layers {
		if n <= 0 {
			return fmt.Errorf("layers[%d] = %d: widths must be positive", i, n)
		}
		if n > MaxWidth {
			return fmt.Errorf("layers[%d] = %d: above the ceiling of %d units per layer", i, n, MaxWidth)
		}
	}
	if n, ok := s.numParams(); !ok {
		return fmt.Errorf("layers %v: more parameters than int64 holds, above the ceiling of %d", s.Layers, MaxParams)
	} else if n > MaxParams {
		return fmt.Errorf("layers %v: %d parameters, above the ceiling of %d", s.Layers, n, MaxParams)
	}
	if _, ok := activationNames[s.Activation]; !ok {
		return fmt.Errorf("activation %d unknown", int(s.Activation))
	}
	if s.Loss != CrossEntropy && s.Loss != MSE {
		return fmt.Errorf("loss %d unknown", int(s.Loss))
	}
	if s.Init != "" && !slices.Contains(Inits, s.Init) {
		return fmt.Errorf("init %q unknown (want lecun, he, xavier, pytorch)", s.Init)
	}
	if !s.DType.Valid() {
		return fmt.Errorf("dtype %s: want float32 or float64", s.DType)
	}
	if s.Loss == CrossEntropy && s.Outputs() < 2 {
		return fmt.Errorf("cross_entropy needs at least 2 outputs, have %d", s.Outputs())
	}
	return nil
}

// Inputs returns the input width.
func (s Spec) Inputs() int { return s.Layers[0] }

// Outputs returns the output width (classes or regression targets).
func (s Spec) Outputs() int { return s.Layers[len(s.Layers)-1] }

// NumLayers returns the number of weight layers.
func (s Spec) NumLayers() int { return len(s.Layers) - 1 }

// Arch returns the widths joined by "x", e.g. "784x512x10".
func (s Spec) Arch() string {
	p := make([]string, len(s.Layers))
	for i, n := range s.Layers {
		p[i] = strconv.Itoa(n)
	}
	return strings.Join(p, "x")
}

// Block locates one parameter array inside the flat parameter vector.
type Block struct {
	Name       string // "W0", "b0", ...
	Layer      int    // the weight layer it belongs to
	Bias       bool   // a bias vector rather than a weight matrix
	Offset     int
	Rows, Cols int // a bias is 1×out
}

// Size returns Rows*Cols.
func (b Block) Size() int { return b.Rows * b.Cols }

// Blocks returns the layout of the flat parameter vector: W0, b0, W1, b1,
// ... in order, biases absent when Bias is false.
func (s Spec) Blocks() []Block {
	var blocks []Block
	off := 0
	for l := 0; l < s.NumLayers(); l++ {
		in, out := s.Layers[l], s.Layers[l+1]
		blocks = append(blocks, Block{Name: fmt.Sprintf("W%d", l), Layer: l, Offset: off, Rows: in, Cols: out})
		off += in * out
		if s.Bias {
			blocks = append(blocks, Block{Name: fmt.Sprintf("b%d", l), Layer: l, Bias: true, Offset: off, Rows: 1, Cols: out})
			off += out
		}
	}
	return blocks
}

// NumParams returns the length of the flat parameter vector. The Spec
// must be valid (Validate): a count that overflows int panics.
func (s Spec) NumParams() int {
	n, ok := s.numParams()
	if !ok {
		panic("models: NumParams of an unvalidated Spec overflows")
	}
	return int(n)
}

// numParams returns the parameter count in checked arithmetic, and false
// when it overflows int64 (widths must be positive).
func (s Spec) numParams() (int64, bool) {
	var c checked
	var n int64
	for l := 0; l < s.NumLayers(); l++ {
		in, out := int64(s.Layers[l]), int64(s.Layers[l+1])
		n = c.add(n, c.mul(in, out))
		if s.Bias {
			n = c.add(n, out)
		}
	}
	return n, !c.overflow && n <= math.MaxInt
}

// modelFile is the JSON model file of DESIGN.md.
type modelFile struct {
	Layers     []int  `json:"layers"`
	Activation string `json:"activation"`
	Loss       string `json:"loss"`
	Bias       *bool  `json:"bias,omitempty"`
	Init       string `json:"init,omitempty"`
	DType      string `json:"dtype,omitempty"`
}

// MarshalJSON writes the model-file form of s.
func (s Spec) MarshalJSON() ([]byte, error) {
	b := s.Bias
	return json.Marshal(modelFile{Layers: s.Layers, Activation: ActivationName(s.Activation), Loss: s.Loss.String(), Bias: &b, Init: string(s.Init), DType: s.DType.String()})
}

// UnmarshalJSON reads the model-file form. A missing "bias" means true.
func (s *Spec) UnmarshalJSON(data []byte) error {
	var f modelFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return err
	}
	act, err := ParseActivation(f.Activation)
	if err != nil {
		return fmt.Errorf("field \"activation\": %w", err)
	}
	loss, err := ParseLoss(f.Loss)
	if err != nil {
		return fmt.Errorf("field \"loss\": %w", err)
	}
	// A bad dtype is reported where Validate would report it: after the
	// layers, activation, loss and init.
	dtype, dtypeErr := kernels.ParseDType(f.DType)
	*s = Spec{Layers: f.Layers, Activation: act, Loss: loss, Bias: f.Bias == nil || *f.Bias, Init: InitKind(f.Init), DType: dtype}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("field %s", err)
	}
	if dtypeErr != nil {
		return fmt.Errorf("field %s", dtypeErr)
	}
	return nil
}

// LoadSpec reads a model file.
func LoadSpec(path string) (Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, err
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return Spec{}, fmt.Errorf("model file %s: %w", path, err)
	}
	return s, nil
}
