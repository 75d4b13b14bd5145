package cpu

import (
	"math"

	"github.com/curvprobe/curvprobe/kernels"
)

// AdamUpdate applies one Adam step; see kernels.Backend. Evaluated in
// float64 and rounded once per element:
//
//	mi = b1*m[i] + (1-b1)*g[i]; vi = b2*v[i] + (1-b2)*g[i]*g[i]
//	p[i] -= lr*((mi/bc1)/(sqrt(vi/bc2)+eps) + wd*p[i])
func (*Backend[T]) AdamUpdate(params, g, m, v kernels.Buffer, lr, beta1, beta2, eps, bc1, bc2, wd float64) {
	ps, gs, ms, vs := data[T](params), data[T](g), data[T](m), data[T](v)
	if len(gs) != len(ps) || len(ms) != len(ps) || len(vs) != len(ps) {
		panic("kernels: AdamUpdate length mismatch")
	}
	parallel(len(ps), 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := float64(gs[i])
			mi := beta1*float64(ms[i]) + (1-beta1)*gi
			vi := beta2*float64(vs[i]) + (1-beta2)*gi*gi
			ms[i], vs[i] = T(mi), T(vi)
			pi := float64(ps[i])
			ps[i] = T(pi - lr*((mi/bc1)/(math.Sqrt(vi/bc2)+eps)+wd*pi))
		}
	})
}

// AdamPrecondition sets dst[i] = 1/sqrt(sqrt(v[i]/bc2) + eps); see
// kernels.Backend. dst may alias v.
func (*Backend[T]) AdamPrecondition(dst, v kernels.Buffer, bc2, eps float64) {
	ds, vs := data[T](dst), data[T](v)
	if len(ds) != len(vs) {
		panic("kernels: AdamPrecondition length mismatch")
	}
	for i, x := range vs {
		ds[i] = T(1 / math.Sqrt(math.Sqrt(float64(x)/bc2)+eps))
	}
}
