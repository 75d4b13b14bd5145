package kernels

import (
	"fmt"
	"strconv"
)

// DType is a float type chosen at run time: the precision a model, a run
// or a command computes in. The zero value is unset (a default applies);
// Float32 and Float64 are the two types the backends implement. It is
// parsed and checked in one place (ParseDType, UnmarshalText) and reads
// and writes the JSON strings "float32" and "float64" (unset: "").
type DType uint8

// The float types.
const (
	// DTypeUnset is the zero DType: no type chosen.
	DTypeUnset DType = iota
	// Float32 is IEEE single precision.
	Float32
	// Float64 is IEEE double precision.
	Float64
)

// ParseDType returns the DType named s: "float32" or "float64"; "" is
// DTypeUnset. The error names s.
func ParseDType(s string) (DType, error) {
	switch s {
	case "":
		return DTypeUnset, nil
	case "float32":
		return Float32, nil
	case "float64":
		return Float64, nil
	}
	return DTypeUnset, fmt.Errorf("dtype %q: want float32 or float64", s)
}

// DTypeOf returns the DType of T (Float32 for float32 and types defined on
// it, Float64 otherwise).
func DTypeOf[T Float]() DType {
	if ElemSize[T]() == 4 {
		return Float32
	}
	return Float64
}

// Valid reports whether d is unset, Float32 or Float64.
func (d DType) Valid() bool { return d <= Float64 }

// Or returns d, or def when d is unset.
func (d DType) Or(def DType) DType {
	if d == DTypeUnset {
		return def
	}
	return d
}

// String returns "float32", "float64", "" when unset, or DType(N) for a
// value that is none of these.
func (d DType) String() string {
	switch d {
	case DTypeUnset:
		return ""
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the bytes of one float of d: 4 or 8 (0 when unset).
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

// Eps returns the machine epsilon of d, the spacing of its numbers at 1:
// 2^-23 for float32 and 2^-52 for float64 (0 when unset).
func (d DType) Eps() float64 {
	switch d {
	case Float32:
		return 0x1p-23
	case Float64:
		return 0x1p-52
	}
	return 0
}

// MarshalText writes d's name; a DType that is not valid is an error.
func (d DType) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("kernels: invalid %s", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads a name as ParseDType does.
func (d *DType) UnmarshalText(b []byte) error {
	v, err := ParseDType(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
