package main

import (
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// openBackend returns the backend named by --device. This build has the CPU
// backend only; auto falls back to it and says so.
func openBackend[T kernels.Float](device string, stderr io.Writer) (kernels.Backend[T], error) {
	switch device {
	case "cpu":
		return cpu.New[T](), nil
	case "auto", "":
		fmt.Fprintf(stderr, "curvprobe: device auto: using the CPU (%s); this build has no CUDA backend\n", cpu.BLASName())
		return cpu.New[T](), nil
	case "cuda":
		return nil, fmt.Errorf("--device cuda: this build has no CUDA backend yet; use --device cpu or auto")
	}
	return nil, fmt.Errorf("--device %q: want auto, cpu or cuda", device)
}

func cmdDevices(stdout io.Writer) error {
	fmt.Fprintf(stdout, "cpu\t%s\n", cpu.New[float64]().Name())
	fmt.Fprintln(stdout, "cuda\tnot available: this build has no CUDA backend")
	return nil
}
