//go:build amd64

package cpu

import (
	"golang.org/x/sys/cpu"

	"github.com/curvprobe/curvprobe/kernels"
)

// hasAVX2FMA reports whether the assembly kernels of act32_amd64.s and
// elem_amd64.s may run. Tests set it false to run the Go paths.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// The assembly kernels evaluate n elements, n a multiple of 8 (one YMM
// register), of the float32 activations of act32.go: a[i] = s(z[i]) and,
// where d1 and d2 are not nil, their derivatives. a may equal z; they
// read z[i:i+8] before writing a[i:i+8].
//
//go:noescape
func tanh32AVX2(z, a, d1, d2 *float32, n int)

//go:noescape
func sigmoid32AVX2(z, a, d1, d2 *float32, n int)

//go:noescape
func softplus32AVX2(z, a, d1, d2 *float32, n int)

//go:noescape
func gelu32AVX2(z, a, d1, d2 *float32, n int)

// activate32 evaluates the float32 activation act (Tanh, Sigmoid,
// Softplus or Gelu) of z into a, d1 and d2 (see act32.go). With AVX2 and FMA it
// runs the assembly on the multiples of 8 and on the last n%8 elements
// padded to 8 in a local array, so that every element is computed by the
// same instructions however the slices were split; without, the Go twins.
func activate32(act kernels.Activation, z, a, d1, d2 []float32) {
	if !hasAVX2FMA {
		activate32Go(act, z, a, d1, d2)
		return
	}
	var f func(z, a, d1, d2 *float32, n int)
	switch act {
	case kernels.Tanh:
		f = tanh32AVX2
	case kernels.Sigmoid:
		f = sigmoid32AVX2
	case kernels.Softplus:
		f = softplus32AVX2
	case kernels.Gelu:
		f = gelu32AVX2
	default:
		panic("kernels: activate32 of an unsupported activation")
	}
	n := len(z)
	body := n &^ 7
	if body > 0 {
		f(&z[0], &a[0], ptr(d1), ptr(d2), body)
	}
	if body == n {
		return
	}
	var tz, ta, t1, t2 [8]float32
	copy(tz[:], z[body:])
	var p1, p2 *float32
	if d1 != nil {
		p1 = &t1[0]
	}
	if d2 != nil {
		p2 = &t2[0]
	}
	f(&tz[0], &ta[0], p1, p2, 8)
	copy(a[body:], ta[:])
	if d1 != nil {
		copy(d1[body:], t1[:])
	}
	if d2 != nil {
		copy(d2[body:], t2[:])
	}
}

// ptr returns &s[0], or nil for an empty s.
func ptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}
