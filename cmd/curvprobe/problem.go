package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

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
		if req.val == "" {
			return fmt.Errorf("%s: %s is required (or --run DIR)", cmd, req.name)
		}
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
	if f.model != "" || cfg == nil {
		if spec, err = models.LoadSpec(f.model); err != nil {
			return nil, nil, fmt.Errorf("--model %s: %w", f.model, err)
		}
	} else {
		spec = cfg.Model
	}
	params, err := models.LoadWeights(f.weights, spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", weightsFrom, err)
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
	// A pass never holds more samples than there are: a larger --batch
	// gives the same results, and the plan's scratch is sized by it.
	batch := min(f.batch, ds.N)
	if need := estimateMemory(spec, kernels.ElemSize[T](), 0, 0, batch); need.total() > memoryLimit() {
		return nil, nil, fmt.Errorf("--batch %d: %s", f.batch, need.explain(spec, kernels.DTypeName[T]()))
	}
	be, err := openBackend[T](f.device, stderr)
	if err != nil {
		return nil, nil, err
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

// memoryNeed is an estimate, in bytes, of what a Plan holds: parameter-
// length vectors, uploaded samples and one pass's scratch.
type memoryNeed struct {
	params, data, pass  float64
	vecs, samples, rows int
}

func (m memoryNeed) total() float64 { return m.params + m.data + m.pass }

// explain says what m needs against the machine's memory.
func (m memoryNeed) explain(spec models.Spec, dtype string) string {
	return fmt.Sprintf("a %s %s network needs about %s of memory (%d parameter vectors %s, %d samples %s, a pass over %d samples %s); this machine has %s",
		spec.Arch(), dtype, formatBytes(m.total()), m.vecs, formatBytes(m.params), m.samples, formatBytes(m.data), m.rows, formatBytes(m.pass), formatBytes(memoryLimit()))
}

// estimateMemory estimates the memory a Plan of spec in elem-byte floats
// needs for vecs parameter-length vectors, samples uploaded samples (with
// the float64 host copy they are made from and their labels or targets) and
// the scratch of one pass over rows samples with its tangents: per sample,
// nine values per hidden unit, five per output and the widest layer's
// input once (models/pass.go: newState and newTangents). It is computed in
// float64 so that absurd sizes cannot overflow.
func estimateMemory(spec models.Spec, elem, vecs, samples, rows int) memoryNeed {
	e := float64(elem)
	in, out := float64(spec.Inputs()), float64(spec.Outputs())
	var hidden, widest float64
	for l := 0; l < spec.NumLayers(); l++ {
		widest = max(widest, float64(spec.Layers[l]))
		if l > 0 {
			hidden += float64(spec.Layers[l])
		}
	}
	return memoryNeed{
		params:  float64(vecs) * float64(spec.NumParams()) * e,
		data:    float64(samples) * (in + out + 1) * (8 + 2*e),
		pass:    float64(rows) * (9*hidden + 5*out + widest) * e,
		vecs:    vecs,
		samples: samples,
		rows:    rows,
	}
}

// fallbackMemory is the bound on estimated memory where the machine's is
// unknown (no /proc/meminfo).
const fallbackMemory = 1 << 40

// memoryLimit returns the machine's physical memory in bytes (MemTotal),
// or fallbackMemory where it cannot be read: the bound past which sizes
// given by flags are refused before anything is allocated.
var memoryLimit = sync.OnceValue(func() float64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return fallbackMemory
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// MemTotal:       24514624 kB
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 2 && fields[1] == "kB" {
			if kb, err := strconv.ParseFloat(fields[0], 64); err == nil && kb > 0 {
				return kb * 1024
			}
		}
	}
	return fallbackMemory
})

// formatBytes writes b in binary units.
func formatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}
