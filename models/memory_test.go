package models

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// limitedBackend is a CPU backend that reports mem as its memory and counts
// the elements it is asked to allocate: a size refused before allocation
// leaves allocs at zero.
type limitedBackend[T kernels.Float] struct {
	*cpu.Backend[T]
	mem    kernels.MemInfo
	allocs int
}

func (b *limitedBackend[T]) MemInfo() (kernels.MemInfo, error) { return b.mem, nil }

func (b *limitedBackend[T]) Alloc(n int) kernels.Buffer {
	b.allocs += n
	return b.Backend.Alloc(n)
}

// A machine of 16 GiB with 12 GiB available.
var machine16 = kernels.MemInfo{Available: 12 << 30, Total: 16 << 30, Host: true, Where: "this machine"}

// needsGiB matches the estimate and the memory available in a refusal.
var needsGiB = regexp.MustCompile(`needs about [0-9.e+]+ [KMGTPE]iB of memory .*has 12 GiB available \(16 GiB in all\)`)

// Widths past the ceilings, and parameter counts that overflow int, are
// errors naming the field, from the model file and from ParseArch (the
// reproductions of issue 10: a width of MaxInt64 panicked in makeslice, or
// gave "the model has only -9 parameters").
func TestSpecCeilings(t *testing.T) {
	for _, c := range []struct{ layers, want string }{
		{"[8,9223372036854775807,3]", "layers[1] = 9223372036854775807: above the ceiling"},
		{"[4294967296,4294967296,2]", "layers[0] = 4294967296: above the ceiling"},
		{"[1073741824,1073741824,2]", "layers [1073741824 1073741824 2]: 1152921507828072450 parameters, above the ceiling"},
		{"[1073741824,1073741824,1073741824,1073741824,1073741824,1073741824,1073741824,1073741824,1073741824,2]", "above the ceiling"},
	} {
		var s Spec
		err := s.UnmarshalJSON([]byte(`{"layers":` + c.layers + `,"activation":"tanh","loss":"mse"}`))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "field layers") {
			t.Errorf("%s: error %v, want one naming the field and %q", c.layers, err, c.want)
		}
	}
	for _, arch := range []string{"8x9223372036854775807x3", "8x1073741825x3"} {
		if _, err := ParseArch(arch); err == nil || !strings.Contains(err.Error(), "ceiling") {
			t.Errorf("ParseArch(%q): error %v, want the ceiling", arch, err)
		}
	}
	// The largest valid widths and counts: NumParams is exact.
	s := Spec{Layers: []int{MaxWidth, 1023, 1}, Activation: kernels.Tanh, Loss: MSE, Bias: true}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.NumParams(), MaxWidth*1023+1023+1023+1; got != want {
		t.Errorf("NumParams %d, want %d", got, want)
	}
}

// Footprint counts each allocation by hand for a small network.
func TestFootprint(t *testing.T) {
	s := Spec{Layers: []int{4, 8, 2}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true} // 58 parameters
	f, err := s.Footprint(Usage{ElemSize: 8, Vectors: 2, HostVectors: 1, Samples: 10, Rows: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := Footprint{Spec: s, Usage: f.Usage,
		Params:     2 * 58 * 8,
		HostParams: 58 * 8,
		Data:       10 * (4 + 2 + 1) * 8,
		HostData:   10 * (4 + 2 + 1) * (8 + 8),
		Pass:       5 * (9*8 + 5*2 + 8) * 8, // the widest input is the hidden layer's 8
	}
	if f.Params != want.Params || f.HostParams != want.HostParams || f.Data != want.Data || f.HostData != want.HostData || f.Pass != want.Pass {
		t.Errorf("footprint %+v, want %+v", f, want)
	}
	if f.Total() != want.Params+want.HostParams+want.Data+want.HostData+want.Pass {
		t.Errorf("total %d", f.Total())
	}
}

// The pass scratch estimated is what a Plan allocates for its first
// gradient and Hessian-vector product (a cross-entropy network, where the
// estimate of five values per output is exact).
func TestFootprintPassMatchesPlan(t *testing.T) {
	for _, layers := range [][]int{{4, 8, 3}, {6, 5, 9, 3}, {12, 3}} {
		spec := Spec{Layers: layers, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
		be := &limitedBackend[float64]{Backend: cpu.New[float64](), mem: machine16}
		const rows = 7
		p, err := Build[float64](be, spec, Settings{Batch: rows, CacheBytes: -1})
		if err != nil {
			t.Fatal(err)
		}
		pb := newProblem(spec, rows, 1)
		if err := p.SetParams(pb.params); err != nil {
			t.Fatal(err)
		}
		d, err := p.NewData(pb.x, pb.n, pb.labels, pb.targets)
		if err != nil {
			t.Fatal(err)
		}
		v, dst := be.Alloc(p.NumParams()), be.Alloc(p.NumParams())
		before := be.allocs
		if err := p.HVP(t.Context(), dst, v, d); err != nil {
			t.Fatal(err)
		}
		f, err := spec.Footprint(Usage{ElemSize: 8, Rows: rows})
		if err != nil {
			t.Fatal(err)
		}
		if got := int64(be.allocs-before) * 8; got != f.Pass {
			t.Errorf("%v: the first HVP allocated %d bytes, the estimate of a pass is %d", layers, got, f.Pass)
		}
	}
}

// Sizes past int64 are a MemoryError, never a wrapped-around number.
func TestFootprintOverflow(t *testing.T) {
	s := Spec{Layers: []int{8, MaxWidth, 3}, Activation: kernels.Tanh, Loss: MSE, Bias: true}
	for _, u := range []Usage{
		{ElemSize: 4, Rows: math.MaxInt},
		{ElemSize: 8, Samples: math.MaxInt / 2},
		{ElemSize: 8, Vectors: math.MaxInt / 8},
		{ElemSize: 8, HostVectors: 1 << 40},
	} {
		_, err := s.Footprint(u)
		var me *MemoryError
		if !errors.As(err, &me) || !me.Overflow || !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "more than 8 EiB") {
			t.Errorf("%+v: error %v, want an overflow", u, err)
		}
	}
	if _, err := (Spec{Layers: []int{0, 3}}).Footprint(Usage{ElemSize: 4}); err == nil || errors.Is(err, ErrTooLarge) {
		t.Errorf("invalid spec: error %v, want the validation error", err)
	}
}

// Absurd networks are refused with the estimate and the memory available,
// before anything is allocated (issue 10: 8x1000000000x3 and
// 100000x100000x100000x3 ran out of memory with a stack dump).
func TestCheckMemoryRefusesBeforeAllocating(t *testing.T) {
	for _, layers := range [][]int{{8, 1000000000, 3}, {100000, 100000, 100000, 3}} {
		spec := Spec{Layers: layers, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
		be := &limitedBackend[float32]{Backend: cpu.New[float32](), mem: machine16}
		_, err := CheckMemory[float32](be, spec, Usage{Vectors: 4, Samples: 100, Rows: 100})
		if !errors.Is(err, ErrTooLarge) || !needsGiB.MatchString(err.Error()) || !strings.Contains(err.Error(), spec.Arch()+" float32") {
			t.Errorf("%v: CheckMemory: %v", layers, err)
		}
		_, err = Build[float32](be, spec, Settings{})
		if !errors.Is(err, ErrTooLarge) || !needsGiB.MatchString(err.Error()) {
			t.Errorf("%v: Build: %v", layers, err)
		}
		if be.allocs != 0 {
			t.Errorf("%v: %d elements allocated", layers, be.allocs)
		}
	}
	// What fits is not refused.
	spec := Spec{Layers: []int{784, 512, 10}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	be := &limitedBackend[float32]{Backend: cpu.New[float32](), mem: machine16}
	if _, err := CheckMemory[float32](be, spec, Usage{Vectors: 4, Samples: 60000, Rows: 512}); err != nil {
		t.Error(err)
	}
}

// On a GPU the backend's part is held against the device's free memory and
// the host copies against the host's.
func TestCheckMemoryDevice(t *testing.T) {
	gpu := kernels.MemInfo{Available: 1 << 30, Total: 2 << 30, Where: "the GPU cuda:0"}
	be := &limitedBackend[float32]{Backend: cpu.New[float32](), mem: gpu}
	spec := Spec{Layers: []int{1000, 1000, 10}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true} // 1.01e6 parameters, 4 MB
	_, err := CheckMemory[float32](be, spec, Usage{Vectors: 300})
	if err == nil || !strings.Contains(err.Error(), "the GPU cuda:0 has 1 GiB available (2 GiB in all)") {
		t.Errorf("device: %v", err)
	}
	if host, herr := kernels.HostMemInfo(); herr == nil {
		// Host copies of 1.01e6 float64 parameters, more of them than the host holds.
		n := int(host.Total/(8*int64(spec.NumParams()))) + 1
		_, err = CheckMemory[float32](be, spec, Usage{Vectors: 1, HostVectors: n})
		var me *MemoryError
		if !errors.As(err, &me) || !me.Host || !strings.Contains(err.Error(), "on the host; this machine has") {
			t.Errorf("host: %v", err)
		}
	}
}

// A weights file for a small model, read for an absurd one, is refused by
// its shapes before the absurd parameter vector is allocated (issue 10:
// LoadWeights allocated 88 GB first and died).
func TestLoadWeightsChecksShapesFirst(t *testing.T) {
	small := Spec{Layers: []int{8, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	path := filepath.Join(t.TempDir(), "w.npz")
	if err := SaveWeights(path, small, make([]float64, small.NumParams())); err != nil {
		t.Fatal(err)
	}
	for _, layers := range [][]int{{8, 1000000000, 3}, {8, MaxWidth, 3}} {
		big := Spec{Layers: layers, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
		_, err := LoadWeights(path, big)
		if err == nil || !strings.Contains(err.Error(), "array W0 has shape [8 3]") {
			t.Errorf("%v: error %v, want W0's shape", layers, err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// StateVectors counts the vectors NewOptimizer allocates.
func TestStateVectors(t *testing.T) {
	for _, s := range []OptimizerSettings{{Kind: "gd", LR: 0.1}, {Kind: "sgd", LR: 0.1}, {Kind: "sgd", LR: 0.1, Momentum: 0.9},
		{Kind: "nesterov", LR: 0.1, Momentum: 0.9}, {Kind: "adam", LR: 0.1}, {Kind: "Adam", LR: 0.1}} {
		be := &limitedBackend[float64]{Backend: cpu.New[float64](), mem: machine16}
		if _, err := NewOptimizer[float64](be, 10, s); err != nil {
			t.Fatal(err)
		}
		if got := be.allocs / 10; got != s.StateVectors() {
			t.Errorf("%+v: NewOptimizer allocated %d vectors, StateVectors says %d", s, got, s.StateVectors())
		}
	}
}

// A Hessian operator keeps its forward passes only where they fit the
// memory the backend can still allocate, whatever Settings.CacheBytes
// allows (bench lambda's 8 GiB cache on a smaller machine).
func TestOperatorCacheFitsMemory(t *testing.T) {
	spec := Spec{Layers: []int{5, 9, 4}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	pr := newProblem(spec, 20, 3)
	for _, c := range []struct {
		avail  int64
		cached bool
	}{{1 << 30, true}, {8 << 10, false}} {
		be := &limitedBackend[float64]{Backend: cpu.New[float64](), mem: kernels.MemInfo{Available: c.avail, Total: 1 << 30, Host: true, Where: "this machine"}}
		p, err := Build[float64](be, spec, Settings{Batch: 8, CacheBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.NewData(pr.x, pr.n, pr.labels, pr.targets)
		if err != nil {
			t.Fatal(err)
		}
		op := p.CurvatureOperator(d, Hessian)
		if got := op.cached != nil; got != c.cached {
			t.Errorf("%d bytes available: cached %v, want %v", c.avail, got, c.cached)
		}
		op.Close()
	}
}
