// Package openblaslink links OpenBLAS with cgo for binaries built with
// -tags openblas: gonum.org/v1/netlib/blas/netlib declares the CBLAS
// functions but leaves the library to the final link, and this package's
// directive supplies it (so go build -tags openblas needs no CGO_LDFLAGS),
// with the one OpenBLAS extension the CPU backend calls,
// openblas_set_num_threads. It is a package of its own because a package
// that uses cgo may not hold Go assembly, and kernels/cpu does. Without the
// tag it is empty.
package openblaslink
