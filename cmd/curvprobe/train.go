package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// trainFlags registers the flags of a training run on fs, filling cfg.
type trainFlags struct {
	cfg                        run.TrainConfig
	arch, act, loss, modelFile string
	configFile, out            string
	device                     deviceFlags
	schedule                   string
	resume, quiet, noPlot      bool
	bias                       bool
	init, dtype                string
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	c := &f.cfg
	fs.StringVar(&f.configFile, "config", "", "read the run configuration from this JSON file (as written to RUN_DIR/config.json); only --out, --device, --tf32, --quiet and --no-plot may be added")
	fs.StringVar(&f.modelFile, "model", "", "model file (JSON); overrides --arch, --act, --loss, --bias")
	fs.StringVar(&f.arch, "arch", "784x200x200x10", "layer widths, input to output")
	fs.StringVar(&f.act, "act", "tanh", "hidden activation: relu tanh sigmoid gelu softplus linear")
	fs.StringVar(&f.loss, "loss", "mse", "cross_entropy or mse")
	fs.BoolVar(&f.bias, "bias", true, "layers have biases")
	fs.StringVar(&f.init, "init", "", "initialisation: lecun, he, xavier or pytorch (default: he for relu, lecun otherwise)")
	fs.StringVar(&c.Data, "data", "", "training data: a file or folder (NPZ, CSV, MNIST IDX, CIFAR-10 binary), or synthetic:gaussian / synthetic:teacher")
	fs.StringVar(&c.DataFormat, "data-format", "", "force the data format")
	fs.IntVar(&c.Subset, "subset", 0, "seeded class-balanced subset of the training data (generators: number of samples)")
	fs.BoolVar(&c.Standardize, "standardize", false, "standardise features with the training set's mean and std")
	fs.StringVar(&c.Test, "test", "", "test data evaluated on probed steps")
	fs.IntVar(&c.TestSubset, "test-subset", 0, "class-balanced subset of the test data")
	fs.StringVar((*string)(&c.Optimizer.Kind), "optimizer", "gd", "gd, sgd, nesterov or adam")
	fs.Float64Var(&c.Optimizer.LR, "lr", 0.02, "learning rate")
	fs.Float64Var(&c.Optimizer.Momentum, "momentum", 0, "momentum β, for sgd (heavy ball) and nesterov only")
	fs.Float64Var(&c.Optimizer.Beta1, "beta1", 0, "Adam β1, in [0, 1) (0: 0.9)")
	fs.Float64Var(&c.Optimizer.Beta2, "beta2", 0, "Adam β2, in [0, 1) (0: 0.999)")
	fs.Float64Var(&c.Optimizer.WeightDecay, "wd", 0, "weight decay (L2 for gd/sgd/nesterov, decoupled for adam)")
	fs.StringVar(&f.schedule, "schedule", "constant", "learning-rate schedule: constant, step:EVERY:GAMMA, cosine[:MIN_LR]")
	fs.IntVar(&c.Optimizer.Schedule.Warmup, "warmup", 0, "linear warm-up steps")
	fs.IntVar(&c.Steps, "steps", 1000, "optimizer steps")
	fs.IntVar(&c.Epochs, "epochs", 0, "train for this many passes over the data instead of --steps")
	fs.IntVar(&c.Batch, "batch", 0, "mini-batch size (0: full batch)")
	fs.IntVar(&c.ProbeEvery, "probe-every", 10, "probe the curvature every this many steps (and on the first and last)")
	fs.IntVar(&c.ProbeSet, "probe-set", 0, "probe on a fixed seeded subset of this many training samples (0: all)")
	fs.BoolVar(&c.ProbeBottom, "probe-bottom", false, "also probe the bottom eigenvalue (Lanczos)")
	fs.IntVar(&c.ProbeTopK, "probe-top-k", 0, "also probe the top-k eigenvalues (Lanczos)")
	fs.BoolVar(&c.ProbeTrace, "probe-trace", false, "also probe the trace (Hutchinson)")
	fs.IntVar(&c.TraceProbes, "trace-probes", 0, "Hutchinson probes (0: 100)")
	fs.BoolVar(&c.ProbeDensity, "probe-density", false, "also probe the spectral density (SLQ)")
	fs.BoolVar(&c.ProbePerLayer, "probe-per-layer", false, "also probe each layer's sharpness, the top eigenvalue of its diagonal Hessian block (W_l and b_l together)")
	fs.Float64Var(&c.PowerTol, "power-tol", 0, "power iteration's relative residual tolerance (0: 1e-5)")
	fs.IntVar(&c.LogEvery, "log-every", 0, "log every this many steps (0: every step)")
	fs.IntVar(&c.CheckpointEvery, "checkpoint-every", 0, "checkpoint every this many steps (0: at probes, at most once a minute; an interrupt always checkpoints)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of initialisation, subsets, batches and probes")
	fs.IntVar(&c.PlanBatch, "plan-batch", 0, "samples per backend pass (0: 512)")
	fs.StringVar(&f.dtype, "dtype", "float32", "float32 or float64")
	f.device.register(fs, "auto")
	fs.StringVar(&c.WeightsFormat, "weights-format", "", "safetensors: also write the final weights as RUN_DIR/weights.safetensors, PyTorch's layout (weights.npz is always written)")
	fs.StringVar(&f.out, "out", "", "run directory (required)")
	fs.BoolVar(&f.resume, "resume", false, "continue the run in --out from its last checkpoint")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&f.noPlot, "no-plot", false, "do not draw the figures at the end")
}

// config builds the run configuration from the flags.
func (f *trainFlags) config() (*run.TrainConfig, error) {
	if f.configFile != "" {
		return run.LoadTrainConfig(f.configFile)
	}
	c := f.cfg
	var err error
	if f.modelFile != "" {
		c.Model, err = models.LoadSpec(f.modelFile)
	} else {
		c.Model, err = specFromFlags(f.arch, f.act, f.loss, f.bias)
	}
	if err != nil {
		return nil, err
	}
	if f.init != "" {
		c.Model.Init = models.InitKind(f.init)
	}
	if c.DType, err = kernels.ParseDType(f.dtype); err != nil {
		return nil, err
	}
	sched, err := models.ParseSchedule(f.schedule, c.Steps)
	if err != nil {
		return nil, fmt.Errorf("--%w", err)
	}
	sched.Warmup = c.Optimizer.Schedule.Warmup
	c.Optimizer.Schedule = sched
	return &c, c.Validate()
}

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f trainFlags
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	var fixed []string // flags a resumed run cannot change: its config.json decides
	fs.Visit(func(fl *flag.Flag) {
		set[fl.Name] = true
		switch fl.Name {
		case "out", "resume", "device", "tf32", "quiet", "no-plot":
		default:
			fixed = append(fixed, "--"+fl.Name)
		}
	})
	// Flags that only qualify another one are errors without it, not ignored.
	if f.configFile == "" && !f.resume {
		if err := f.cfg.CheckGiven(func(name string) bool { return set[name] }); err != nil {
			return fmt.Errorf("train: %w", err)
		}
	}
	if f.configFile != "" {
		for name := range set {
			switch name {
			case "config", "out", "device", "tf32", "quiet", "no-plot":
			default:
				return fmt.Errorf("train: --%s cannot be combined with --config: the file holds the whole run configuration", name)
			}
		}
	}
	if f.resume && len(fixed) > 0 {
		return fmt.Errorf("train --resume: %s cannot change a run: it continues as its %s/%s says (only --device, --tf32, --quiet and --no-plot apply)",
			strings.Join(fixed, ", "), f.out, run.ConfigFile)
	}
	if f.cfg.Epochs > 0 {
		if set["steps"] {
			return fmt.Errorf("train: give --steps or --epochs, not both")
		}
		f.cfg.Steps = 0
	}
	return f.run(ctx, stdout, stderr)
}

func (f *trainFlags) run(ctx context.Context, stdout, stderr io.Writer) error {
	if f.out == "" {
		return fmt.Errorf("train: --out is required")
	}
	s := run.TrainSettings{Dir: f.out, Options: run.TrainOptions{Resume: f.resume, Plot: !f.noPlot, Notes: stderr}}
	var err error
	if !f.resume {
		if s.Config, err = f.config(); err != nil {
			return err
		}
	}
	if s.Backends, err = f.device.backends(stderr); err != nil {
		return err
	}
	s.ModelFrom = f.modelSource(s.Config)
	return train(ctx, f, s, stdout, stderr)
}

// train runs s with a progress bar and prints the summary.
func train(ctx context.Context, f *trainFlags, s run.TrainSettings, stdout, stderr io.Writer) error {
	bar := run.NewBar(stderr, f.quiet)
	s.Options.Reporter = bar
	sum, err := run.TrainRun(ctx, s)
	bar.Done()
	if sum != nil {
		sum.WriteText(stdout, f.out)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; continue with: curvprobe train --out %s --resume", f.out)
	}
	return f.device.errorOf(err)
}

// modelSource names the flag or file that gave the run's model.
func (f *trainFlags) modelSource(cfg *run.TrainConfig) string {
	switch {
	case f.resume:
		return fmt.Sprintf("--resume: the model of %s", filepath.Join(f.out, run.ConfigFile))
	case f.configFile != "":
		return "--config " + f.configFile
	case f.modelFile != "":
		return "--model " + f.modelFile
	case f.arch != "":
		return "--arch " + f.arch
	}
	return "model " + cfg.Model.Arch()
}
