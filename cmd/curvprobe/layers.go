package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

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

// printLayers prints the per-layer blocks of r as a small table, nothing
// when there are none.
func printLayers(w io.Writer, r *run.SpectrumReport) {
	if len(r.PerLayer) == 0 {
		return
	}
	fmt.Fprintf(w, "per layer   diagonal blocks (W_l and b_l together)\n")
	fmt.Fprintf(w, "  %-5s  %-11s  %8s  %5s  %-22s  %s\n", "layer", "W shape", "params", "hvps", "method", "top eigenvalues")
	for _, l := range r.PerLayer {
		shape := fmt.Sprintf("%dx%d", l.Shape[0], l.Shape[1])
		if l.Bias {
			shape += "+b"
		}
		method := l.Method
		if method == "" {
			method = fmt.Sprintf("lanczos %d steps", l.LanczosSteps)
			if !l.Converged {
				method += " NOT conv"
			}
		}
		fmt.Fprintf(w, "  %-5d  %-11s  %8d  %5d  %-22s  %s\n", l.Layer, shape, l.NParams, l.HVPs, method, strings.TrimSpace(floats(l.TopEigenvalues)))
	}
}
