package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
)

// SettingError is an error of one setting: Setting is its name as the
// command line spells the flag that gives it (model, weights, data, subset,
// batch, run, device, resume), Value what it was given, if anything to
// quote. Its text is "SETTING VALUE: ERR"; a command prefixes "--".
type SettingError struct {
	Setting, Value string
	Err            error
}

// Error returns "SETTING VALUE: ERR" (without VALUE when it is empty).
func (e *SettingError) Error() string {
	if e.Value == "" {
		return e.Setting + ": " + e.Err.Error()
	}
	return e.Setting + " " + e.Value + ": " + e.Err.Error()
}

// Unwrap returns the error of the setting.
func (e *SettingError) Unwrap() error { return e.Err }

// ProblemSettings name a trained network, the data to measure it on, the
// float type and the device: what OpenProblem reads and opens. Zero values
// mean the defaults noted.
type ProblemSettings struct {
	// Model, Weights and Data are files (Data as data.Load reads it, in
	// DataFormat when set). With RunDir, an empty one is the run's: its
	// model, final weights and training data (subset, standardisation).
	Model, Weights, Data, DataFormat string
	RunDir                           string
	// Spec, when set, is the model (e.g. read from the weights' shapes by
	// models.InferSpec); Model is then not read, and the weights are blamed
	// for a model that does not fit.
	Spec *models.Spec
	// WeightsFile, when set, is Weights opened already (e.g. by the
	// caller that read Spec from it): the weights are read from it, and
	// OpenProblem closes it.
	WeightsFile *models.WeightsFile
	// Run is RunDir's configuration when the caller has it already (it
	// is then not read again).
	Run *TrainConfig
	// Standardize and Subset apply to Data: standardised features, a
	// seeded class-balanced subset of this many samples (0: all).
	Standardize bool
	Subset      int
	// Batch is the number of samples per backend pass; at most the
	// number of samples is used. A data file of more samples than Batch
	// (after Subset) is read a batch at a time when its format allows
	// (data.Open): the host then holds one batch of it.
	Batch int
	// LoadWhole reads Data into memory even when it could be read a batch
	// at a time (the results are the same, bit for bit).
	LoadWhole bool
	// Seed seeds the subset.
	Seed uint64
	// DType is the float type; unset means the model's, else the run's,
	// else float64.
	DType  kernels.DType
	Device device.Name
	// DeviceOptions open the device (its Notes say auto's choice).
	DeviceOptions device.Options
	// Notes, if not nil, receives the data's notes, one line each.
	Notes io.Writer
}

// Problem is a trained network on its data, on a backend: the session the
// spectrum and taylor commands measure. It is not generic: the float type
// was chosen once, by OpenProblem.
type Problem struct {
	spec  models.Spec
	dtype kernels.DType
	e     engine
	src   *data.Source // the data, in memory or read from the file batch by batch
}

// engine is the generic implementation behind Problem, for one float type.
type engine interface {
	numParams() int
	fits(u models.Usage) error
	spectrum(ctx context.Context, s SpectrumSettings) (*SpectrumReport, error)
	directions(ctx context.Context, s SpectrumSettings) ([]Direction, *SpectrumReport, error)
	taylor(ctx context.Context, dirs []Direction, s TaylorSettings) (*TaylorReport, error)
	saddle(ctx context.Context, s SaddleSettings) (*SaddleReport, error)
}

// OpenProblem reads the model, its weights and the data (each once; a run
// directory's config.json once), opens the device and returns the network
// at those weights with the data uploaded. Before the weights are read it
// checks the memory of the parameters, gradient, a direction and its
// product, the weights on the host, the samples and one pass, blaming the
// model when one sample does not fit, the batch when one sample per pass
// would, else the data. Errors of a setting are *SettingError.
func OpenProblem(s ProblemSettings) (*Problem, error) {
	if s.WeightsFile != nil {
		defer s.WeightsFile.Close()
	}
	cfg := s.Run
	weights, weightsFrom := s.Weights, "weights"
	if s.RunDir != "" {
		if cfg == nil {
			var err error
			if cfg, err = LoadTrainConfig(filepath.Join(s.RunDir, ConfigFile)); err != nil {
				return nil, &SettingError{"run", s.RunDir, err}
			}
		}
		if weights == "" {
			weights, weightsFrom = filepath.Join(s.RunDir, WeightsFile), "run"
		}
	}
	var spec models.Spec
	modelFrom := &SettingError{Setting: "model", Value: s.Model}
	if s.Spec != nil {
		spec, modelFrom = *s.Spec, &SettingError{Setting: "weights", Value: weights}
	} else if s.Model != "" || cfg == nil {
		var err error
		if spec, err = models.LoadSpec(s.Model); err != nil {
			return nil, &SettingError{"model", s.Model, err}
		}
	} else {
		spec, modelFrom = cfg.Model, &SettingError{Setting: "run", Value: s.RunDir}
		spec.DType = spec.DType.Or(cfg.DType)
	}
	dataPath := s.Data
	var src *data.Source
	if dataPath == "" && cfg != nil {
		ds, _, err := LoadTrainData(cfg)
		if err != nil {
			return nil, &SettingError{"run", s.RunDir, err}
		}
		src, dataPath = data.FromDataset(ds), cfg.Data
	} else {
		var err error
		if src, err = probeData(dataPath, s); err != nil {
			return nil, err
		}
	}
	if s.Notes != nil {
		for _, n := range src.Notes {
			fmt.Fprintf(s.Notes, "curvprobe: data: %s\n", n)
		}
	}
	pr := &Problem{spec: spec, src: src, dtype: s.DType.Or(spec.DType).Or(kernels.Float64)}
	b := &problemBuilder{s: s, spec: spec, src: src, dataPath: dataPath, weights: weights, weightsFrom: weightsFrom, modelFrom: modelFrom}
	if err := device.Run(pr.dtype, device.On(s.Device, s.DeviceOptions), b); err != nil {
		pr.Close()
		var oe *device.OpenError
		if errors.As(err, &oe) {
			return nil, &SettingError{"device", s.Device.String(), oe.Err}
		}
		return nil, err
	}
	pr.e = b.e
	return pr, nil
}

// dataError is the setting error of a data set that could not be read.
func dataError(path string, err error) error {
	if errors.Is(err, data.ErrGenerated) {
		return &SettingError{"data", path, fmt.Errorf("%w; to measure a network trained on it, give its run directory (--run DIR)", data.ErrGenerated)}
	}
	return &SettingError{"data", path, err}
}

// probeData returns the data of s read from path (data.Open or, with
// LoadWhole, data.Load), their subset taken and standardised when s asks:
// a Source reading them from the file a batch at a time (openData's
// choice), standardising on read, or one over the samples in memory
// (data.FromDataset), standardised in place so that passes take views of
// them.
func probeData(path string, s ProblemSettings) (*data.Source, error) {
	var ds *data.Dataset
	var src *data.Source
	var err error
	if s.LoadWhole {
		ds, err = loadData(path, s.DataFormat, s.Subset, s.Seed)
	} else {
		src, ds, err = openData(path, s.DataFormat, s.Subset, s.Seed, s.Batch)
	}
	switch {
	case err != nil:
		return nil, err
	case src == nil:
		if s.Standardize {
			ds.Standardize()
		}
		return data.FromDataset(ds), nil
	case s.Standardize:
		if _, _, err := src.Standardize(); err != nil {
			src.Close()
			return nil, &SettingError{"data", path, err}
		}
	}
	return src, nil
}

// loadData reads a data set and takes its subset.
func loadData(path, format string, subset int, seed uint64) (*data.Dataset, error) {
	ds, err := data.Load(path, format)
	if err != nil {
		return nil, dataError(path, err)
	}
	if ds, err = ds.Sample(subset, seed); err != nil {
		return nil, &SettingError{"subset", fmt.Sprintf("%d of %s", subset, path), err}
	}
	return ds, nil
}

// openData opens a data file and takes its subset (data.Open, then
// Sample): when the file is read on demand (data.Source.Streamed) and the
// subset holds more samples than one pass of batch, it returns the Source,
// so that the host holds one batch of it; else the samples loaded into
// memory (small sets, small subsets of large files, CSV, built-in data),
// reading the file once.
func openData(path, format string, subset int, seed uint64, batch int) (*data.Source, *data.Dataset, error) {
	src, err := data.Open(path, format)
	if err != nil {
		return nil, nil, dataError(path, err)
	}
	sub, err := src.Sample(subset, seed)
	if err != nil {
		src.Close()
		return nil, nil, &SettingError{"subset", fmt.Sprintf("%d of %s", subset, path), err}
	}
	if sub.Streamed() && sub.N > max(batch, 1) {
		return sub, nil, nil
	}
	defer src.Close()
	ds, err := sub.Load()
	if err != nil {
		return nil, nil, &SettingError{"data", path, err}
	}
	return nil, ds, nil
}

// problemBuilder is the device.Job of OpenProblem: it builds the engine of
// the float type device.Run chose.
type problemBuilder struct {
	s                 ProblemSettings
	spec              models.Spec
	src               *data.Source
	dataPath, weights string
	weightsFrom       string
	modelFrom         *SettingError
	e                 engine
}

// Float32 implements device.Job.
func (b *problemBuilder) Float32(be kernels.Backend[float32]) (err error) {
	b.e, err = buildProblem(be, b)
	return err
}

// Float64 implements device.Job.
func (b *problemBuilder) Float64(be kernels.Backend[float64]) (err error) {
	b.e, err = buildProblem(be, b)
	return err
}

// buildProblem checks memory, reads the weights, lowers the network and
// uploads the data on be.
func buildProblem[T kernels.Float](be kernels.Backend[T], b *problemBuilder) (engine, error) {
	spec, n := b.spec, b.src.N
	// A pass never holds more samples than there are: a larger batch
	// gives the same results, and the plan's scratch is sized by it.
	batch := min(b.s.Batch, n)
	// Streamed data hold one batch of samples on the host and backend, so
	// that only a smaller batch can make them fit.
	held := n
	if b.src.Streamed() {
		held = batch
	}
	u := models.Usage{Vectors: 4, HostVectors: 1, Samples: held, Rows: batch}
	if _, culprit, err := models.CheckMemoryCulprit(be, spec, u); err != nil {
		switch {
		case culprit == models.CulpritModel:
			return nil, &SettingError{b.modelFrom.Setting, b.modelFrom.Value, err}
		case culprit == models.CulpritRows || b.src.Streamed():
			return nil, &SettingError{"batch", fmt.Sprint(b.s.Batch), err}
		}
		return nil, &SettingError{"data", fmt.Sprintf("%s (%d samples)", b.dataPath, n), err}
	}
	var params []float64
	var err error
	if b.s.WeightsFile != nil { // opened by the caller: read once
		params, err = b.s.WeightsFile.Load(spec)
	} else {
		params, err = models.LoadWeights(b.weights, spec)
	}
	if err != nil {
		from := b.weights
		if b.weightsFrom == "run" {
			from = b.s.RunDir
		}
		return nil, &SettingError{b.weightsFrom, from, err}
	}
	p, err := models.Build(be, spec, models.Settings{Batch: batch})
	if err != nil {
		return nil, err
	}
	if err := p.SetParams(params); err != nil {
		return nil, err
	}
	d, err := UploadSource(p, b.src, b.dataPath)
	if err != nil {
		return nil, err
	}
	return &problem[T]{p: p, d: d}, nil
}

// problem is the engine of float type T.
type problem[T kernels.Float] struct {
	p *models.Plan[T]
	d *models.Data
}

func (e *problem[T]) numParams() int { return e.p.NumParams() }

func (e *problem[T]) fits(u models.Usage) error {
	_, err := models.CheckMemory(e.p.Backend(), e.p.Spec(), u)
	return err
}

func (e *problem[T]) spectrum(ctx context.Context, s SpectrumSettings) (*SpectrumReport, error) {
	return Spectrum(ctx, e.p, e.d, s)
}

func (e *problem[T]) directions(ctx context.Context, s SpectrumSettings) ([]Direction, *SpectrumReport, error) {
	return StandardDirections(ctx, e.p, e.d, s)
}

func (e *problem[T]) taylor(ctx context.Context, dirs []Direction, s TaylorSettings) (*TaylorReport, error) {
	return Taylor(ctx, e.p, e.d, dirs, s)
}

func (e *problem[T]) saddle(ctx context.Context, s SaddleSettings) (*SaddleReport, error) {
	return SaddleEscape(ctx, e.p, e.d, s)
}

// Close releases the data files a problem reads on demand.
func (p *Problem) Close() error { return p.src.Close() }

// Streamed reports whether the data are read from their file a batch at
// a time (data.Source), rather than held in memory.
func (p *Problem) Streamed() bool { return p.src.Streamed() }

// Spec returns the network's Spec (its DType the model's or run's, which
// may differ from DType's when a float type was asked for).
func (p *Problem) Spec() models.Spec { return p.spec }

// DType returns the float type the problem computes in.
func (p *Problem) DType() kernels.DType { return p.dtype }

// NumParams returns the number of parameters.
func (p *Problem) NumParams() int { return p.e.numParams() }

// Samples returns the number of samples of the data.
func (p *Problem) Samples() int { return p.src.N }

// CheckMemory reports whether u, beyond what the problem holds, fits the
// backend's memory (models.CheckMemory): e.g. a Krylov basis.
func (p *Problem) CheckMemory(u models.Usage) error { return p.e.fits(u) }

// Spectrum runs Spectrum on the problem.
func (p *Problem) Spectrum(ctx context.Context, s SpectrumSettings) (*SpectrumReport, error) {
	return p.e.spectrum(ctx, s)
}

// StandardDirections runs StandardDirections on the problem.
func (p *Problem) StandardDirections(ctx context.Context, s SpectrumSettings) ([]Direction, *SpectrumReport, error) {
	return p.e.directions(ctx, s)
}

// Taylor runs Taylor on the problem along dirs.
func (p *Problem) Taylor(ctx context.Context, dirs []Direction, s TaylorSettings) (*TaylorReport, error) {
	return p.e.taylor(ctx, dirs, s)
}

// SaddleEscape runs SaddleEscape on the problem.
func (p *Problem) SaddleEscape(ctx context.Context, s SaddleSettings) (*SaddleReport, error) {
	return p.e.saddle(ctx, s)
}
