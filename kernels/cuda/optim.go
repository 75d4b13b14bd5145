package cuda

import "github.com/curvprobe/curvprobe/kernels"

// AdamUpdate applies one Adam step (see kernels.Backend), evaluated in
// float64 and rounded once per stored element (adam_update in optim.cu):
//
//	mi = b1*m[i] + (1-b1)*g[i]; vi = b2*v[i] + (1-b2)*g[i]*g[i]
//	p[i] -= lr*((mi/bc1)/(sqrt(vi/bc2)+eps) + wd*p[i])
func (bk *Backend[T]) AdamUpdate(params, g, m, v kernels.Buffer, lr, beta1, beta2, eps, bc1, bc2, wd float64) {
	p, n := bk.products("AdamUpdate", params, g, m, v)
	if n == 0 {
		return
	}
	var k kargs
	k.ptr(p[0]).ptr(p[1]).ptr(p[2]).ptr(p[3]).idx(n)
	k.f64(lr).f64(beta1).f64(beta2).f64(eps).f64(bc1).f64(bc2).f64(wd)
	bk.run(kAdamUpdate, elemGrid(n), blockSize, 1, &k)
}

// AdamPrecondition sets dst[i] = 1/sqrt(sqrt(v[i]/bc2) + eps) in float64
// (adam_precondition). dst may alias v.
func (bk *Backend[T]) AdamPrecondition(dst, v kernels.Buffer, bc2, eps float64) {
	p, n := bk.products("AdamPrecondition", dst, v)
	if n == 0 {
		return
	}
	var k kargs
	bk.run(kAdamPrecondition, elemGrid(n), blockSize, 1, k.ptr(p[0]).ptr(p[1]).idx(n).f64(bc2).f64(eps))
}
