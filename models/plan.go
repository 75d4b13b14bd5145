package models

import (
	"errors"
	"fmt"
	"math"

	"github.com/curvprobe/curvprobe/kernels"
	"gorgonia.org/tensor"
)

// Settings configure a Plan. The zero value is usable.
type Settings struct {
	// Batch is the number of samples per backend pass; 0 means
	// DefaultBatch (512).
	// Full-dataset quantities are accumulated over batches of this size.
	Batch int
	// CacheBytes bounds the memory a Hessian operator may use to keep each
	// batch's forward pass between products; 0 means 1 GiB, negative means
	// never cache (recompute the forward pass for every product).
	CacheBytes int64
}

// DefaultBatch is the samples per backend pass of Settings{}.
const DefaultBatch = 512

func (s Settings) batch() int {
	if s.Batch <= 0 {
		return DefaultBatch
	}
	return s.Batch
}

// ErrNonFinite reports a NaN or infinite loss, gradient or product.
var ErrNonFinite = errors.New("models: non-finite value")

// Plan evaluates a lowered MLP on a Backend: loss, accuracy, gradient, exact
// Hessian-vector products and Gauss-Newton-vector products over a Data set,
// with parameters held in one flat backend buffer (see Spec.Blocks).
// A Plan is not safe for concurrent use.
type Plan[T kernels.Float] struct {
	be     kernels.Backend[T]
	prog   Program
	spec   Spec
	batch  int
	cache  int64
	params kernels.Buffer
	blocks []Block
	scr    *state    // scratch for one batch
	stage  *stage[T] // one batch of streamed data (NewHostData), made on first use
}

// Build builds spec's Gorgonia graph, lowers it and returns its Plan on be.
// Like NewPlan it refuses a network that does not fit be's memory, before
// building anything.
func Build[T kernels.Float](be kernels.Backend[T], spec Spec, s Settings) (*Plan[T], error) {
	if _, err := CheckMemory(be, spec, Usage{Vectors: 1, Rows: s.batch()}); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	dt := tensor.Float64
	if kernels.ElemSize[T]() == 4 {
		dt = tensor.Float32
	}
	gr, err := NewGraph(spec, 1, dt)
	if err != nil {
		return nil, err
	}
	prog, err := Lower(gr)
	if err != nil {
		return nil, err
	}
	p, err := NewPlan(be, prog, s)
	if err != nil {
		return nil, err
	}
	p.spec.Init, p.spec.DType = spec.Init, spec.DType
	return p, nil
}

// NewPlan returns the Plan of a lowered program on be, with zeroed
// parameters. A network whose parameters and one pass's scratch do not fit
// be's memory (CheckMemory) is an error wrapping ErrTooLarge.
func NewPlan[T kernels.Float](be kernels.Backend[T], prog *Program, s Settings) (*Plan[T], error) {
	spec := prog.Spec()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	// The parameters and one pass's scratch, before allocating either:
	// callers check their whole usage first, naming what they were given.
	if _, err := CheckMemory(be, spec, Usage{Vectors: 1, Rows: s.batch()}); err != nil {
		return nil, fmt.Errorf("models: %w", err)
	}
	p := &Plan[T]{be: be, prog: *prog, spec: spec, batch: s.batch(), cache: s.CacheBytes, blocks: spec.Blocks()}
	if p.cache == 0 {
		p.cache = 1 << 30
	}
	p.params = be.Alloc(spec.NumParams())
	return p, nil
}

// Spec returns the network's Spec.
func (p *Plan[T]) Spec() Spec { return p.spec }

// Backend returns the backend the plan runs on.
func (p *Plan[T]) Backend() kernels.Backend[T] { return p.be }

// NumParams returns the length of the flat parameter vector.
func (p *Plan[T]) NumParams() int { return p.spec.NumParams() }

// Params returns the flat parameter buffer. Writing it changes the model.
func (p *Plan[T]) Params() kernels.Buffer { return p.params }

// SetParams copies host values into the parameters.
func (p *Plan[T]) SetParams(v []float64) error {
	if len(v) != p.NumParams() {
		return fmt.Errorf("models: %d parameter values for a model of %d parameters", len(v), p.NumParams())
	}
	Upload(p.be, p.params, v)
	return nil
}

// ParamsHost returns a host copy of the parameters.
func (p *Plan[T]) ParamsHost() []float64 { return Download(p.be, p.params) }

// Download copies a backend buffer to a new float64 host slice.
func Download[T kernels.Float](be kernels.Memory[T], b kernels.Buffer) []float64 {
	tmp := make([]T, b.Len())
	be.Download(tmp, b)
	out := make([]float64, len(tmp))
	for i, x := range tmp {
		out[i] = float64(x)
	}
	return out
}

// Init draws the parameters from seed by the Spec's Init scheme (see
// Inits): by default N(0, gain/fan_in) weights with gain 2 for relu (He et
// al. 2015) and 1 otherwise (LeCun), and zero biases. The normal schemes
// fill on the backend with its counter-based Normal stream; pytorch's
// uniform draws are made on the host from kernels.Uint64At and uploaded, so
// every backend starts from the same parameters.
func (p *Plan[T]) Init(seed uint64) {
	scheme := p.spec.Init
	if scheme == "" {
		scheme = "lecun"
		if p.prog.Acts[0] == kernels.ReLU {
			scheme = "he"
		}
	}
	if scheme == "pytorch" {
		host := make([]float64, p.NumParams())
		for _, b := range p.blocks {
			bound := 1 / math.Sqrt(float64(p.spec.Layers[b.Layer]))
			for i := 0; i < b.Size(); i++ {
				u := float64(kernels.Uint64At(seed, uint64(b.Offset+i))>>11) * 0x1p-53
				host[b.Offset+i] = bound * (2*u - 1)
			}
		}
		Upload(p.be, p.params, host)
		return
	}
	p.be.Fill(p.params, 0)
	for l, b := range p.weightBlocks() {
		v := p.be.View(p.params, b.Offset, b.Size())
		p.be.Normal(v, seed+uint64(l)*0x9E3779B97F4A7C15)
		variance := 1 / float64(b.Rows)
		switch scheme {
		case "he":
			variance = 2 / float64(b.Rows)
		case "xavier":
			variance = 2 / float64(b.Rows+b.Cols)
		}
		p.be.Scale(math.Sqrt(variance), v)
	}
}

func (p *Plan[T]) weightBlocks() []Block {
	var out []Block
	for _, b := range p.blocks {
		if !b.Bias {
			out = append(out, b)
		}
	}
	return out
}

// views returns the per-layer W and b views of a flat vector laid out like
// the parameters (b entries are nil without biases).
func (p *Plan[T]) views(flat kernels.Buffer) (w, b []kernels.Buffer) {
	nl := p.spec.NumLayers()
	w, b = make([]kernels.Buffer, nl), make([]kernels.Buffer, nl)
	for _, blk := range p.blocks {
		v := p.be.View(flat, blk.Offset, blk.Size())
		if blk.Bias {
			b[blk.Layer] = v
		} else {
			w[blk.Layer] = v
		}
	}
	return w, b
}

// Data is a dataset for a Plan: inputs x [N, D], and labels (cross-entropy;
// optional for MSE, where they give accuracy) and targets [N, C] (MSE).
// Made by NewData it lives on the Plan's backend; made by NewHostData it
// stays in host memory and each pass uploads one batch at a time.
type Data struct {
	N       int
	x       kernels.Buffer
	labels  kernels.Buffer // nil when absent
	targets kernels.Buffer // nil for cross-entropy
	host    *hostData      // not nil: streamed from host memory
}

// hostData is a dataset kept in host memory (NewHostData) or read from a
// Source (NewSourceData).
type hostData struct {
	x       []float64 // N×D
	labels  []int     // nil when absent
	targets []float64 // N×C; nil for cross-entropy

	// src, when not nil, is read instead of x, labels and targets: sample i
	// of the Data is the source's sample off+i, and hasLabels and
	// hasTargets say which of labels and targets it fills.
	src                   Source
	off                   int
	hasLabels, hasTargets bool
}

// withLabels reports whether the data have labels.
func (h *hostData) withLabels() bool { return h.labels != nil || h.hasLabels }

// Source is a dataset read a batch at a time, for data larger than the host
// memory a Plan should hold (data files read on demand).
type Source interface {
	// ReadBatch reads samples [start, start+n) with n = len(labels) or
	// len(x)/inputs: their inputs into x (n×inputs, row-major), their class
	// labels into labels unless it is nil, and their targets into targets
	// (n×outputs) unless it is nil. An error (a file changed since it was
	// opened, a read failing) names what failed.
	ReadBatch(start int, x []float64, labels []int, targets []float64) error
}

// A ViewSource is a Source that may hand out its samples where they lie in
// host memory instead of copying them (a data set held in memory), so that
// a pass over it reads no copy. View returns samples [start, start+n) as
// ReadBatch would read them, sharing its storage (nil labels or targets
// where it has none), or ok false when they must be read with ReadBatch
// (e.g. when they are computed on read). The views must not change while
// the Data is in use.
type ViewSource interface {
	Source
	View(start, n int) (x []float64, labels []int, targets []float64, ok bool)
}

// stage is the backend's copy of one batch of streamed data, the host
// buffer its values are converted in and, for a Source, the host buffers a
// batch is read into.
type stage[T kernels.Float] struct {
	x, labels, targets kernels.Buffer
	conv               []T
	hx, ht             []float64
	hl                 []int
}

// Streamed reports whether d stays in host memory (NewHostData), so that
// the backend holds one batch of it at a time.
func (d *Data) Streamed() bool { return d.host != nil }

// NewHostData checks a dataset like NewData but keeps it in host memory,
// without copying it: x, labels and targets must not change while the
// Data is in use. Every pass over it uploads one batch at a time into a
// buffer of Settings.Batch samples that the Plan keeps, so that the
// backend's memory for data is bounded by the batch whatever n is (for the
// CPU backend, the dataset's host copy is then the only one).
func (p *Plan[T]) NewHostData(x []float64, n int, labels []int, targets []float64) (*Data, error) {
	if err := p.checkData(x, n, labels, targets); err != nil {
		return nil, err
	}
	h := &hostData{x: x, labels: labels}
	if p.spec.Loss == MSE {
		h.targets = targets
	}
	return &Data{N: n, host: h}, nil
}

// NewSourceData returns a Data of n samples read from src one batch at a
// time: every pass reads and uploads each batch in turn, so that neither
// the host nor the backend holds more than Settings.Batch samples of it.
// labels says whether src has class labels (required for cross-entropy,
// optional for MSE, where they give accuracy); MSE reads targets from src.
// Each batch's labels are checked to lie in [0, outputs) as it is read;
// src must otherwise hold what the model takes (the caller checked it when
// it opened the file). Errors of src are returned by the pass that read it.
func (p *Plan[T]) NewSourceData(src Source, n int, labels bool) (*Data, error) {
	switch {
	case n <= 0:
		return nil, fmt.Errorf("models: data has %d samples", n)
	case p.spec.Loss == CrossEntropy && !labels:
		return nil, fmt.Errorf("models: cross_entropy needs integer labels")
	}
	return &Data{N: n, host: &hostData{src: src, hasLabels: labels, hasTargets: p.spec.Loss == MSE}}, nil
}

// checkData checks a dataset for NewData and NewHostData.
func (p *Plan[T]) checkData(x []float64, n int, labels []int, targets []float64) error {
	d, c := p.spec.Inputs(), p.spec.Outputs()
	if n <= 0 {
		return fmt.Errorf("models: data has %d samples", n)
	}
	if len(x) != n*d {
		return fmt.Errorf("models: data x has %d values, want %d samples × %d inputs = %d", len(x), n, d, n*d)
	}
	if labels != nil {
		if len(labels) != n {
			return fmt.Errorf("models: %d labels for %d samples", len(labels), n)
		}
		for i, l := range labels {
			if l < 0 || l >= c {
				return fmt.Errorf("models: label %d of sample %d is outside [0, %d)", l, i, c)
			}
		}
	}
	switch p.spec.Loss {
	case CrossEntropy:
		if labels == nil {
			return fmt.Errorf("models: cross_entropy needs integer labels")
		}
	case MSE:
		if len(targets) != n*c {
			return fmt.Errorf("models: mse needs %d×%d targets, have %d values", n, c, len(targets))
		}
	}
	return nil
}

// streamBatch uploads samples [start, start+n) of the streamed d into the
// Plan's stage and returns views of them.
func (p *Plan[T]) streamBatch(d *Data, start, n int) (batchData, error) {
	be, h := p.be, d.host
	D, C := p.spec.Inputs(), p.spec.Outputs()
	if p.stage == nil {
		p.stage = &stage[T]{x: be.Alloc(p.batch * D), labels: be.Alloc(p.batch), targets: be.Alloc(p.batch * C),
			conv: make([]T, p.batch*max(D, C))}
	}
	st := p.stage
	if h.src != nil {
		var err error
		if h, err = p.readSource(h, start, n); err != nil {
			return batchData{}, err
		}
		start = 0
	}
	put := func(dst kernels.Buffer, src []float64) kernels.Buffer {
		c := st.conv[:len(src)]
		for i, v := range src {
			c[i] = T(v)
		}
		v := be.View(dst, 0, len(src))
		be.Upload(v, c)
		return v
	}
	bd := batchData{n: n, x: put(st.x, h.x[start*D:(start+n)*D])}
	if h.labels != nil {
		c := st.conv[:n]
		for i, l := range h.labels[start : start+n] {
			c[i] = T(l)
		}
		bd.labels = be.View(st.labels, 0, n)
		be.Upload(bd.labels, c)
	}
	if h.targets != nil {
		bd.target = put(st.targets, h.targets[start*C:(start+n)*C])
	}
	return bd, nil
}

// readSource reads samples [start, start+n) of h's source into the stage's
// host buffers, or takes views of them from a ViewSource, and returns them
// as in-memory data of n samples, with the labels checked.
func (p *Plan[T]) readSource(h *hostData, start, n int) (*hostData, error) {
	st := p.stage
	D, C := p.spec.Inputs(), p.spec.Outputs()
	if b, ok := viewSource(h, h.off+start, n, D, C); ok {
		return b, checkLabels(b.labels, h.off+start, C)
	}
	if st.hx == nil {
		st.hx = make([]float64, p.batch*D)
	}
	b := &hostData{x: st.hx[:n*D]}
	if h.hasLabels {
		if st.hl == nil {
			st.hl = make([]int, p.batch)
		}
		b.labels = st.hl[:n]
	}
	if h.hasTargets {
		if st.ht == nil {
			st.ht = make([]float64, p.batch*C)
		}
		b.targets = st.ht[:n*C]
	}
	if err := h.src.ReadBatch(h.off+start, b.x, b.labels, b.targets); err != nil {
		return nil, err
	}
	return b, checkLabels(b.labels, h.off+start, C)
}

// viewSource returns samples [start, start+n) of h's source as views, when
// it is a ViewSource that gives them. It panics if the views are not of
// the sizes ReadBatch would fill (with the labels and targets h reads).
func viewSource(h *hostData, start, n, D, C int) (*hostData, bool) {
	vs, ok := h.src.(ViewSource)
	if !ok {
		return nil, false
	}
	x, labels, targets, ok := vs.View(start, n)
	if !ok {
		return nil, false
	}
	if len(x) != n*D || h.hasLabels && len(labels) != n || h.hasTargets && len(targets) != n*C {
		panic(fmt.Sprintf("models: View of %d samples gave %d inputs, %d labels, %d targets", n, len(x), len(labels), len(targets)))
	}
	b := &hostData{x: x}
	if h.hasLabels {
		b.labels = labels
	}
	if h.hasTargets {
		b.targets = targets
	}
	return b, true
}

// checkLabels checks that the labels of samples first, first+1, ... lie in
// [0, C).
func checkLabels(labels []int, first, C int) error {
	for i, l := range labels {
		if l < 0 || l >= C {
			return fmt.Errorf("models: label %d of sample %d is outside [0, %d)", l, first+i, C)
		}
	}
	return nil
}

// NewData uploads a dataset: x holds n rows of Spec.Inputs() values;
// labels (length n, in [0, C)) are required for cross-entropy and optional
// for MSE; targets (n rows of C values) are required for MSE.
func (p *Plan[T]) NewData(x []float64, n int, labels []int, targets []float64) (*Data, error) {
	if err := p.checkData(x, n, labels, targets); err != nil {
		return nil, err
	}
	out := &Data{N: n, x: p.be.Alloc(len(x))}
	Upload(p.be, out.x, x)
	if labels != nil {
		lv := make([]T, n)
		for i, l := range labels {
			lv[i] = T(l)
		}
		out.labels = p.be.Alloc(n)
		p.be.Upload(out.labels, lv)
	}
	if p.spec.Loss == MSE {
		out.targets = p.be.Alloc(len(targets))
		Upload(p.be, out.targets, targets)
	}
	return out, nil
}

// Free releases the data's backend buffers.
func (p *Plan[T]) FreeData(d *Data) {
	for _, b := range []kernels.Buffer{d.x, d.labels, d.targets} {
		if b != nil {
			p.be.Free(b)
		}
	}
}

// Upload copies the float64 host slice src, converted to T, into the
// backend buffer dst: the inverse of Download.
func Upload[T kernels.Float](be kernels.Memory[T], dst kernels.Buffer, src []float64) {
	tmp := make([]T, len(src))
	for i, x := range src {
		tmp[i] = T(x)
	}
	be.Upload(dst, tmp)
}

// Slice returns the n samples of d starting at start, sharing d's storage
// (a mini-batch). Freeing it is not needed; freeing d invalidates it.
func (p *Plan[T]) Slice(d *Data, start, n int) *Data {
	if start < 0 || n <= 0 || start+n > d.N {
		panic(fmt.Sprintf("models: Slice [%d, %d) of %d samples", start, start+n, d.N))
	}
	if h := d.host; h != nil && h.src != nil {
		s := *h
		s.off += start
		return &Data{N: n, host: &s}
	}
	if h := d.host; h != nil {
		D, C := p.spec.Inputs(), p.spec.Outputs()
		s := &hostData{x: h.x[start*D : (start+n)*D]}
		if h.labels != nil {
			s.labels = h.labels[start : start+n]
		}
		if h.targets != nil {
			s.targets = h.targets[start*C : (start+n)*C]
		}
		return &Data{N: n, host: s}
	}
	bd, _ := p.batchOf(d, start, n) // data on the backend: no error
	return &Data{N: n, x: bd.x, labels: bd.labels, targets: bd.target}
}
