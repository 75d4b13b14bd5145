package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/curvprobe/curvprobe/bench"
	"github.com/curvprobe/curvprobe/probe/run"
)

func cmdBenchHVP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench hvp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "784x512x512x10", "layer widths, input to output")
	act := fs.String("act", "tanh", "hidden activation: relu tanh sigmoid gelu softplus linear")
	loss := fs.String("loss", "cross_entropy", "cross_entropy or mse")
	bias := fs.Bool("bias", true, "layers have biases")
	batch := fs.Int("batch", 512, "batch size")
	dtype := fs.String("dtype", "float32", "float32 or float64")
	repeats := fs.Int("repeats", 20, "timed repetitions (the median is reported)")
	var dev deviceFlags
	dev.register(fs, "auto")
	seed := fs.Uint64("seed", 1, "seed of parameters and data")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench hvp: unexpected argument %q", fs.Arg(0))
	}
	spec, err := specFromFlags(*arch, *act, *loss, *bias)
	if err != nil {
		return err
	}
	dt, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	switch {
	case *batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", *batch)
	case *repeats < 1:
		return fmt.Errorf("--repeats %d: want at least 1", *repeats)
	}
	b, err := dev.backends(stderr)
	if err != nil {
		return err
	}
	res, err := bench.RunHVP(ctx, dt, b, bench.HVPSettings{Spec: spec, Batch: *batch, Repeats: *repeats, Seed: *seed})
	if err != nil {
		return dev.errorOf(err)
	}
	if *jsonOut {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%s %s %s batch %d %s on %s (%d threads), %d parameters\n", res.Arch, res.Activation, res.Loss, res.Batch, res.DType, res.Backend, res.Threads, res.Params)
	fmt.Fprintf(stdout, "                      time    its GEMMs alone (the ceiling)\n")
	fmt.Fprintf(stdout, "gradient           %8.3f ms  %8.3f ms (%d GEMMs)\n", res.GradMS, res.GemmGradMS, res.GemmGradCount)
	fmt.Fprintf(stdout, "HVP                %8.3f ms  %8.3f ms (%d GEMMs, %.1f GFLOP/s): %.2f gradients, %.2fx the ceiling\n",
		res.HVPMS, res.GemmMS, res.GemmCount, res.GemmGFLOPS, res.HVPPerGrad, res.HVPPerGemm)
	fmt.Fprintf(stdout, "HVP, forward kept  %8.3f ms  %8.3f ms (%d GEMMs): %.2fx the ceiling\n",
		res.HVPCachedMS, res.GemmCachedMS, res.GemmCachedCount, res.CachedPerGemm)
	return nil
}

func cmdBenchLambda(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench lambda", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "784x7000x7000x7000x10", "layer widths (the default has 103.6M parameters)")
	act := fs.String("act", "tanh", "hidden activation")
	loss := fs.String("loss", "cross_entropy", "cross_entropy or mse")
	samples := fs.Int("samples", 4096, "random samples in the data set")
	batch := fs.Int("batch", 1024, "samples per backend pass (at most --samples are used)")
	dtype := fs.String("dtype", "float32", "float32 or float64")
	tol := fs.Float64("tol", 1e-3, "relative residual tolerance (Lanczos: of its residual bound)")
	maxIter := fs.Int("max-iter", 100, "Hessian-vector products at most")
	method := fs.String("method", "lanczos", "lanczos (no stored basis: the memory of power iteration) or power")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	var dev deviceFlags
	dev.register(fs, "auto")
	seed := fs.Uint64("seed", 1, "seed")
	cacheMiB := fs.Int64("cache-mib", 8192, "memory for keeping the forward passes between products, MiB (0 or -1: never)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench lambda: unexpected argument %q", fs.Arg(0))
	}
	spec, err := specFromFlags(*arch, *act, *loss, true)
	if err != nil {
		return err
	}
	dt, err := parseDType(*dtype)
	if err != nil {
		return err
	}
	if err := checkFinite("--tol", *tol); err != nil {
		return err
	}
	switch {
	case *samples < 1:
		return fmt.Errorf("--samples %d: want at least 1", *samples)
	case *batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", *batch)
	case !(*tol > 0 && *tol < 1):
		return fmt.Errorf("--tol %g: want a relative residual in (0, 1)", *tol)
	case *maxIter < 1:
		return fmt.Errorf("--max-iter %d: want at least 1", *maxIter)
	case *cacheMiB < -1 || *cacheMiB > math.MaxInt64>>20:
		return fmt.Errorf("--cache-mib %d: want 0 or -1 (never) or a positive size in MiB", *cacheMiB)
	case *method != "lanczos" && *method != "power":
		return fmt.Errorf("--method %q: want lanczos or power", *method)
	}
	// A pass never holds more samples than there are; the results do not
	// depend on it.
	rows := min(*batch, *samples)
	cache := *cacheMiB << 20
	if cache <= 0 {
		cache = -1 // models.Settings: 0 would mean its 1 GiB default
	}
	prog := run.NewProgress(stderr, *quiet)
	defer prog.Done()
	s := bench.LambdaSettings{Spec: spec, Samples: *samples, Batch: rows, Tol: *tol, MaxIter: *maxIter, Seed: *seed, CacheBytes: cache,
		Method: *method, Recorder: prog}
	b, err := dev.backends(stderr)
	if err != nil {
		return err
	}
	res, err := bench.RunTopEigenvalue(ctx, dt, b, s, *batch)
	if err != nil {
		return dev.errorOf(err)
	}
	prog.Done()
	return writeJSON(stdout, res)
}
