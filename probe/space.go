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

// Operator is a symmetric linear operator of dimension Dim, such as the
// Hessian of a loss: Apply sets dst = H v. dst and v do not alias.
// Apply returns an error for failures of the world (a device error, a
// non-finite result, a cancelled context).
type Operator[V any] interface {
	Dim() int
	Apply(ctx context.Context, dst, v V) error
}
