package cpu

import "github.com/curvprobe/curvprobe/kernels"

var (
	_ kernels.MemoryReporter = (*Backend[float32])(nil)
	_ kernels.MemoryReporter = (*Backend[float64])(nil)
)

// MemInfo returns the host's available and total memory
// (kernels.HostMemInfo): the CPU backend's buffers are host memory.
func (*Backend[T]) MemInfo() (kernels.MemInfo, error) { return kernels.HostMemInfo() }
