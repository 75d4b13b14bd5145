package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
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
	deviceFlag(fs, &f.device, "auto")
}

// check reports missing and invalid shared flags, naming them; cmd
// prefixes errors.
func (f *problemFlags) check(cmd string) error {
	if f.batch < 1 {
		return fmt.Errorf("%s: --batch %d: want at least 1 sample per pass", cmd, f.batch)
	}
	if f.subset < 0 {
		return fmt.Errorf("%s: --subset %d: want 0 (all samples) or a positive count", cmd, f.subset)
	}
	if f.runDir != "" {
		// Without --data the run's own data, subset and standardisation
		// are used; these flags would be ignored.
		if f.dataPath == "" {
			for _, fl := range []struct {
				name string
				set  bool
			}{{"--subset", f.subset != 0}, {"--standardize", f.standardize}, {"--data-format", f.dataFormat != ""}} {
				if fl.set {
					return fmt.Errorf("%s: %s applies to --data; with --run alone the run's own data settings are used", cmd, fl.name)
				}
			}
		}
		return nil
	}
	for _, req := range []struct{ name, val string }{{"--model", f.model}, {"--weights", f.weights}, {"--data", f.dataPath}} {
		if req.val == "" && req.name == "--model" && !f.infer.given() {
			return fmt.Errorf("%s: --model is required (or --act and --loss, the widths read from --weights; or --run DIR)", cmd)
		}
		if req.val == "" && req.name != "--model" {
			return fmt.Errorf("%s: %s is required (or --run DIR)", cmd, req.name)
		}
	}
	if f.model != "" && f.infer.given() {
		return fmt.Errorf("%s: --act and --loss apply without --model (the model file names them)", cmd)
	}
	return nil
}

// loadProblem reads the model, its weights and the data, opens the backend
// and returns the network's Plan at those weights with the data uploaded.
// Errors name the flag (or the run directory) that gave the file.
func loadProblem[T kernels.Float](f problemFlags, stderr io.Writer) (*models.Plan[T], *models.Data, error) {
	var cfg *run.TrainConfig
	weightsFrom := "--weights " + f.weights
	if f.runDir != "" {
		var err error
		if cfg, err = run.LoadTrainConfig(filepath.Join(f.runDir, run.ConfigFile)); err != nil {
			return nil, nil, fmt.Errorf("--run %s: %w", f.runDir, err)
		}
		if f.weights == "" {
			f.weights = filepath.Join(f.runDir, run.WeightsFile)
			weightsFrom = "--run " + f.runDir
		}
	}
	var spec models.Spec
	var err error
	modelFrom := "--model " + f.model
	if f.model == "" && cfg == nil {
		if spec, err = f.infer.spec(f.weights); err != nil {
			return nil, nil, err
		}
		modelFrom = "--weights " + f.weights
	} else if f.model != "" || cfg == nil {
		if spec, err = models.LoadSpec(f.model); err != nil {
			return nil, nil, fmt.Errorf("--model %s: %w", f.model, err)
		}
	} else {
		spec, modelFrom = cfg.Model, "--run "+f.runDir
	}
	var ds *data.Dataset
	if f.dataPath == "" && cfg != nil {
		if ds, _, err = run.LoadTrainData(cfg); err != nil {
			return nil, nil, fmt.Errorf("--run %s: %w", f.runDir, err)
		}
		f.dataPath = cfg.Data
	} else {
		if ds, err = loadData(f.dataPath, f.dataFormat, f.subset, f.seed); err != nil {
			return nil, nil, err
		}
		if f.standardize {
			ds.Standardize()
		}
	}
	for _, n := range ds.Notes {
		fmt.Fprintf(stderr, "curvprobe: data: %s\n", n)
	}
	be, err := openBackend[T](f.device, stderr)
	if err != nil {
		return nil, nil, err
	}
	// A pass never holds more samples than there are: a larger --batch
	// gives the same results, and the plan's scratch is sized by it.
	batch := min(f.batch, ds.N)
	// The parameters, gradient, a direction and its product, the weights
	// read on the host, the samples and one pass: refused before the
	// weights are read, blaming the model when one sample does not fit,
	// --batch when one sample per pass would, else the data.
	u := models.Usage{Vectors: 4, HostVectors: 1, Samples: ds.N, Rows: batch}
	if _, err := models.CheckMemory(be, spec, u); err != nil {
		switch {
		case !fits(be, spec, models.Usage{Vectors: 4, HostVectors: 1, Rows: 1}):
			return nil, nil, fmt.Errorf("%s: %w", modelFrom, err)
		case fits(be, spec, models.Usage{Vectors: 4, HostVectors: 1, Samples: ds.N, Rows: 1}):
			return nil, nil, fmt.Errorf("--batch %d: %w", f.batch, err)
		}
		return nil, nil, fmt.Errorf("--data %s (%d samples): %w", f.dataPath, ds.N, err)
	}
	params, err := models.LoadWeights(f.weights, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", weightsFrom, err)
	}
	p, err := models.Build(be, spec, models.Settings{Batch: batch})
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

// fits reports whether u of spec fits be's memory (models.CheckMemory):
// asked of smaller usages to find the flag to blame for a refusal.
func fits[T kernels.Float](be kernels.Backend[T], spec models.Spec, u models.Usage) bool {
	_, err := models.CheckMemory(be, spec, u)
	return err == nil
}

// loadData reads the --data set and takes its --subset.
func loadData(path, format string, subset int, seed uint64) (*data.Dataset, error) {
	ds, err := data.Load(path, format)
	if errors.Is(err, data.ErrGenerated) {
		return nil, fmt.Errorf("--data %s: %w; to measure a network trained on it, give its run directory (--run DIR)", path, data.ErrGenerated)
	}
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", path, err)
	}
	if ds, err = ds.Sample(subset, seed); err != nil {
		return nil, fmt.Errorf("--subset %d of %s: %w", subset, path, err)
	}
	return ds, nil
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

// checkFinite reports a NaN or infinite value of a float flag, naming it.
func checkFinite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s %v: want a finite number", name, v)
	}
	return nil
}
