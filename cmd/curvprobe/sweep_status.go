package main

import (
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/probe/run/sweep"
)

// sweepStatusUsage documents `sweep status` and its JSON.
const sweepStatusUsage = `status DIR [--json]

` + sweep.StatusHelp

// sweepStatus implements `curvprobe sweep status DIR [--json]`.
func sweepStatus(args []string, stdout, stderr io.Writer) error {
	fs := newSweepFlags("status", sweepStatusUsage, stderr)
	asJSON := fs.Bool("json", false, "print the progress as one JSON object (fields above)")
	dir, err := parseWithArg(fs, args, "sweep directory")
	if err != nil {
		return err
	}
	pr, err := sweep.ReadProgress(dir)
	if err != nil {
		return fmt.Errorf("sweep status: %w", err)
	}
	if *asJSON {
		return pr.WriteJSON(stdout)
	}
	return pr.WriteTable(stdout)
}
