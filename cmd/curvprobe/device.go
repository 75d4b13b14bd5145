package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// gpus holds the process's CUDA devices, each opened on first use with its
// options and kept open (runs in one process, such as sweep workers, share
// one).
var gpus struct {
	mu     sync.Mutex
	opened map[cuda.Options]gpuResult
}

type gpuResult struct {
	dev *cuda.Device
	err error
}

// gpuTF32 is --tf32, registered with --device by deviceFlag.
var gpuTF32 bool

// deviceHelp describes --device.
const deviceHelp = "auto (the GPU when one is usable, else the CPU), cpu, cuda, or cuda:N (the GPU of ordinal N)"

// cpuThreads is --threads, registered with --device by deviceFlag: the CPU
// backend's threads, OpenBLAS's and its own loops' (0: one per core).
var cpuThreads int

// deviceFlag registers --device (into p, default def), --tf32 and --threads
// on fs.
func deviceFlag(fs *flag.FlagSet, p *string, def string) {
	fs.StringVar(p, "device", def, deviceHelp)
	fs.IntVar(&cpuThreads, "threads", 0, "threads on the CPU, shared by OpenBLAS and curvprobe's own loops, never both at once (0: one per core)")
	fs.BoolVar(&gpuTF32, "tf32", false, "on the GPU, let cuBLAS use TF32 tensor cores for float32 GEMMs (faster; products then carry ~1e-3 relative error, so off by default)")
}

func openGPU(ordinal int) (*cuda.Device, error) {
	o := cuda.Options{Ordinal: ordinal, TF32: gpuTF32, Synchronous: os.Getenv("CURVPROBE_CUDA_SYNC") == "1"}
	gpus.mu.Lock()
	defer gpus.mu.Unlock()
	if r, ok := gpus.opened[o]; ok {
		return r.dev, r.err
	}
	dev, err := cuda.Open(o)
	if gpus.opened == nil {
		gpus.opened = map[cuda.Options]gpuResult{}
	}
	gpus.opened[o] = gpuResult{dev, err}
	return dev, err
}

// parseDevice splits a --device value into its kind (auto, cpu or cuda) and
// GPU ordinal.
func parseDevice(device string) (kind string, ordinal int, err error) {
	switch device {
	case "auto", "":
		return "auto", 0, nil
	case "cpu":
		return "cpu", 0, nil
	case "cuda", "gpu":
		return "cuda", 0, nil
	}
	if n, ok := strings.CutPrefix(device, "cuda:"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			return "cuda", i, nil
		}
	}
	return "", 0, fmt.Errorf("--device %q: want auto, cpu, cuda or cuda:N", device)
}

// openBackend returns the backend named by --device: cpu, cuda or cuda:N
// (an error without that GPU), or auto (the first GPU when a driver and a
// device are found, else the CPU, saying which and why on stderr).
func openBackend[T kernels.Float](device string, stderr io.Writer) (kernels.Backend[T], error) {
	kind, ordinal, err := parseDevice(device)
	if err != nil {
		return nil, err
	}
	if cpuThreads < 0 {
		return nil, fmt.Errorf("--threads %d: want 0 (one per core) or more", cpuThreads)
	}
	cpu.SetThreads(cpuThreads)
	switch kind {
	case "cpu":
		return cpu.New[T](), nil
	case "cuda":
		dev, err := openGPU(ordinal)
		if err != nil {
			return nil, fmt.Errorf("--device %s: %w", device, err)
		}
		return cuda.New[T](dev)
	}
	dev, err := openGPU(0)
	if err == nil {
		be, err := cuda.New[T](dev)
		if err == nil {
			fmt.Fprintf(stderr, "curvprobe: device auto: using the GPU (%s)\n", dev.Info().Name)
			return be, nil
		}
		fmt.Fprintf(stderr, "curvprobe: device auto: GPU backend failed (%v); using the CPU (%s)\n", err, cpu.BLASName())
		return cpu.New[T](), nil
	}
	fmt.Fprintf(stderr, "curvprobe: device auto: no usable GPU (%v); using the CPU (%s)\n", err, cpu.BLASName())
	return cpu.New[T](), nil
}

func cmdDevices(stdout io.Writer) error {
	fmt.Fprintf(stdout, "cpu\t%s\n", cpu.New[float64]().Name())
	infos, err := cuda.Devices()
	switch {
	case errors.Is(err, cuda.ErrNoDevice) || (err == nil && len(infos) == 0):
		fmt.Fprintf(stdout, "cuda\tnone: %v\n", err)
	case err != nil:
		return err
	}
	for i, info := range infos {
		fmt.Fprintf(stdout, "cuda:%d\t%s\n", i, info)
	}
	return nil
}
