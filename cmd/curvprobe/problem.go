package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

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
	device                               string
}

// register adds the shared flags to fs.
func (f *problemFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.model, "model", "", "model file (JSON: layers, activation, loss, bias)")
	fs.StringVar(&f.weights, "weights", "", "weights NPZ (W0 b0 W1 b1 ..., W_l shaped [in, out])")
	fs.StringVar(&f.dataPath, "data", "", "dataset: NPZ (x, y), CSV, an MNIST IDX pair or CIFAR-10 batches (file or folder), or builtin:digits")
	fs.StringVar(&f.dataFormat, "data-format", "", "force the data format: "+data.Supported)
	fs.StringVar(&f.runDir, "run", "", "a training run directory: its model, final weights and training data (subset, standardisation) unless --model/--weights/--data say otherwise")
	fs.BoolVar(&f.standardize, "standardize", false, "standardise the features (with --data)")
	fs.IntVar(&f.subset, "subset", 0, "use a seeded, class-balanced subset of this many samples (0: all)")
	fs.IntVar(&f.batch, "batch", 512, "samples per backend pass")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the random start and probe vectors and of --subset")
	deviceFlag(fs, &f.device, "auto")
}

// check reports missing flags, naming them; cmd prefixes errors.
func (f *problemFlags) check(cmd string) error {
	if f.runDir != "" {
		return nil
	}
	for _, req := range []struct{ name, val string }{{"--model", f.model}, {"--weights", f.weights}, {"--data", f.dataPath}} {
		if req.val == "" {
			return fmt.Errorf("%s: %s is required (or --run DIR)", cmd, req.name)
		}
	}
	return nil
}

// load reads the model, its weights and the data, opens the backend and
// returns the network's Plan at those weights with the data uploaded.
func loadProblem[T kernels.Float](f problemFlags, stderr io.Writer) (*models.Plan[T], *models.Data, error) {
	var cfg *run.TrainConfig
	if f.runDir != "" {
		var err error
		if cfg, err = run.LoadTrainConfig(filepath.Join(f.runDir, run.ConfigFile)); err != nil {
			return nil, nil, fmt.Errorf("--run: %w", err)
		}
		if f.weights == "" {
			f.weights = filepath.Join(f.runDir, run.WeightsFile)
		}
	}
	var spec models.Spec
	var err error
	if f.model != "" || cfg == nil {
		if spec, err = models.LoadSpec(f.model); err != nil {
			return nil, nil, err
		}
	} else {
		spec = cfg.Model
	}
	params, err := models.LoadWeights(f.weights, spec)
	if err != nil {
		return nil, nil, err
	}
	var ds *data.Dataset
	if f.dataPath == "" && cfg != nil {
		ds, _, err = run.LoadTrainData(cfg)
		f.dataPath = cfg.Data
	} else {
		ds, err = loadData(f.dataPath, f.dataFormat, f.subset, f.seed)
		if err == nil && f.standardize {
			ds.Standardize()
		}
	}
	if err != nil {
		return nil, nil, err
	}
	for _, n := range ds.Notes {
		fmt.Fprintf(stderr, "curvprobe: data: %s\n", n)
	}
	be, err := openBackend[T](f.device, stderr)
	if err != nil {
		return nil, nil, err
	}
	p, err := models.Build(be, spec, models.Settings{Batch: f.batch})
	if err != nil {
		return nil, nil, err
	}
	if err := p.SetParams(params); err != nil {
		return nil, nil, err
	}
	d, err := run.Upload(p, ds, f.dataPath)
	if err != nil {
		return nil, nil, err
	}
	return p, d, nil
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

// dtypeFor returns the --dtype to use: the flag when given, else the
// model's own dtype (model file or run config), else def.
func (f *problemFlags) dtypeFor(fs *flag.FlagSet, flagValue, def string) string {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "dtype" })
	if set {
		return flagValue
	}
	var spec models.Spec
	switch {
	case f.model != "":
		spec, _ = models.LoadSpec(f.model) // errors surface when the problem loads
	case f.runDir != "":
		if cfg, err := run.LoadTrainConfig(filepath.Join(f.runDir, run.ConfigFile)); err == nil {
			spec = cfg.Model
			if spec.DType == "" {
				spec.DType = cfg.DType
			}
		}
	}
	if spec.DType != "" {
		return spec.DType
	}
	return def
}
