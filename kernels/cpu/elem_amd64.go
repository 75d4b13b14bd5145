//go:build amd64

package cpu

// The assembly loops of elem_amd64.s, n elements each; d may equal any
// input (each element is read before it is written).
//
//go:noescape
func mulF32AVX2(d, x, y *float32, n int)

//go:noescape
func mulAddF32AVX2(d, x, y *float32, n int)

//go:noescape
func mul3AddF32AVX2(d, x, y, z *float32, n int)

//go:noescape
func addF32AVX2(d, v *float32, n int)

// mulF32 sets d[i] = x[i]*y[i] and reports true, or reports false without
// AVX2 and FMA. The slices have equal lengths. Likewise mulAddF32
// (d[i] += x[i]*y[i], fused: rounded once), mul3AddF32 (d[i] +=
// x[i]*y[i]*z[i], the product of x and y rounded, then fused) and addF32
// (d[i] += v[i]).
func mulF32(d, x, y []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if len(d) > 0 {
		mulF32AVX2(&d[0], &x[0], &y[0], len(d))
	}
	return true
}

func mulAddF32(d, x, y []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if len(d) > 0 {
		mulAddF32AVX2(&d[0], &x[0], &y[0], len(d))
	}
	return true
}

func mul3AddF32(d, x, y, z []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if len(d) > 0 {
		mul3AddF32AVX2(&d[0], &x[0], &y[0], &z[0], len(d))
	}
	return true
}

func addF32(d, v []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if len(d) > 0 {
		addF32AVX2(&d[0], &v[0], len(d))
	}
	return true
}

//go:noescape
func addF32ToF64AVX2(d *float64, x *float32, n int)

//go:noescape
func dotF32AVX2(p *[8]float64, x, y *float32, n int)

// dotF32 sets p[j] to the float64 sum, in index order, of x[i]*y[i] for
// i ≡ j (mod 8) and i < len(x)&^7, and reports true, or reports false
// without AVX2 and FMA (dot32 then runs the same loop in Go).
func dotF32(p *[8]float64, x, y []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if n := len(x) &^ 7; n > 0 {
		dotF32AVX2(p, &x[0], &y[0], n)
	} else {
		*p = [8]float64{}
	}
	return true
}

// addF32ToF64 sets d[i] += float64(x[i]) and reports true, or reports false
// without AVX2 and FMA. The slices have equal lengths.
func addF32ToF64(d []float64, x []float32) bool {
	if !hasAVX2FMA {
		return false
	}
	if len(d) > 0 {
		addF32ToF64AVX2(&d[0], &x[0], len(d))
	}
	return true
}

//go:noescape
func reluF32AVX2(z, a, d1, d2 *float32, n int)

// reluF32 sets a, d1 and d2 (each nil when not wanted) to relu's values
// of z for the first len(z)&^7 elements, the kernel's, and returns how many
// it set (0 without AVX2 and FMA); the caller does the rest.
func reluF32(z, a, d1, d2 []float32) int {
	n := len(z) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	var p1, p2 *float32
	if d1 != nil {
		p1 = &d1[0]
	}
	if d2 != nil {
		p2 = &d2[0]
	}
	reluF32AVX2(&z[0], &a[0], p1, p2, n)
	return n
}
