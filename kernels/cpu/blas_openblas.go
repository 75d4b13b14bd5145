//go:build openblas

package cpu

// OpenBLAS itself is linked by openblaslink (cgo may not share a package
// with Go assembly).

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/netlib/blas/netlib"

	"github.com/curvprobe/curvprobe/kernels/cpu/openblaslink"
)

// BLASName names the BLAS this binary's CPU backend uses.
func BLASName() string { return fmt.Sprintf("OpenBLAS (netlib cgo; %d threads)", Threads()) }

func defaultBLAS() (blas.Float32, blas.Float64) {
	return netlibBLAS{}, netlibBLAS{}
}

// netlibBLAS is gonum's BLAS with the level-3 products from OpenBLAS, as
// the run-time binding (openBLAS) is: level 1 stays gonum's in every build,
// so that DotMany and AxpyMany equal the Dot and Axpy loops bit for bit
// (OpenBLAS's saxpy rounds a vector's tail unlike its body).
type netlibBLAS struct{ gonum.Implementation }

// Sgemm is OpenBLAS's cblas_sgemm.
func (netlibBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	netlib.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is OpenBLAS's cblas_dgemm.
func (netlibBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	netlib.Implementation{}.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// CoreTypeRemedy returns "": a binary linked with OpenBLAS through cgo takes
// OpenBLAS's kernel class as it is (set OPENBLAS_CORETYPE to change it).
func CoreTypeRemedy() (coretype, why string) { return "", "" }

// setBLASThreads gives OpenBLAS n threads.
func setBLASThreads(n int) { openblaslink.SetNumThreads(n) }
