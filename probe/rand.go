package probe

import "math"

// The counter-based generator behind Host.Rademacher and Host.Normal: an
// exact copy of kernels/rand.go (Uint64At, RademacherAt, NormalAt), so that
// Host draws the same numbers as every kernels backend for the same seed
// without this package importing kernels. Element i of a fill with seed s is
// a pure function of (s, i): SplitMix64's finaliser (Steele, Lea and Flood
// 2014) applied to a Weyl sequence keyed by the mixed seed. Keep the two
// copies identical; rand_test.go checks known values.

const golden = 0x9E3779B97F4A7C15

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// uint64At returns the i-th 64-bit word of the stream with the given seed.
func uint64At(seed, i uint64) uint64 {
	key := mix64(seed + golden)
	return mix64(key + (i+1)*golden)
}

// rademacherAt returns the i-th value (+1 or -1) of the Rademacher stream
// with the given seed: +1 when the top bit of uint64At(seed, i) is clear.
func rademacherAt(seed, i uint64) float64 {
	if uint64At(seed, i)>>63 == 0 {
		return 1
	}
	return -1
}

// normalAt returns the i-th value of the standard normal stream with the
// given seed, by the Box-Muller transform of the uniforms drawn from words
// 2i and 2i+1: u1 in (0, 1], u2 in [0, 1), sqrt(-2 ln u1) * cos(2 pi u2).
func normalAt(seed, i uint64) float64 {
	u1 := (float64(uint64At(seed, 2*i)>>11) + 1) * 0x1p-53
	u2 := float64(uint64At(seed, 2*i+1)>>11) * 0x1p-53
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}
