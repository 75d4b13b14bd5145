package models

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/curvprobe/curvprobe/kernels"
)

// Ceilings on a Spec's sizes, checked by Validate. They sit far above any
// network that fits a machine (MaxParams float32 parameters are 4 TiB) and
// keep every size computed from a valid Spec (parameter offsets, batch ×
// width products, bytes) within int64; what lies below them but does not
// fit is refused by the memory estimate (Footprint, CheckMemory).
const (
	// MaxWidth is the widest layer, in units.
	MaxWidth = 1 << 30
	// MaxParams is the most parameters a network may have.
	MaxParams = 1 << 40
)

// ErrTooLarge reports a model, batch or data set whose memory would not fit
// or whose size cannot even be represented. A *MemoryError wraps it.
var ErrTooLarge = errors.New("models: too large")

// Usage is what a computation holds in memory beyond the Plan's structure:
// counts of parameter-length vectors, samples and rows. Negative counts are
// programmer errors.
type Usage struct {
	// ElemSize is the bytes per float on the backend: 4 (float32) or 8
	// (float64). CheckMemory sets it from the backend's type.
	ElemSize int
	// Vectors is the number of parameter-length vectors on the backend,
	// the parameters themselves included (gradient, optimizer state,
	// directions, products, eigenvector estimates).
	Vectors int
	// HostVectors is the number of float64 parameter-length vectors on
	// the host (weights read from a file, a checkpoint being written).
	HostVectors int
	// Samples is the number of samples uploaded: each holds its inputs,
	// one label and its targets on the backend, and a float64 host copy
	// with the converted values it is uploaded from.
	Samples int
	// Rows is the number of samples per backend pass (Settings.Batch):
	// the scratch of one forward and backward pass with its tangents.
	Rows int
}

// Footprint is an estimate, in bytes, of the memory a Usage of a Spec
// needs. It counts the large allocations (parameter vectors, data and one
// pass's scratch: per sample nine values per hidden unit, five per output
// and the widest layer's input, as newState and newTangents allocate), not
// the Gorgonia graph, the cache of forward passes (Settings.CacheBytes) or
// the estimators' Krylov bases, so it is a lower bound that refuses what
// cannot fit rather than a promise that the rest will.
type Footprint struct {
	Spec  Spec
	Usage Usage
	// Params is the backend's Vectors parameter-length vectors.
	Params int64
	// HostParams is the HostVectors float64 host copies.
	HostParams int64
	// Data is the backend's copy of the samples; HostData their host
	// copies.
	Data, HostData int64
	// Pass is one pass's scratch over Usage.Rows samples.
	Pass int64
}

// Backend returns the bytes allocated on the backend.
func (f Footprint) Backend() int64 { return f.Params + f.Data + f.Pass }

// Host returns the bytes allocated on the host besides the backend's.
func (f Footprint) Host() int64 { return f.HostParams + f.HostData }

// Total returns all the bytes, the backend's and the host's. Footprint
// guarantees it does not overflow.
func (f Footprint) Total() int64 { return f.Backend() + f.Host() }

// String says what f needs, e.g. "a 784x512x10 float32 network needs about
// 1.2 GiB of memory (4 parameter vectors 6.2 MiB, 60000 samples 1.1 GiB, a
// pass over 512 samples 11 MiB)".
func (f Footprint) String() string {
	host := ""
	if f.Usage.HostVectors > 0 {
		host = fmt.Sprintf(", %d host copies of them %s", f.Usage.HostVectors, FormatBytes(f.HostParams))
	}
	return fmt.Sprintf("a %s %s network needs about %s of memory (%d parameter vectors %s%s, %d samples %s, a pass over %d samples %s)",
		f.Spec.Arch(), dtypeName(f.Usage.ElemSize), FormatBytes(f.Total()), f.Usage.Vectors, FormatBytes(f.Params), host,
		f.Usage.Samples, FormatBytes(f.Data+f.HostData), f.Usage.Rows, FormatBytes(f.Pass))
}

func dtypeName(elem int) string {
	if elem == 4 {
		return "float32"
	}
	return "float64"
}

// Footprint estimates the memory of u for s, in checked int64 arithmetic:
// a size that overflows int64 (more than 8 EiB) is a *MemoryError wrapping
// ErrTooLarge, never a wrapped-around number. An invalid Spec is
// Validate's error.
func (s Spec) Footprint(u Usage) (Footprint, error) {
	if u.Vectors < 0 || u.HostVectors < 0 || u.Samples < 0 || u.Rows < 0 || (u.ElemSize != 4 && u.ElemSize != 8) {
		panic(fmt.Sprintf("models: Footprint of %+v", u))
	}
	f := Footprint{Spec: s, Usage: u}
	if err := s.Validate(); err != nil {
		return f, err
	}
	var c checked
	n := int64(s.NumParams())
	e := int64(u.ElemSize)
	in, out := int64(s.Inputs()), int64(s.Outputs())
	var hidden, widest int64
	for l := 0; l < s.NumLayers(); l++ {
		widest = max(widest, int64(s.Layers[l]))
		if l > 0 {
			hidden = c.add(hidden, int64(s.Layers[l]))
		}
	}
	perSample := c.add(c.add(in, out), 1)
	perRow := c.add(c.add(c.mul(9, hidden), c.mul(5, out)), widest)
	f.Params = c.mul(c.mul(int64(u.Vectors), n), e)
	f.HostParams = c.mul(c.mul(int64(u.HostVectors), n), 8)
	f.Data = c.mul(c.mul(int64(u.Samples), perSample), e)
	f.HostData = c.mul(c.mul(int64(u.Samples), perSample), 8+e)
	f.Pass = c.mul(c.mul(int64(u.Rows), perRow), e)
	c.add(c.add(c.add(c.add(f.Params, f.HostParams), f.Data), f.HostData), f.Pass)
	if c.overflow {
		return f, &MemoryError{Need: f, Overflow: true}
	}
	return f, nil
}

// checked is int64 arithmetic on non-negative values that records an
// overflow instead of wrapping; after one, every result is meaningless
// and overflow stays set.
type checked struct{ overflow bool }

func (c *checked) mul(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		c.overflow = true
	}
	return int64(lo & math.MaxInt64)
}

func (c *checked) add(a, b int64) int64 {
	sum := uint64(a) + uint64(b)
	if sum > math.MaxInt64 {
		c.overflow = true
	}
	return int64(sum & math.MaxInt64)
}

// MemoryError reports a Footprint that does not fit the memory available,
// or cannot be computed. It wraps ErrTooLarge.
type MemoryError struct {
	// Need is the estimate (its byte counts are meaningless when Overflow).
	Need Footprint
	// Overflow is true when the size cannot be represented in int64.
	Overflow bool
	// Have is the memory that was too small; its Where is "" when the
	// size was refused without knowing the memory (Overflow).
	Have kernels.MemInfo
	// Host is true when the host copies did not fit the host's memory
	// while the backend's memory (a GPU's) was not the limit.
	Host bool
}

// Error says what is needed and what there is, e.g. "a 8x1000000000x3
// float32 network needs about 18.4 TiB of memory (...); this machine has
// 21.9 GiB available (23.4 GiB in all)".
func (e *MemoryError) Error() string {
	if e.Overflow {
		return fmt.Sprintf("a %s %s network with %d parameter vectors, %d samples and passes over %d samples needs more than 8 EiB of memory",
			e.Need.Spec.Arch(), dtypeName(e.Need.Usage.ElemSize), e.Need.Usage.Vectors, e.Need.Usage.Samples, e.Need.Usage.Rows)
	}
	msg := e.Need.String()
	if e.Host {
		msg += fmt.Sprintf(", of which %s on the host", FormatBytes(e.Need.Host()))
	}
	return fmt.Sprintf("%s; %s has %s available (%s in all)", msg, e.Have.Where, FormatBytes(e.Have.Available), FormatBytes(e.Have.Total))
}

// Unwrap returns ErrTooLarge.
func (e *MemoryError) Unwrap() error { return ErrTooLarge }

// CheckMemory estimates the memory of u for spec on be (Footprint, with
// u.ElemSize set from T) and returns a *MemoryError when it does not fit:
// when the estimate overflows, or exceeds what be can still allocate
// (kernels.MemoryReporter: the host's MemAvailable for the CPU, the free
// memory of a GPU), or, on a GPU, when the host copies exceed the host's
// available memory. Where the memory cannot be known only overflow is
// refused. Call it before allocating.
func CheckMemory[T kernels.Float](be kernels.Memory[T], spec Spec, u Usage) (Footprint, error) {
	u.ElemSize = kernels.ElemSize[T]()
	f, err := spec.Footprint(u)
	if err != nil {
		return f, err
	}
	var dev *kernels.MemInfo
	if r, ok := be.(kernels.MemoryReporter); ok {
		if mi, err := r.MemInfo(); err == nil {
			dev = &mi
		}
	}
	if dev != nil && dev.Host {
		if f.Total() > dev.Available {
			return f, &MemoryError{Need: f, Have: *dev}
		}
		return f, nil
	}
	if dev != nil && f.Backend() > dev.Available {
		return f, &MemoryError{Need: f, Have: *dev}
	}
	if host, err := kernels.HostMemInfo(); err == nil && f.Host() > host.Available {
		return f, &MemoryError{Need: f, Have: host, Host: true}
	}
	return f, nil
}

// Culprit is the part of a Usage that CheckMemoryCulprit blames for a
// refusal.
type Culprit int

// The culprits, from the model to the rows of a pass.
const (
	// NoCulprit: the usage fits.
	NoCulprit Culprit = iota
	// CulpritModel: the model, its vectors included, does not fit even the
	// smallest run (SmallestRun).
	CulpritModel
	// CulpritSamples: the samples do not fit, even in passes of one sample.
	CulpritSamples
	// CulpritRows: passes of Usage.Rows samples do not fit where passes of
	// one sample would.
	CulpritRows
)

// SmallestRun returns u with one sample in passes of one sample: the least
// a computation of u's vectors needs. A model refused with it is too large
// whatever the data and batch.
func SmallestRun(u Usage) Usage {
	u.Samples, u.Rows = 1, 1
	return u
}

// CheckMemoryCulprit is CheckMemory that, on a refusal, also says which
// setting to blame, so that every command names the same one: the model
// when the smallest run (SmallestRun) does not fit; else the samples when
// they do not fit in passes of one sample; else the rows per pass. The
// Footprint and the error are CheckMemory's for u itself.
func CheckMemoryCulprit[T kernels.Float](be kernels.Memory[T], spec Spec, u Usage) (Footprint, Culprit, error) {
	f, err := CheckMemory(be, spec, u)
	if err == nil {
		return f, NoCulprit, nil
	}
	fits := func(v Usage) bool {
		_, err := CheckMemory(be, spec, v)
		return err == nil
	}
	one := u
	one.Rows = 1
	switch {
	case !fits(SmallestRun(u)):
		return f, CulpritModel, err
	case !fits(one):
		return f, CulpritSamples, err
	}
	return f, CulpritRows, err
}

// fits reports whether bytes more fit the memory p's backend can still
// allocate (true where it cannot tell).
func (p *Plan[T]) fits(bytes int64) bool {
	r, ok := p.be.(kernels.MemoryReporter)
	if !ok {
		return true
	}
	mi, err := r.MemInfo()
	return err != nil || bytes <= mi.Available
}

// StateVectors returns the number of parameter-length vectors the
// optimizer of s keeps (NewOptimizer): Adam's two moments, a momentum
// buffer, or none.
func (s OptimizerSettings) StateVectors() int {
	switch {
	case strings.EqualFold(string(s.Kind), string(Adam)):
		return 2
	case s.Momentum > 0:
		return 1
	}
	return 0
}

// FormatBytes writes b in binary units with three significant digits,
// e.g. "477 GiB".
func FormatBytes(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", v, units[i])
}
