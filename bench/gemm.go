package bench

import (
	"errors"

	"github.com/curvprobe/curvprobe/kernels"
)

// gemmCall is one recorded Backend.Gemm call, operands included.
type gemmCall struct {
	tA, tB      kernels.Trans
	m, n, k     int
	alpha, beta float64
	a, b, c     kernels.Buffer
	lda, ldb    int
	ldc         int
}

// flops returns the multiply-adds of the call, counted as 2*m*n*k.
func (g gemmCall) flops() float64 { return 2 * float64(g.m) * float64(g.n) * float64(g.k) }

// gemmRecorder is a Backend that passes every call through to the one it
// wraps and, while recording, keeps the Gemm calls. Replaying them times the
// GEMMs of a gradient or an HVP alone, with the shapes, transposes and
// operands the Plan used: the ceiling the rest of the work is measured
// against.
type gemmRecorder[T kernels.Float] struct {
	kernels.Backend[T]
	recording bool
	calls     []gemmCall
}

// Gemm records the call when recording, then runs it.
func (r *gemmRecorder[T]) Gemm(tA, tB kernels.Trans, m, n, k int, alpha float64, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, beta float64, c kernels.Buffer, ldc int) {
	if r.recording {
		r.calls = append(r.calls, gemmCall{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, a: a, b: b, c: c, lda: lda, ldb: ldb, ldc: ldc})
	}
	r.Backend.Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// MemInfo reports the wrapped backend's memory, so that the Plan's memory
// checks see through the recorder (kernels.MemoryReporter).
func (r *gemmRecorder[T]) MemInfo() (kernels.MemInfo, error) {
	if m, ok := r.Backend.(kernels.MemoryReporter); ok {
		return m.MemInfo()
	}
	return kernels.MemInfo{}, errors.New("bench: the backend does not report its memory")
}

// record runs f with recording on and returns the Gemm calls it made.
func (r *gemmRecorder[T]) record(f func() error) ([]gemmCall, error) {
	r.calls, r.recording = nil, true
	err := f()
	r.recording = false
	calls := r.calls
	r.calls = nil
	return calls, err
}

// replay issues the recorded calls again on the wrapped backend. Outputs
// are overwritten (or accumulated into, where beta is 1): replay only after
// the results of the recorded work are no longer needed.
func (r *gemmRecorder[T]) replay(calls []gemmCall) {
	for _, g := range calls {
		r.Backend.Gemm(g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc)
	}
}

// gemmFlops sums the flops of calls.
func gemmFlops(calls []gemmCall) float64 {
	var f float64
	for _, g := range calls {
		f += g.flops()
	}
	return f
}
