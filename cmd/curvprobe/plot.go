package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/curvprobe/curvprobe/probe/run"
)

const plotUsage = `usage: curvprobe plot RUN_DIR [--format png,svg]

Redraws the figures of a training run from RUN_DIR/log.jsonl into
RUN_DIR/plots (eos, loss, accuracy, eigenvalues, layers, density) and
writes the log as RUN_DIR/log.csv; prints the paths written.

Flags:
`

// cmdPlot implements `curvprobe plot RUN_DIR [--format png,svg]`.
func cmdPlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("plot", flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprint(stderr, plotUsage)
		fset.PrintDefaults()
	}
	format := fset.String("format", strings.Join(run.PlotFormats, ","), "comma-separated figure formats: png, svg")
	// The run directory may come before or after the flags.
	dirs, err := positional(fset, args)
	if err != nil {
		return err
	}
	if len(dirs) != 1 {
		fset.Usage()
		return errUsage
	}
	dir := dirs[0]
	formats, err := run.ParsePlotFormats(*format)
	if err != nil {
		return fmt.Errorf("plot: %w", flagError(err))
	}

	if err := run.CheckRunLog(dir); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	paths, plotErr := run.PlotRun(dir, formats...)
	for _, p := range paths {
		fmt.Fprintln(stdout, p)
	}
	if plotErr != nil && len(paths) == 0 {
		return plotErr
	}
	csvPath, err := run.ExportCSV(dir)
	if err != nil {
		return errors.Join(plotErr, err)
	}
	fmt.Fprintln(stdout, csvPath)
	return plotErr
}
