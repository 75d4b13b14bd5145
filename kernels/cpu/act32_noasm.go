//go:build !amd64

package cpu

import "github.com/curvprobe/curvprobe/kernels"

// activate32 evaluates the float32 activation act (Tanh, Sigmoid or
// Softplus) of z into a, d1 and d2 with the Go kernels of act32.go.
func activate32(act kernels.Activation, z, a, d1, d2 []float32) {
	activate32Go(act, z, a, d1, d2)
}
