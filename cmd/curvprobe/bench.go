package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/bench"
	"github.com/curvprobe/curvprobe/kernels"
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
	device := new(string)
	deviceFlag(fs, device, "auto")
	seed := fs.Uint64("seed", 1, "seed of parameters and data")
	jsonOut := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	spec, err := specFromFlags(*arch, *act, *loss, *bias)
	if err != nil {
		return err
	}
	if *batch <= 0 || *repeats <= 0 {
		return fmt.Errorf("--batch and --repeats must be positive")
	}
	s := bench.HVPSettings{Spec: spec, Batch: *batch, Repeats: *repeats, Seed: *seed}
	var res *bench.HVPResult
	switch *dtype {
	case "float32":
		res, err = benchHVP[float32](ctx, *device, s, stderr)
	case "float64":
		res, err = benchHVP[float64](ctx, *device, s, stderr)
	default:
		return fmt.Errorf("--dtype %q: want float32 or float64", *dtype)
	}
	if err != nil {
		return err
	}
	if *jsonOut {
		return json.NewEncoder(stdout).Encode(res)
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

func benchHVP[T kernels.Float](ctx context.Context, device string, s bench.HVPSettings, stderr io.Writer) (*bench.HVPResult, error) {
	be, err := openBackend[T](device, stderr)
	if err != nil {
		return nil, err
	}
	return bench.HVP(ctx, be, s)
}

func cmdBenchLambda(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench lambda", flag.ContinueOnError)
	fs.SetOutput(stderr)
	arch := fs.String("arch", "784x7000x7000x7000x10", "layer widths (the default has 103.6M parameters)")
	act := fs.String("act", "tanh", "hidden activation")
	loss := fs.String("loss", "cross_entropy", "cross_entropy or mse")
	samples := fs.Int("samples", 4096, "random samples in the data set")
	batch := fs.Int("batch", 1024, "samples per backend pass")
	dtype := fs.String("dtype", "float32", "float32 or float64")
	tol := fs.Float64("tol", 1e-3, "power iteration's relative residual tolerance")
	maxIter := fs.Int("max-iter", 100, "power iterations at most")
	device := new(string)
	deviceFlag(fs, device, "auto")
	seed := fs.Uint64("seed", 1, "seed")
	cacheMiB := fs.Int64("cache-mib", 8192, "memory for keeping the forward passes between products, MiB (-1: never)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	spec, err := specFromFlags(*arch, *act, *loss, true)
	if err != nil {
		return err
	}
	s := bench.LambdaSettings{Spec: spec, Samples: *samples, Batch: *batch, Tol: *tol, MaxIter: *maxIter, Seed: *seed, CacheBytes: *cacheMiB << 20}
	var res *bench.LambdaResult
	switch *dtype {
	case "float32":
		res, err = benchLambda[float32](ctx, *device, s, stderr)
	case "float64":
		res, err = benchLambda[float64](ctx, *device, s, stderr)
	default:
		return fmt.Errorf("--dtype %q: want float32 or float64", *dtype)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(res)
}

func benchLambda[T kernels.Float](ctx context.Context, device string, s bench.LambdaSettings, stderr io.Writer) (*bench.LambdaResult, error) {
	be, err := openBackend[T](device, stderr)
	if err != nil {
		return nil, err
	}
	return bench.TopEigenvalue(ctx, be, s)
}
