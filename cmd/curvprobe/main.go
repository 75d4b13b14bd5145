// Command curvprobe trains MLPs and measures the curvature of their loss:
// the Hessian's extreme eigenvalues, trace and spectral density, by exact
// Hessian-vector products.
//
// Usage:
//
//	curvprobe spectrum --model F --weights F --data F [--top-k K] [--bottom-k K] [--trace] [--density] [--json]
//	curvprobe bench hvp --arch 784x512x512x10 --act tanh --loss cross_entropy --batch 512 [--json]
//	curvprobe devices
//
// Run `curvprobe CMD -h` for the flags of a command. Results go to stdout,
// progress and diagnostics to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/device"
)

const usage = `curvprobe: exact curvature of neural-network losses

Commands:
  demo       the built-in default: the edge of stability on the embedded digits, with figures
  train      train an MLP while probing its sharpness (edge of stability), with logs, checkpoints and plots
  sweep      grids of training runs: plan, run (parallel, sharded, resumable), report, slurm, k8s
  plot       redraw a run's figures and CSV from its log
  spectrum   eigenvalues, trace and density of the Hessian of a model on a dataset
  taylor     compare the loss with its quadratic model along the gradient and eigenvectors; saddle escape
  bench hvp  time the gradient and the exact Hessian-vector product
  bench lambda  the top eigenvalue of a large random MLP (scale test)
  devices    list the compute devices this binary can use

Run 'curvprobe COMMAND -h' for a command's flags.
`

// errUsage marks errors that should be followed by the usage text.
var errUsage = errors.New("usage")

func main() {
	matchBLASCores()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := execute(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "curvprobe:", err)
		}
		os.Exit(exitCode(err))
	}
}

// matchBLASCores re-executes curvprobe with OPENBLAS_CORETYPE set when
// OpenBLAS, as loaded, runs kernels of a lower class than the CPU supports
// (see cpu.CoreTypeRemedy): OpenBLAS reads the variable only when it is
// loaded, so a new process is the way to change its kernels. A value the
// user set is never overridden; should the exec fail, curvprobe carries on
// and names the slower kernels in every header.
func matchBLASCores() {
	ct, why := cpu.CoreTypeRemedy()
	if ct == "" {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), cpu.EnvCoreType+"="+ct, cpu.EnvCoreTypeSet+"="+why)
	err = syscall.Exec(exe, os.Args, env)
	fmt.Fprintf(os.Stderr, "curvprobe: could not restart with %s=%s (%v); OpenBLAS keeps its slower kernels\n", cpu.EnvCoreType, ct, err)
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// execute runs one command line; it is main without the process.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer device.RecoverGPU(&err)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "spectrum":
		return cmdSpectrum(ctx, args[1:], stdout, stderr)
	case "bench":
		switch {
		case len(args) >= 2 && args[1] == "hvp":
			return cmdBenchHVP(ctx, args[2:], stdout, stderr)
		case len(args) >= 2 && args[1] == "lambda":
			return cmdBenchLambda(ctx, args[2:], stdout, stderr)
		}
		fmt.Fprintln(stderr, "curvprobe bench: want 'curvprobe bench hvp [flags]' or 'curvprobe bench lambda [flags]'")
		return errUsage
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "train":
		return cmdTrain(ctx, args[1:], stdout, stderr)
	case "sweep":
		return cmdSweep(ctx, args[1:], stdout, stderr)
	case "plot":
		return cmdPlot(ctx, args[1:], stdout, stderr)
	case "taylor":
		return cmdTaylor(ctx, args[1:], stdout, stderr)
	case "devices":
		fs := flag.NewFlagSet("devices", flag.ContinueOnError)
		fs.SetOutput(stderr)
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("devices: unexpected argument %q", fs.Arg(0))
		}
		return device.WriteList(stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "curvprobe: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
