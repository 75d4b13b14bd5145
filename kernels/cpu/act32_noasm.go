//go:build !amd64

package cpu

import "github.com/curvprobe/curvprobe/kernels"

// activate32 evaluates the float32 activation act (Tanh, Sigmoid or
// Softplus) of z into a, d1 and d2 with the Go kernels of act32.go.
func activate32(act kernels.Activation, z, a, d1, d2 []float32) {
	activate32Go(act, z, a, d1, d2)
}

// The float32 loops of elementwise.go have no assembly here: these report
// false and the callers run their Go loops.
func mulF32(d, x, y []float32) bool             { return false }
func mulAddF32(d, x, y []float32) bool          { return false }
func mul3AddF32(d, x, y, z []float32) bool      { return false }
func addF32(d, v []float32) bool                { return false }
func dotF32(p *[8]float64, x, y []float32) bool { return false }
func addF32ToF64(d []float64, x []float32) bool { return false }
func reluF32(z, a, d1, d2 []float32) int        { return 0 }

// hasAVX2FMA is false: there is no assembly here. (Tests set it false on
// amd64 to run the Go paths.)
var hasAVX2FMA = false
