// Package half converts IEEE 754 binary16 (float16) and bfloat16 numbers
// to float64, exactly: the NPY loader of data (dtype f2) and the PyTorch
// readers of internal/torchfile (F16, BF16) share it.
package half

import "math"

// Float16 returns the value of the IEEE 754 binary16 number with bits h
// (subnormals, infinities and NaN included).
func Float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

// BFloat16 returns the value of the bfloat16 number with bits b: the upper
// half of a float32.
func BFloat16(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}
