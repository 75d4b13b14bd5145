// Package cpu is curvprobe's host-memory compute backend: a
// kernels.Backend[T] for T = float32 or float64 whose Buffers are Go slices.
//
// BLAS: every build, cgo or not, uses OpenBLAS when its shared library is
// installed (Debian: libopenblas0), loaded once at run time with purego like
// the CUDA libraries: its cblas_sgemm and cblas_dgemm do the products, gonum
// the memory-bound level 1. Without it, or with CURVPROBE_BLAS=gonum, gonum's
// pure-Go BLAS (gonum.org/v1/gonum/blas/gonum) does everything, about 10x
// slower in the products; CURVPROBE_BLAS=/path/libopenblas.so.0 picks a
// library. Building with -tags openblas instead links OpenBLAS through
// gonum's cgo binding (gonum.org/v1/netlib/blas/netlib, -lopenblas, Debian:
// libopenblas-dev). BLASName reports which one a binary uses. The choice is
// held by each Backend; the global gonum blas32/blas64 implementations are
// never changed.
//
// Every method is the Go reference ("the specification") that the CUDA
// kernels are tested against through kernels/kerneltest:
//
//   - Elementwise functions of T inputs are evaluated in float64 and rounded
//     once to T, so float32 results are within about one ulp of the float64
//     truth, except the float32 tanh, sigmoid, softplus and gelu
//     activations: those are evaluated in float32 (AVX2+FMA assembly on
//     amd64 CPUs that have it, Go elsewhere) from one exponential per
//     element, within 4 ulp for the values and first derivatives and 8 for
//     the second (gelu: 6, 4 and 8, its derivatives against their larger
//     term; act32.go; ActivationAt is their float64 reference). Reductions (Dot, Nrm2, the
//     losses, ColSum) accumulate in float64.
//   - Gemm is BLAS sgemm/dgemm on row-major storage; with beta = 0, C is
//     not read (NaN in C does not propagate), as in BLAS (it is cleared
//     here and the BLAS asked for beta = 1: the same bits, without
//     OpenBLAS's slower zeroing pass). In float32, products with at most
//     16 output columns (B not transposed) or an inner dimension of at
//     most 16 (A plain, B transposed), alpha 1 and beta 0 or 1, run in
//     this package's AVX2 kernels (gemmnarrow.go) instead: a 10-class
//     output layer's products, which OpenBLAS's packing made slow; their
//     bits do not depend on any thread count. ColSum does the same as
//     Gemm for beta = 0.
//   - Activations and random fills of large buffers are split across
//     Threads() goroutines in contiguous chunks (memory-bound operations
//     are not: splitting did not pay, see parallelMin); DotMany shares
//     whole dot products out, AxpyMany whole blocks. Every element is
//     computed by the same expression whatever the split, and reductions
//     are never split, so results do not depend on the number of
//     goroutines. SetThreads sets that number and OpenBLAS's threads at
//     once (the two never run at the same time); it is 1 per core by
//     default. OpenBLAS's own products do depend on its thread count;
//     narrow ones (at most narrowFlops) always run on one of its threads,
//     where they are faster.
//   - Views share their parent's storage; Free of a parent invalidates its
//     views, and any later use of them panics.
//   - Buffers from another backend type panic with a "kernels:" message.
package cpu
