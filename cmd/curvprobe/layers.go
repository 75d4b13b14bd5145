package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/probe/run"
)

// registerPerLayer registers spectrum's --per-layer.
func registerPerLayer(fs *flag.FlagSet, perLayer *bool) {
	fs.BoolVar(perLayer, "per-layer", false, fmt.Sprintf("also report each layer's diagonal Hessian block (W_l and b_l together): its top --top-k eigenvalues (at least 1), exact for blocks below %d parameters (as --exact decides for the whole matrix), else by Lanczos", run.ExactThreshold))
}

// warnNotConverged says on stderr which Lanczos runs of the report stopped
// short of --tol: the whole matrix's, a layer block's, or both.
func warnNotConverged(stderr io.Writer, rep *run.SpectrumReport) {
	if !rep.Converged {
		fmt.Fprintf(stderr, "curvprobe: warning: Lanczos stopped at %d steps before reaching --tol; raise --max-steps (residuals are in the report)\n", rep.LanczosSteps)
	}
	for _, l := range rep.PerLayer {
		if !l.Converged {
			fmt.Fprintf(stderr, "curvprobe: warning: Lanczos on layer %d's block stopped at %d steps before reaching --tol; raise --max-steps (residuals are in the report)\n", l.Layer, l.LanczosSteps)
		}
	}
}
