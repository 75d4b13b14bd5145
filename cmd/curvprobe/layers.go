package main

import (
	"flag"
	"fmt"

	"github.com/curvprobe/curvprobe/probe/run"
)

// registerPerLayer registers spectrum's --per-layer.
func registerPerLayer(fs *flag.FlagSet, perLayer *bool) {
	fs.BoolVar(perLayer, "per-layer", false, fmt.Sprintf("also report each layer's diagonal Hessian block (W_l and b_l together): its top --top-k eigenvalues (at least 1), exact for blocks below %d parameters (as --exact decides for the whole matrix), else by Lanczos", run.ExactThreshold))
}
