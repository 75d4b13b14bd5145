// Package probe measures the curvature of a loss through Hessian-vector
// products: the extreme eigenvalues (power iteration and Lanczos), the
// spectral density (stochastic Lanczos quadrature), the trace (Hutchinson and
// Hutch++) and metrics derived from them (the edge of stability 2/λmax, the
// condition number, the kind of critical point).
//
// The sharpness is the largest algebraic eigenvalue λmax, not the one of
// largest magnitude that power iteration finds: Sharpness shifts the
// operator when the dominant eigenvalue is negative and hands over to
// Lanczos when power iteration does not converge, and says when its final
// estimate did not converge either.
//
// The estimators see the Hessian only as an Operator (dst = H v) and its
// vectors only through a Space (dot, axpy, scale, copy, norm, seeded random
// fills), so they run unchanged on host slices (Host, Dense) and on a
// compute backend's device buffers: a kernels.Backend satisfies
// Space[kernels.Buffer] without this package importing it.
//
// # Invariants
//
//   - Vectors returned in a result (eigenvectors, Ritz vectors) were
//     allocated with the Space's Alloc and belong to the caller, who frees
//     them with the Space's Free. Every other vector an estimator allocates
//     is freed before it returns.
//   - Scalars are float64 whatever the storage precision of the Space.
//   - Randomness is seeded: every estimator takes a Seed in its settings and
//     fills probe vectors with the Space's counter-based Rademacher and
//     Normal streams, so a CPU and a GPU run with the same seed draw the
//     same probes. Probe j of an estimator uses a seed derived from (Seed, j).
//   - Each estimator returns its result together with ErrNotConverged when it
//     stopped at its iteration limit, or with ctx.Err() when the context was
//     cancelled; the partial result is then still valid as far as it goes.
//   - Programmer errors (a negative count, a zero start vector, mismatched
//     lengths in Host) panic with a message prefixed "probe: ".
//
// # Sources
//
// Lanczos iteration: C. Lanczos, An iteration method for the solution of the
// eigenvalue problem of linear differential and integral operators, J. Res.
// Nat. Bur. Standards 45 (1950). Loss of orthogonality and its cure by
// reorthogonalisation: C. C. Paige, The computation of eigenvalues and
// eigenvectors of very large sparse matrices, PhD thesis, London (1971), and
// B. N. Parlett, The Symmetric Eigenvalue Problem (1980/1998), ch. 13.
// Twice-is-enough Gram-Schmidt: L. Giraud, J. Langou, M. Rozložník, The loss
// of orthogonality in the Gram-Schmidt process, Comput. Math. Appl. 50 (2005).
//
// Stochastic Lanczos quadrature: L. Lin, Y. Saad, C. Yang, Approximating
// spectral densities of large matrices, SIAM Review 58 (2016); applied to
// neural-network Hessians by B. Ghorbani, S. Krishnan, Y. Xiao, An
// investigation into neural net optimization via Hessian eigenvalue density,
// ICML 2019.
//
// Trace estimation: M. F. Hutchinson, A stochastic estimator of the trace of
// the influence matrix for Laplacian smoothing splines, Comm. Statist. Simul.
// Comput. 18 (1989); R. A. Meyer, C. Musco, C. Musco, D. P. Woodruff,
// Hutch++: optimal stochastic trace estimation, SOSA 2021.
//
// The edge of stability: gradient descent with step η on a quadratic is
// stable iff η < 2/λmax (J. Cohen et al., Gradient descent on neural networks
// typically occurs at the edge of stability, ICLR 2021).
package probe
