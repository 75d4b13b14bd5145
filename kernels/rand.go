package kernels

import "math"

// The counter-based generator behind Backend.Rademacher and Backend.Normal.
// Element i of a fill with seed s is a pure function of (s, i), so every
// backend, and every thread of a GPU kernel, draws the same numbers in any
// order. The mixing function is SplitMix64's finaliser (Steele, Lea and
// Flood 2014) applied to a Weyl sequence keyed by the mixed seed.

const golden = 0x9E3779B97F4A7C15

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Uint64At returns the i-th 64-bit word of the stream with the given seed.
func Uint64At(seed, i uint64) uint64 {
	key := mix64(seed + golden)
	return mix64(key + (i+1)*golden)
}

// RademacherAt returns the i-th value (+1 or -1) of the Rademacher stream
// with the given seed: +1 when the top bit of Uint64At(seed, i) is clear.
func RademacherAt(seed, i uint64) float64 {
	if Uint64At(seed, i)>>63 == 0 {
		return 1
	}
	return -1
}

// NormalAt returns the i-th value of the standard normal stream with the
// given seed, by the Box-Muller transform of the uniforms drawn from words
// 2i and 2i+1: u1 in (0, 1], u2 in [0, 1), sqrt(-2 ln u1) * cos(2 pi u2),
// computed in float64.
func NormalAt(seed, i uint64) float64 {
	u1 := (float64(Uint64At(seed, 2*i)>>11) + 1) * 0x1p-53
	u2 := float64(Uint64At(seed, 2*i+1)>>11) * 0x1p-53
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
