package kernels

import "unsafe"

// ElemSize returns the size in bytes of T: 4 for float32, 8 for float64
// (and for types defined on them).
func ElemSize[T Float]() int { return int(unsafe.Sizeof(T(0))) }

// Eps returns the machine epsilon of T, the spacing of T's numbers at 1:
// 2^-23 for float32 and 2^-52 for float64. Rounding a real number r to T
// errs by at most Eps/2 * |r| (for |r| in T's normal range).
func Eps[T Float]() float64 { return EpsOf(ElemSize[T]()) }

// EpsOf returns the machine epsilon of a float of elemSize bytes: 2^-23
// for 4 (float32), 2^-52 otherwise (float64).
func EpsOf(elemSize int) float64 {
	if elemSize == 4 {
		return 0x1p-23
	}
	return 0x1p-52
}

// DTypeName returns "float32" or "float64" for T.
func DTypeName[T Float]() string {
	if ElemSize[T]() == 4 {
		return "float32"
	}
	return "float64"
}
