package kernels

import "testing"

type myFloat32 float32

func TestDTypeName(t *testing.T) {
	if DTypeName[float32]() != "float32" || DTypeName[float64]() != "float64" || DTypeName[myFloat32]() != "float32" {
		t.Error("DTypeName misnames a type")
	}
	if ElemSize[float32]() != 4 || ElemSize[myFloat32]() != 4 || ElemSize[float64]() != 8 {
		t.Error("ElemSize wrong")
	}
}
