package cuda

import (
	"fmt"

	"github.com/curvprobe/curvprobe/kernels"
)

var (
	_ kernels.MemoryReporter = (*Backend[float32])(nil)
	_ kernels.MemoryReporter = (*Backend[float64])(nil)
)

// MemInfo returns the device's free and total memory (cuMemGetInfo).
func (bk *Backend[T]) MemInfo() (kernels.MemInfo, error) {
	free, total, err := bk.dev.MemInfo()
	if err != nil {
		return kernels.MemInfo{}, err
	}
	return kernels.MemInfo{Available: int64(free), Total: int64(total), Where: fmt.Sprintf("the GPU cuda:%d", bk.dev.info.Ordinal)}, nil
}
