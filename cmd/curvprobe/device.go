package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// gpu is the process's CUDA device, opened on first use and kept open
// (runs in one process, such as sweep workers, share it).
var gpu struct {
	once sync.Once
	dev  *cuda.Device
	err  error
}

func openGPU() (*cuda.Device, error) {
	gpu.once.Do(func() {
		gpu.dev, gpu.err = cuda.Open(cuda.Options{Synchronous: os.Getenv("CURVPROBE_CUDA_SYNC") == "1"})
	})
	return gpu.dev, gpu.err
}

// openBackend returns the backend named by --device: cpu, cuda (an error
// without a usable GPU), or auto (the GPU when a driver and a device are
// found, else the CPU, saying which and why on stderr).
func openBackend[T kernels.Float](device string, stderr io.Writer) (kernels.Backend[T], error) {
	switch device {
	case "cpu":
		return cpu.New[T](), nil
	case "cuda", "gpu":
		dev, err := openGPU()
		if err != nil {
			return nil, fmt.Errorf("--device cuda: %w", err)
		}
		return cuda.New[T](dev)
	case "auto", "":
		dev, err := openGPU()
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
	return nil, fmt.Errorf("--device %q: want auto, cpu or cuda", device)
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
