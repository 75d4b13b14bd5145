//go:build openblas

package openblaslink

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

// SetNumThreads sets the number of threads OpenBLAS computes with.
func SetNumThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
