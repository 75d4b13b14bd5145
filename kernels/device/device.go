package device

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// Kind is the kind of device a Name asks for.
type Kind uint8

// The device kinds.
const (
	// Auto is the first GPU when one is usable, else the CPU.
	Auto Kind = iota
	// CPU is the CPU backend.
	CPU
	// CUDA is the GPU of Name.Ordinal; an error without it.
	CUDA
)

// Name is a parsed device name: its kind and, for CUDA, the GPU ordinal.
// The zero Name is auto.
type Name struct {
	Kind    Kind
	Ordinal int
}

// Help describes the device grammar, for a flag's usage text.
const Help = "auto (the GPU when one is usable, else the CPU), cpu, cuda, or cuda:N (the GPU of ordinal N)"

// Parse returns the device named s: "auto" (or ""), "cpu", "cuda" (or
// "gpu", the GPU of ordinal 0) or "cuda:N" for N made of decimal digits.
// The error names s and begins with "device".
func Parse(s string) (Name, error) {
	switch s {
	case "auto", "":
		return Name{Kind: Auto}, nil
	case "cpu":
		return Name{Kind: CPU}, nil
	case "cuda", "gpu":
		return Name{Kind: CUDA}, nil
	}
	if n, ok := strings.CutPrefix(s, "cuda:"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		if i, err := strconv.Atoi(n); err == nil {
			return Name{Kind: CUDA, Ordinal: i}, nil
		}
	}
	return Name{}, fmt.Errorf("device %q: want auto, cpu, cuda or cuda:N", s)
}

// String returns n in the form Parse reads: auto, cpu, cuda or cuda:N.
func (n Name) String() string {
	switch n.Kind {
	case Auto:
		return "auto"
	case CPU:
		return "cpu"
	}
	if n.Ordinal == 0 {
		return "cuda"
	}
	return "cuda:" + strconv.Itoa(n.Ordinal)
}

// Options are how a device is opened. The zero Options are the defaults.
type Options struct {
	// TF32 lets cuBLAS use TF32 tensor cores for float32 GEMMs on the GPU
	// (cuda.Options.TF32).
	TF32 bool
	// Sync makes every GPU kernel launch synchronous and timed
	// (cuda.Options.Synchronous; cuda.Open also sets it on
	// CURVPROBE_CUDA_SYNC=1).
	Sync bool
	// Threads is the CPU backend's thread count, process wide
	// (cpu.SetThreads); 0 means one per core. Negative is an error.
	Threads int
	// Notes, if not nil, receives one line saying which device auto
	// chose and why.
	Notes io.Writer
}

// gpus holds the process's CUDA devices, each opened on first use with its
// options and kept open.
var gpus struct {
	mu     sync.Mutex
	opened map[cuda.Options]gpuResult
}

type gpuResult struct {
	dev *cuda.Device
	err error
}

// openGPU returns the GPU of ordinal with o's options, opening it the
// first time it is asked for; a failure is remembered too.
func openGPU(ordinal int, o Options) (*cuda.Device, error) {
	co := cuda.Options{Ordinal: ordinal, TF32: o.TF32, Synchronous: o.Sync}
	gpus.mu.Lock()
	defer gpus.mu.Unlock()
	if r, ok := gpus.opened[co]; ok {
		return r.dev, r.err
	}
	dev, err := cuda.Open(co)
	if gpus.opened == nil {
		gpus.opened = map[cuda.Options]gpuResult{}
	}
	gpus.opened[co] = gpuResult{dev, err}
	return dev, err
}

// Open returns the backend of T on the device n: the CPU, the GPU of
// n.Ordinal (an error without it: cuda's, unwrapped, for the caller to
// name its source), or for auto the first GPU when one is usable, else
// the CPU, saying which and why on o.Notes.
func Open[T kernels.Float](n Name, o Options) (kernels.Backend[T], error) {
	if o.Threads < 0 {
		return nil, fmt.Errorf("threads %d: want 0 (one per core) or more", o.Threads)
	}
	notes := o.Notes
	if notes == nil {
		notes = io.Discard
	}
	cpu.SetThreads(o.Threads)
	switch n.Kind {
	case CPU:
		return cpu.New[T](), nil
	case CUDA:
		dev, err := openGPU(n.Ordinal, o)
		if err != nil {
			return nil, err
		}
		return cuda.New[T](dev)
	}
	dev, err := openGPU(0, o)
	if err == nil {
		be, err := cuda.New[T](dev)
		if err == nil {
			fmt.Fprintf(notes, "curvprobe: device auto: using the GPU (%s)\n", dev.Info().Name)
			return be, nil
		}
		fmt.Fprintf(notes, "curvprobe: device auto: GPU backend failed (%v); using the CPU (%s)\n", err, cpu.BLASName())
		return cpu.New[T](), nil
	}
	fmt.Fprintf(notes, "curvprobe: device auto: no usable GPU (%v); using the CPU (%s)\n", err, cpu.BLASName())
	return cpu.New[T](), nil
}

// WriteList writes the devices this binary can use to w, one a line: the
// CPU with its BLAS, then each GPU as cuda:N, or why there is none. Only a
// failure other than finding no driver or device is an error.
func WriteList(w io.Writer) error {
	fmt.Fprintf(w, "cpu\t%s\n", cpu.New[float64]().Name())
	infos, err := cuda.Devices()
	switch {
	case errors.Is(err, cuda.ErrNoDevice) || (err == nil && len(infos) == 0):
		fmt.Fprintf(w, "cuda\tnone: %v\n", err)
	case err != nil:
		return err
	}
	for i, info := range infos {
		fmt.Fprintf(w, "cuda:%d\t%s\n", i, info)
	}
	return nil
}
