package kernels

import "unsafe"

// ElemSize returns the size in bytes of T: 4 for float32, 8 for float64
// (and for types defined on them).
func ElemSize[T Float]() int { return int(unsafe.Sizeof(T(0))) }

// DTypeName returns "float32" or "float64" for T.
func DTypeName[T Float]() string {
	if ElemSize[T]() == 4 {
		return "float32"
	}
	return "float64"
}
