package cpu

import (
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/kerneltest"
)

// TestConformance32Go runs the conformance suite on the float32 backend
// with the assembly switched off, as on a CPU without AVX2 and FMA or
// another architecture: the Go twins of the activations and the Go
// elementwise loops must meet the same tolerances.
func TestConformance32Go(t *testing.T) {
	if testing.Short() {
		t.Skip("the Go twins of the float32 assembly: `make test` runs them (the suite takes seconds)")
	}
	defer func(v bool) { hasAVX2FMA = v }(hasAVX2FMA)
	hasAVX2FMA = false
	kerneltest.Run(t, func() kernels.Backend[float32] { return New[float32]() })
}
