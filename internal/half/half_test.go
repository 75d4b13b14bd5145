package half

import (
	"math"
	"testing"
)

func TestFloat16(t *testing.T) {
	for _, tc := range []struct {
		h    uint16
		want float64
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 0x1p-24}, {0x03ff, 1023 * 0x1p-24}, {0x0400, 0x1p-14},
		{0x3555, 0x1.554p-2}, {0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)}, {0x0000, 0}} {
		if got := Float16(tc.h); got != tc.want {
			t.Errorf("Float16(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if !math.IsNaN(Float16(0x7e00)) || !math.Signbit(Float16(0x8000)) {
		t.Error("NaN or -0 wrong")
	}
	// Every finite non-negative half: strictly increasing with its bits.
	prev := -1.0
	for h := uint16(0); h < 0x7c00; h++ {
		v := Float16(h)
		if v <= prev {
			t.Fatalf("Float16(%#04x) = %v not above %v", h, v, prev)
		}
		prev = v
	}
}

func TestBFloat16(t *testing.T) {
	for b, want := range map[uint16]float64{0x3fc0: 1.5, 0xbf80: -1, 0x0001: 0x1p-133, 0x7f80: math.Inf(1), 0x0000: 0} {
		if got := BFloat16(b); got != want {
			t.Errorf("BFloat16(%#04x) = %v, want %v", b, got, want)
		}
	}
}
