// Package kernels defines the compute backends that curvprobe's models run on.
//
// A Backend owns memory (Buffers) and the operations the MLP plans need:
// BLAS (GEMM and level 1), fused elementwise activations with their first and
// second derivatives, the softmax cross-entropy and MSE losses with their
// gradient and Hessian-vector terms, column sums, and counter-based seeded
// random fills.
//
// Invariants every backend keeps:
//
//   - Buffers are opaque. No method assumes host memory: data crosses the
//     boundary only through Upload and Download, so a GPU backend can keep
//     every Buffer device-resident. A Buffer belongs to the backend that
//     allocated it; passing it to another backend panics.
//   - Matrices are row-major. A [rows, cols] matrix occupies rows*cols
//     consecutive elements; leading dimensions are the row strides.
//   - Scalars cross the interface as float64 whatever the element type T,
//     and reductions (Dot, Nrm2, losses) accumulate in float64.
//   - Elementwise operations allow dst to alias any input of the same
//     length; GEMM's C must not alias A or B.
//   - Random fills are counter-based: element i of a fill with seed s is a
//     pure function of (s, i), so CPU and GPU backends draw the same numbers
//     (see Rademacher and Normal in this package for the reference).
//   - Length mismatches are programmer errors and panic with a message
//     prefixed "kernels:"; I/O with the world returns errors.
//
// The backends are kernels/cpu (gonum BLAS, OpenBLAS when built with the
// openblas tag) and kernels/cuda (the CUDA driver API and cuBLAS, loaded at
// run time). kernels/kerneltest is the conformance suite both run.
package kernels
