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
	if err := fset.Parse(args); err != nil {
		return errUsage
	}
	// The run directory may come before or after the flags.
	var dirs []string
	for fset.NArg() > 0 {
		dirs = append(dirs, fset.Arg(0))
		if err := fset.Parse(fset.Args()[1:]); err != nil {
			return errUsage
		}
	}
	if len(dirs) != 1 {
		fmt.Fprint(stderr, plotUsage)
		fset.PrintDefaults()
		return errUsage
	}
	dir := dirs[0]
	var formats []string
	for _, f := range strings.Split(*format, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "png", "svg":
			formats = append(formats, f)
		default:
			return fmt.Errorf("plot: --format %q: want png or svg", f)
		}
	}
	if len(formats) == 0 {
		return fmt.Errorf("plot: --format %q names no format", *format)
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
