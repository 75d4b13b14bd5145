package data

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestDecodeLittleEndianFloats: the little-endian float loops of decode give
// the general loop's values bit for bit (the general loop, reached here
// through the same values stored big-endian), edge values included: ±0,
// subnormals, the extremes, ±Inf and NaN with its payload.
func TestDecodeLittleEndianFloats(t *testing.T) {
	f32 := []float32{0, float32(math.Copysign(0, -1)), 1, -1.5, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0x7fc00001), 0x1p-140}
	f64 := []float64{0, math.Copysign(0, -1), 1, -1.5, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
		math.MaxFloat64, -math.MaxFloat64, math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff8000000000001), 0x1p-1060}
	le, be := make([]byte, 4*len(f32)), make([]byte, 4*len(f32))
	for i, x := range f32 {
		binary.LittleEndian.PutUint32(le[4*i:], math.Float32bits(x))
		binary.BigEndian.PutUint32(be[4*i:], math.Float32bits(x))
	}
	check := func(name string, got, want []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", name, i, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
			}
		}
	}
	check("<f4", decode(le, binary.LittleEndian, 'f', 4), decode(be, binary.BigEndian, 'f', 4))
	le, be = make([]byte, 8*len(f64)), make([]byte, 8*len(f64))
	for i, x := range f64 {
		binary.LittleEndian.PutUint64(le[8*i:], math.Float64bits(x))
		binary.BigEndian.PutUint64(be[8*i:], math.Float64bits(x))
	}
	check("<f8", decode(le, binary.LittleEndian, 'f', 8), decode(be, binary.BigEndian, 'f', 8))
	check("<f8 values", decode(le, binary.LittleEndian, 'f', 8), f64)
}
