package probe

import "context"

// Space is the vector arithmetic the estimators need, over vectors of type
// V that live wherever the operator's parameters live (host memory, a GPU).
// A kernels.Backend satisfies Space[kernels.Buffer] without this package
// importing it. Scalars are float64 whatever the storage precision.
type Space[V any] interface {
	// Alloc returns a zeroed vector of n elements.
	Alloc(n int) V
	// Free releases a vector returned by Alloc.
	Free(v V)
	// Copy sets dst = src.
	Copy(dst, src V)
	// Dot returns x . y.
	Dot(x, y V) float64
	// Axpy sets y = alpha*x + y.
	Axpy(alpha float64, x, y V)
	// Scale sets x = alpha*x.
	Scale(alpha float64, x V)
	// Nrm2 returns the Euclidean norm of x.
	Nrm2(x V) float64
	// Rademacher fills dst with independent ±1 values drawn from seed.
	Rademacher(dst V, seed uint64)
	// Normal fills dst with independent standard normal values drawn from seed.
	Normal(dst V, seed uint64)
}

// MultiSpace is a Space that also forms many dot products with one vector,
// and many axpys into one, in a single pass each: what Gram-Schmidt against
// a Krylov basis spends its time on. The Krylov methods (Lanczos, SLQ) use
// it when their Space has it, and the loops of Dot and Axpy otherwise, so
// its results must equal those loops': DotMany(dst, q, x) sets dst[i] =
// Dot(q[i], x), and AxpyMany(alpha, q, y) does Axpy(alpha[i], q[i], y) for
// i = 0, 1, ... in turn. y does not alias any q[i].
type MultiSpace[V any] interface {
	Space[V]
	DotMany(dst []float64, q []V, x V)
	AxpyMany(alpha []float64, q []V, y V)
}

// Operator is a symmetric linear operator of dimension Dim, such as the
// Hessian of a loss: Apply sets dst = H v. dst and v do not alias.
// Apply returns an error for failures of the world (a device error, a
// non-finite result, a cancelled context).
type Operator[V any] interface {
	Dim() int
	Apply(ctx context.Context, dst, v V) error
}
