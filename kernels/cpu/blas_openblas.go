//go:build openblas

package cpu

// gonum.org/v1/netlib/blas/netlib declares the CBLAS functions but leaves
// the library to the final link; this directive supplies it, so that
// go build -tags openblas needs no CGO_LDFLAGS.

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// BLASName names the BLAS this binary's CPU backend uses.
func BLASName() string { return "OpenBLAS (netlib cgo)" }

func defaultBLAS() (blas.Float32, blas.Float64) {
	return netlib.Implementation{}, netlib.Implementation{}
}

// CoreTypeRemedy returns "": a binary linked with OpenBLAS through cgo takes
// OpenBLAS's kernel class as it is (set OPENBLAS_CORETYPE to change it).
func CoreTypeRemedy() (coretype, why string) { return "", "" }

// setBLASThreads gives OpenBLAS n threads.
func setBLASThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
