package main

import (
	"context"
	"flag"
	"fmt"
	"io"

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
	s := bench.HVPSettings{Spec: spec, Batch: *batch, Repeats: *repeats, Seed: *seed}
	if err := s.Validate(); err != nil {
		return flagError(err)
	}
	b, err := dev.backends(stderr)
	if err != nil {
		return err
	}
	res, err := bench.RunHVP(ctx, dt, b, s)
	if err != nil {
		return dev.errorOf(err)
	}
	if *jsonOut {
		return writeJSON(stdout, res)
	}
	return res.WriteText(stdout)
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
	s := bench.LambdaSettings{Spec: spec, Samples: *samples, Batch: *batch, Tol: *tol, MaxIter: *maxIter, Seed: *seed, Method: *method}
	if err := s.Validate(); err != nil {
		return flagError(err)
	}
	if s.CacheBytes, err = bench.CacheBytes(*cacheMiB); err != nil {
		return flagError(err)
	}
	prog := run.NewProgress(stderr, *quiet)
	defer prog.Done()
	s.Recorder = prog
	b, err := dev.backends(stderr)
	if err != nil {
		return err
	}
	res, err := bench.RunTopEigenvalue(ctx, dt, b, s)
	if err != nil {
		return dev.errorOf(err)
	}
	prog.Done()
	return writeJSON(stdout, res)
}
