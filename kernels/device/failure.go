package device

import (
	"errors"
	"fmt"

	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// RecoverGPU, deferred, turns a panic of the CUDA backend (its value an
// error wrapping *cuda.Error: out of device memory, a failed kernel) into
// the error *err, said plainly; any other panic is a bug and goes on.
// A run's log and checkpoints are on disk already: it can resume.
func RecoverGPU(err *error) {
	p := recover()
	if p == nil {
		return
	}
	if e := gpuError(p); e != nil {
		*err = e
		return
	}
	panic(p)
}

// gpuError returns the error RecoverGPU makes of the panic value p, or nil
// when p is not a failure of the CUDA backend.
func gpuError(p any) error {
	var ce *cuda.Error
	e, ok := p.(error)
	if !ok || !errors.As(e, &ce) {
		return nil
	}
	if ce.Code == cudaOutOfMemory {
		return fmt.Errorf("GPU: %w (out of GPU memory: try a smaller --batch or --plan-batch, float32, or --device cpu)", e)
	}
	return fmt.Errorf("GPU: %w", e)
}

// cudaOutOfMemory is CUDA_ERROR_OUT_OF_MEMORY.
const cudaOutOfMemory = 2
