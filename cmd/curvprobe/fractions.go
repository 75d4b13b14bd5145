package main

import (
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/probe/run"
)

// printFractions prints the fractions of positive, negative and near-zero
// eigenvalues: exact counts, or estimates with their error bars (the bias
// bound plus three standard errors, "undefined" for a single probe).
func printFractions(w io.Writer, indent string, f *run.FractionsReport) {
	if f.Method == "exact" {
		fmt.Fprintf(w, "%sexact counts: fraction of eigenvalues > %.2g: %.4f, < -%.2g: %.4f, near zero: %.4f\n",
			indent, f.ZeroTol, f.Positive.Value, f.ZeroTol, f.Negative.Value, f.NearZero.Value)
		return
	}
	fmt.Fprintf(w, "%sfraction of eigenvalues > %.2g: %.4f ± %s, < -%.2g: %.4f ± %s, near zero: %.4f ± %s (SLQ, %d probes × %d steps; ± bias bound + 3 standard errors)\n",
		indent, f.ZeroTol, f.Positive.Value, stdErr(f.Positive.Err), f.ZeroTol, f.Negative.Value, stdErr(f.Negative.Err),
		f.NearZero.Value, stdErr(f.NearZero.Err), f.Probes, f.Steps)
}
