package kernels

// Float is the element type of a Backend: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Buffer is a handle to a backend's memory holding Len elements of the
// backend's element type. Its storage is opaque: host memory for the CPU
// backend, device memory for the CUDA backend.
type Buffer interface {
	// Len returns the number of elements in the buffer.
	Len() int
}

// Activation names an elementwise activation function.
type Activation int

// The activations of DESIGN.md. Gelu is the exact erf form
// x*Phi(x) = x/2 * (1 + erf(x/sqrt 2)); Softplus is log(1 + e^x).
const (
	Linear Activation = iota
	ReLU
	Tanh
	Sigmoid
	Gelu
	Softplus
)

// Trans says whether a GEMM operand is used transposed.
type Trans bool

// Transpose flags for Gemm. (Transpose was T, which read as the element
// type parameter in code generic over T.)
const (
	NoTrans   Trans = false
	Transpose Trans = true
)

// Backend is a compute backend over elements of type T: every capability
// below, as gonum's blas.Float64 is its Level1, Level2 and Level3. Code
// that needs only part of a backend takes only that part (a model's
// optimizer takes Memory, Level1 and Adam; a host copy takes Memory).
//
// Its vector methods (Memory's Alloc and Free, Level1's Copy, Dot, Axpy,
// Scale, Nrm2, Rademacher, Normal) have the signatures of
// probe.Space[Buffer], so a Backend is the vector space of the probe's
// estimators without either package importing the other: eigenvectors and
// Lanczos bases live where the parameters live.
type Backend[T Float] interface {
	// Name describes the backend and its BLAS, e.g. "cpu (OpenBLAS)".
	Name() string
	Memory[T]
	Level1
	Level3
	Elementwise
	Losses
	Adam
}

// Memory is a backend's storage: buffers, views, host transfers and the
// queue's synchronisation.
type Memory[T Float] interface {
	// Alloc returns a zeroed buffer of n elements.
	Alloc(n int) Buffer
	// Free releases b. Using b afterwards is an error; Free of a view is a no-op.
	Free(b Buffer)
	// View returns the n elements of b starting at off, sharing b's storage.
	View(b Buffer, off, n int) Buffer
	// Upload copies src into dst; len(src) must equal dst.Len().
	Upload(dst Buffer, src []T)
	// Download copies src into dst; len(dst) must equal src.Len().
	Download(dst []T, src Buffer)
	// Sync waits for all queued work to finish. It returns the first
	// asynchronous error of the device, if any.
	Sync() error
}

// Level1 holds a backend's vector operations (BLAS level 1 and seeded
// random fills).
type Level1 interface {
	// Copy sets dst = src.
	Copy(dst, src Buffer)
	// Fill sets every element of dst to a.
	Fill(dst Buffer, a float64)
	// Dot returns x . y, accumulated in float64.
	Dot(x, y Buffer) float64
	// Axpy sets y = alpha*x + y.
	Axpy(alpha float64, x, y Buffer)
	// Scale sets x = alpha*x.
	Scale(alpha float64, x Buffer)
	// Nrm2 returns the Euclidean norm of x.
	Nrm2(x Buffer) float64
	// Rademacher fills dst with independent ±1 values; element i depends
	// only on (seed, i). See RademacherAt.
	Rademacher(dst Buffer, seed uint64)
	// Normal fills dst with independent standard normal values; element i
	// depends only on (seed, i). See NormalAt.
	Normal(dst Buffer, seed uint64)
}

// Level3 holds a backend's matrix products (BLAS level 3).
type Level3 interface {
	// Gemm computes C = alpha*op(A)*op(B) + beta*C with op(A) m×k and op(B)
	// k×n, all row-major with leading dimensions lda, ldb, ldc.
	Gemm(tA, tB Trans, m, n, k int, alpha float64, a Buffer, lda int, b Buffer, ldb int, beta float64, c Buffer, ldc int)
}

// Elementwise holds a backend's fused elementwise and row/column passes:
// bias, activations and their derivatives, products.
type Elementwise interface {
	// AddRow adds the row vector v (length cols) to every row of the
	// rows×cols matrix x: x[i,j] += v[j].
	AddRow(x, v Buffer, rows, cols int)
	// ColSum sets dst[j] = alpha*sum_i x[i,j] + beta*dst[j] for the
	// rows×cols matrix x.
	ColSum(dst, x Buffer, rows, cols int, alpha, beta float64)
	// Activate sets a = s(z) and, where d1 and d2 are non-nil, d1 = s'(z) and
	// d2 = s''(z), elementwise. a may alias z; d1 and d2 may not.
	Activate(act Activation, z, a, d1, d2 Buffer)
	// Mul sets dst[i] = x[i]*y[i].
	Mul(dst, x, y Buffer)
	// MulAdd sets dst[i] += x[i]*y[i].
	MulAdd(dst, x, y Buffer)
	// Mul3Add sets dst[i] += x[i]*y[i]*z[i].
	Mul3Add(dst, x, y, z Buffer)
}

// Losses holds a backend's loss kernels: values, gradients and Hessian
// products of the losses of DESIGN.md, and accuracy.
type Losses interface {
	// SoftmaxCE computes, for the rows×cols logits z and integer class
	// labels (stored as T, length rows), the row softmax p and the gradient
	// d = scale*(p - onehot(labels)). It returns sum_i -log p[i, label_i],
	// accumulated in float64. p and d may be nil when not wanted.
	SoftmaxCE(z, labels, p, d Buffer, rows, cols int, scale float64) float64
	// SoftmaxHVP sets, row-wise, dst = scale*(p*r - p*(p . r)): the
	// softmax cross-entropy Hessian (times scale) applied to r.
	SoftmaxHVP(dst, p, r Buffer, rows, cols int, scale float64)
	// SquaredError computes, for outputs z and targets y of the same length,
	// d = 2*scale*(z - y) (d may be nil) and returns sum (z - y)^2.
	SquaredError(z, y, d Buffer, scale float64) float64
	// CountCorrect returns the number of rows of the rows×cols matrix z whose
	// first maximal column equals the row's label.
	CountCorrect(z, labels Buffer, rows, cols int) int
}

// Adam holds the optimizer kernels of Adam.
type Adam interface {
	// AdamUpdate applies one Adam step (Kingma and Ba 2015, with decoupled
	// weight decay as in AdamW when wd > 0) to params with gradient g and
	// moment buffers m and v:
	//	m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g*g
	//	params -= lr * ((m/bc1) / (sqrt(v/bc2) + eps) + wd*params)
	// where bc1 = 1-beta1^t and bc2 = 1-beta2^t are the bias corrections.
	AdamUpdate(params, g, m, v Buffer, lr, beta1, beta2, eps, bc1, bc2, wd float64)
	// AdamPrecondition sets dst = 1/sqrt(sqrt(v/bc2) + eps): the diagonal of
	// P^(-1/2) for Adam's preconditioner P = diag(sqrt(v/bc2) + eps), so that
	// P^(-1/2) H P^(-1/2), whose spectrum is that of P^-1 H, is symmetric.
	AdamPrecondition(dst, v Buffer, bc2, eps float64)
}
