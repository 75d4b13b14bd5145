//go:build !openblas

package cpu

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// BLASName names the BLAS this binary's CPU backend uses.
func BLASName() string { return "gonum (pure Go; build with -tags openblas for OpenBLAS)" }

func defaultBLAS() (blas.Float32, blas.Float64) {
	return gonum.Implementation{}, gonum.Implementation{}
}
