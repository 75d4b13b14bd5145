package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe/run"
)

// problemFlags name a trained network and the data to measure it on: the
// flags spectrum and taylor share.
type problemFlags struct {
	model, weights, dataPath, dataFormat string
	runDir                               string
	standardize                          bool
	subset, batch                        int
	seed                                 uint64
	device                               deviceFlags
	infer                                inferFlags
}

// register adds the shared flags to fs.
func (f *problemFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model file (JSON: layers, activation, loss, bias)")
	fs.StringVar(&f.weights, "weights", "", "weights: NPZ (W0 b0 W1 b1 ..., W_l shaped [in, out]), or a PyTorch nn.Sequential's state_dict saved with safetensors or torch.save")
	f.infer.register(fs)
	fs.StringVar(&f.dataPath, "data", "", "dataset: NPZ (x, y), CSV, an MNIST IDX pair or CIFAR-10 batches (file or folder), or builtin:digits")
	fs.StringVar(&f.dataFormat, "data-format", "", "force the data format: "+data.Supported)
	fs.StringVar(&f.runDir, "run", "", "a training run directory: its model, final weights and training data (subset, standardisation) unless --model/--weights/--data say otherwise")
	fs.BoolVar(&f.standardize, "standardize", false, "standardise the features (with --data)")
	fs.IntVar(&f.subset, "subset", 0, "use a seeded, class-balanced subset of this many samples (0: all)")
	fs.IntVar(&f.batch, "batch", 512, "samples per backend pass")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random start and probe vectors and of --subset")
	f.device.register(fs, "auto")
}

// check reports missing and invalid shared flags, naming them
// (run.ProblemSettings.CheckGiven); cmd prefixes errors.
func (f *problemFlags) check(cmd string) error {
	if err := f.problem().CheckGiven(f.infer.given()); err != nil {
		return fmt.Errorf("%s: %w", cmd, flagError(err))
	}
	return nil
}

// problem returns the run.ProblemSettings of the files and data flags.
func (f *problemFlags) problem() run.ProblemSettings {
	return run.ProblemSettings{Model: f.model, Weights: f.weights, Data: f.dataPath, DataFormat: f.dataFormat, RunDir: f.runDir,
		Standardize: f.standardize, Subset: f.subset, Batch: f.batch, Seed: f.seed}
}

// settings returns the run.ProblemSettings of the flags; dtype is --dtype
// when given (else the model's, the run's or float64 applies). Data notes
// and auto's choice of device go to stderr.
func (f *problemFlags) settings(cmd string, fs *flag.FlagSet, dtype string, stderr io.Writer) (run.ProblemSettings, error) {
	s := f.problem()
	s.Notes = stderr
	if flagSet(fs, "dtype") {
		dt, err := kernels.ParseDType(dtype)
		if err != nil {
			return s, fmt.Errorf("%s: --%w", cmd, err)
		}
		s.DType = dt
	}
	var err error
	if f.model == "" && f.runDir == "" {
		spec, w, err := f.infer.spec(f.weights)
		if err != nil {
			return s, err
		}
		s.Spec, s.WeightsFile = &spec, w
	}
	if s.Device, s.DeviceOptions, err = f.device.settings(stderr); err != nil && s.WeightsFile != nil {
		s.WeightsFile.Close()
	}
	return s, err
}

// flagError returns err with a flag's name in front when it is the error
// of a setting (run.SettingError names it without the dashes).
func flagError(err error) error {
	var se *run.SettingError
	if errors.As(err, &se) {
		return fmt.Errorf("--%w", err)
	}
	return err
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

// specFromFlags builds a Spec from the --arch, --act, --loss and --bias
// flags, naming the flag at fault.
func specFromFlags(arch, act, loss string, bias bool) (models.Spec, error) {
	layers, err := models.ParseArch(arch)
	if err != nil {
		return models.Spec{}, fmt.Errorf("--arch: %w", err)
	}
	a, err := models.ParseActivation(act)
	if err != nil {
		return models.Spec{}, fmt.Errorf("--act: %w", err)
	}
	l, err := models.ParseLoss(loss)
	if err != nil {
		return models.Spec{}, fmt.Errorf("--loss: %w", err)
	}
	spec := models.Spec{Layers: layers, Activation: a, Loss: l, Bias: bias}
	if err := spec.Validate(); err != nil {
		return models.Spec{}, fmt.Errorf("--arch/--loss: %w", err)
	}
	return spec, nil
}
