package probe

import (
	"context"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Host is the Space of float64 slices in host memory, with gonum's BLAS.
// Its random fills are the counter-based streams of the kernels backends:
// Host.Rademacher(dst, s) sets dst[i] = kernels.RademacherAt(s, i), and
// likewise for Normal, so a probe run on the host draws the same vectors as
// one on a device. Lengths must match; a mismatch panics.
type Host struct{}

var _ Space[[]float64] = Host{}

const errLength = "probe: length mismatch"

// Alloc returns a zeroed slice of length n.
func (Host) Alloc(n int) []float64 {
	if n < 0 {
		panic("probe: negative length")
	}
	return make([]float64, n)
}

// Free does nothing: the garbage collector owns host slices.
func (Host) Free([]float64) {}

// Copy sets dst = src.
func (Host) Copy(dst, src []float64) {
	if len(dst) != len(src) {
		panic(errLength)
	}
	copy(dst, src)
}

// Dot returns x . y.
func (Host) Dot(x, y []float64) float64 {
	if len(x) != len(y) {
		panic(errLength)
	}
	return floats.Dot(x, y)
}

// Axpy sets y = alpha*x + y.
func (Host) Axpy(alpha float64, x, y []float64) {
	if len(x) != len(y) {
		panic(errLength)
	}
	floats.AddScaled(y, alpha, x)
}

// Scale sets x = alpha*x.
func (Host) Scale(alpha float64, x []float64) {
	floats.Scale(alpha, x)
}

// Nrm2 returns the Euclidean norm of x, computed without overflow.
func (Host) Nrm2(x []float64) float64 {
	return blas64.Nrm2(blas64.Vector{N: len(x), Inc: 1, Data: x})
}

// Rademacher sets dst[i] to the i-th value of the Rademacher stream of seed
// (kernels.RademacherAt(seed, i)).
func (Host) Rademacher(dst []float64, seed uint64) {
	for i := range dst {
		dst[i] = rademacherAt(seed, uint64(i))
	}
}

// Normal sets dst[i] to the i-th value of the standard normal stream of
// seed (kernels.NormalAt(seed, i)).
func (Host) Normal(dst []float64, seed uint64) {
	for i := range dst {
		dst[i] = normalAt(seed, uint64(i))
	}
}

// Dense is the Operator of a dense symmetric matrix on host slices, for
// tests and small problems. It holds the matrix, not a copy of it.
type Dense struct {
	a blas64.Symmetric
}

var _ Operator[[]float64] = (*Dense)(nil)

// NewDense returns the Operator v -> m v.
func NewDense(m *mat.SymDense) *Dense {
	return &Dense{a: m.RawSymmetric()}
}

// Dim returns the order of the matrix.
func (d *Dense) Dim() int { return d.a.N }

// Apply sets dst = m v. It returns ctx.Err() if ctx is already done.
func (d *Dense) Apply(ctx context.Context, dst, v []float64) error {
	if len(dst) != d.a.N || len(v) != d.a.N {
		panic(errLength)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	blas64.Symv(1, d.a, blas64.Vector{N: len(v), Inc: 1, Data: v}, 0, blas64.Vector{N: len(dst), Inc: 1, Data: dst})
	return nil
}
