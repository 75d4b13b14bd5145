package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// StepReporter receives every record as it is logged (for progress bars).
type StepReporter interface {
	Step(rec *Record, steps int)
}

// TrainOptions are the parts of a run that do not change its results.
type TrainOptions struct {
	// Resume continues the run in the directory from its last checkpoint;
	// the directory's config.json is used, and log records after the
	// checkpoint are dropped before training goes on, so nothing is
	// logged twice.
	Resume   bool
	Reporter StepReporter
	// Plot draws the run's figures when it ends.
	Plot bool
	// Notes, if not nil, receives one line per thing a data loader decided
	// that the user should know (data.Dataset.Notes).
	Notes io.Writer
	// saved is the run's config.json as TrainRun read it on resume, so
	// that Train does not read it again.
	saved *TrainConfig
}

// ErrDiverged reports a run whose loss, gradient or curvature probe became
// NaN or infinite.
var ErrDiverged = errors.New("training diverged")

type trainer[T kernels.Float] struct {
	be         kernels.Backend[T]
	cfg        *TrainConfig
	dir        string
	p          *models.Plan[T]
	opt        *models.Optimizer[T]
	train      *data.Dataset
	trainData  *models.Data // the full training set (GD, evaluations)
	testData   *models.Data
	probeData  *models.Data
	epochData  *models.Data // the shuffled training set of the current epoch (SGD)
	epoch      int
	eig, eigP  kernels.Buffer // power-iteration warm starts (H, and P^-1/2 H P^-1/2)
	hasEig     bool
	hasEigP    bool
	eigL       kernels.Buffer // the layers' warm starts, each at its layer's offset (probe_per_layer)
	hasEigL    bool
	grad, prec kernels.Buffer
	lastCkpt   time.Time // when the last checkpoint was written (or the loop began)
}

// Train runs (or, with opts.Resume, continues) the training run of cfg in
// dir on be: the optimizer's steps, a curvature probe every cfg.ProbeEvery
// steps (and on the first and last), the log, checkpoints, a summary and,
// with opts.Plot, the figures. When the loss, the gradient or a probe's
// products become NaN or infinite it writes the summary (diverged) and
// returns ErrDiverged.
//
// A run directory has one writer: Train holds LockFile from start to
// summary and fails at once, naming the holder, when another does. Under
// the lock it removes temporary files that killed writers left. A resume
// refuses a config.json edited since the last checkpoint in any field but
// steps, epochs and checkpoint_every, changing nothing.
func Train[T kernels.Float](ctx context.Context, be kernels.Backend[T], dir string, cfg *TrainConfig, opts TrainOptions) (*Summary, error) {
	start := time.Now()
	if opts.Resume {
		if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
			return nil, fmt.Errorf("resume %s: %w", dir, err)
		}
	} else {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	// One writer per run directory, from here to the summary.
	unlock, err := lockRun(dir, start)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := removeStaleTemps(dir); err != nil {
		return nil, err
	}
	if opts.Resume {
		saved := opts.saved
		if saved == nil {
			var err error
			if saved, err = LoadTrainConfig(filepath.Join(dir, ConfigFile)); err != nil {
				return nil, fmt.Errorf("resume %s: %w", dir, err)
			}
		}
		// A config.json edited since the last checkpoint would continue
		// the run with other settings and mix records: refused. (Without a
		// checkpoint the resume starts from step 0 with an empty log.)
		if meta, err := readMeta(dir); err == nil && meta.Config != nil {
			if ch := configChanges(meta.Config, saved); len(ch) > 0 {
				return nil, fmt.Errorf("resume %s: %s differs from the checkpoint's configuration, the one the run was trained with, in %s: a resumed run keeps every setting that changes its records (only steps, epochs and checkpoint_every may change); restore %s or start a new run",
					dir, ConfigFile, strings.Join(ch, ", "), ConfigFile)
			}
		}
		cfg = saved
	} else {
		if _, err := os.Stat(filepath.Join(dir, LogFile)); err == nil {
			return nil, fmt.Errorf("%s already holds a run (%s); pass --resume to continue it or choose another --out", dir, LogFile)
		}
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, ConfigFile), append(b, '\n')); err != nil {
			return nil, err
		}
	}
	t, err := newTrainer(be, dir, cfg)
	if err != nil {
		if opts.Resume && errors.Is(err, fs.ErrNotExist) {
			// Paths in config.json are as given when the run began: a
			// relative one is resolved from the current directory.
			return nil, fmt.Errorf("%w (data paths in %s are resolved from the current directory: resume from where the run began)", err, filepath.Join(dir, ConfigFile))
		}
		return nil, err
	}
	if cfg.Steps == 0 {
		c := *cfg // the saved config keeps epochs; this run counts steps
		c.Steps = cfg.Epochs * t.stepsPerEpoch()
		cfg, t.cfg = &c, &c
	}
	if opts.Notes != nil {
		for _, n := range t.train.Notes {
			fmt.Fprintf(opts.Notes, "data: %s\n", n)
		}
	}
	first := 0
	if opts.Resume {
		if first, err = t.restore(opts.Notes); err != nil {
			return nil, err
		}
	}
	log, err := OpenLog(filepath.Join(dir, LogFile))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	sum, runErr := t.loop(ctx, log, first, opts.Reporter)
	sum.Seconds = time.Since(start).Seconds()
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	if err := t.finish(sum, opts.Plot); err != nil && runErr == nil {
		runErr = err
	}
	return sum, runErr
}

func newTrainer[T kernels.Float](be kernels.Backend[T], dir string, cfg *TrainConfig) (*trainer[T], error) {
	// The model (and the data a generator will make) before loading or
	// generating anything, then everything, before allocating the Plan.
	if err := checkMemory(be, cfg, cfg.generatedSamples(), 0); err != nil {
		return nil, err
	}
	train, test, err := LoadTrainData(cfg)
	if err != nil {
		return nil, err
	}
	nTest := 0
	if test != nil {
		nTest = test.N
	}
	if err := checkMemory(be, cfg, train.N, nTest); err != nil {
		return nil, err
	}
	p, err := models.Build(be, cfg.Model, models.Settings{Batch: cfg.PlanBatch})
	if err != nil {
		return nil, err
	}
	p.Init(cfg.Seed)
	opt, err := models.NewOptimizer(be, p.NumParams(), cfg.Optimizer)
	if err != nil {
		return nil, err
	}
	t := &trainer[T]{be: be, cfg: cfg, dir: dir, p: p, opt: opt, train: train, epoch: -1}
	if t.trainData, err = Upload(p, train, cfg.Data); err != nil {
		return nil, err
	}
	if test != nil {
		if t.testData, err = Upload(p, test, cfg.Test); err != nil {
			return nil, err
		}
	}
	t.probeData = t.trainData
	if cfg.ProbeSet > 0 {
		// The probe set's samples are read from the training set a batch
		// at a time (Dataset.Sample's samples, in its order): no copy.
		sub, err := data.FromDataset(train).Sample(cfg.ProbeSet, cfg.Seed+2)
		if err != nil {
			return nil, fmt.Errorf("probe_set %d of the training set: %w", cfg.ProbeSet, err)
		}
		if sub.N != train.N {
			if t.probeData, err = UploadSource(p, sub, cfg.Data); err != nil {
				return nil, err
			}
		}
	}
	n := p.NumParams()
	t.eig, t.grad = be.Alloc(n), be.Alloc(n)
	if cfg.Optimizer.Kind == "adam" {
		t.eigP, t.prec = be.Alloc(n), be.Alloc(n)
	}
	if cfg.ProbePerLayer {
		t.eigL = be.Alloc(n)
	}
	return t, nil
}

func (t *trainer[T]) fullBatch() bool { return t.cfg.Batch == 0 || t.cfg.Batch >= t.train.N }

func (t *trainer[T]) stepsPerEpoch() int {
	if t.fullBatch() {
		return 1
	}
	return (t.train.N + t.cfg.Batch - 1) / t.cfg.Batch
}

// batch returns the data of step s: the full training set, or mini-batch
// s mod stepsPerEpoch of epoch s / stepsPerEpoch, whose order is a
// permutation seeded by (Seed, epoch) — so a resumed run sees the same batches.
func (t *trainer[T]) batch(s int) (*models.Data, error) {
	if t.fullBatch() {
		return t.trainData, nil
	}
	spe := t.stepsPerEpoch()
	e, i := s/spe, s%spe
	if e != t.epoch {
		if t.epochData != nil {
			t.p.FreeData(t.epochData)
		}
		shuffled := t.train.Subset(t.train.EpochPerm(t.cfg.Seed, e))
		d, err := Upload(t.p, shuffled, t.cfg.Data)
		if err != nil {
			return nil, err
		}
		t.epochData, t.epoch = d, e
	}
	start := i * t.cfg.Batch
	return t.p.Slice(t.epochData, start, min(t.cfg.Batch, t.train.N-start)), nil
}

func (t *trainer[T]) loop(ctx context.Context, log *LogWriter, first int, rep StepReporter) (*Summary, error) {
	cfg := t.cfg
	sum := &Summary{Steps: cfg.Steps}
	if recs, err := ReadLog(filepath.Join(t.dir, LogFile)); err == nil {
		for i := range recs {
			sum.add(&recs[i])
			sum.StepsDone = recs[i].Step
		}
	}
	every := cfg.probeEvery()
	t.lastCkpt = time.Now()
	for s := first; s <= cfg.Steps; s++ {
		if err := ctx.Err(); err != nil {
			if s > first {
				// The state before step s is whole: keep it, so the resume
				// repeats nothing.
				if cerr := t.checkpoint(s); cerr != nil {
					return sum, fmt.Errorf("%w (and the checkpoint on the way out failed: %v)", err, cerr)
				}
			}
			return sum, err
		}
		lr := cfg.Optimizer.Schedule.LR(cfg.Optimizer.LR, s)
		if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
			return sum, fmt.Errorf("step %d: the learning-rate schedule gives lr %v", s, lr)
		}
		d, err := t.batch(s)
		if err != nil {
			return sum, err
		}
		ev, err := t.p.Gradient(ctx, t.grad, d)
		if err != nil {
			if errors.Is(err, models.ErrNonFinite) {
				sum.Diverged = true
				return sum, fmt.Errorf("%w at step %d: %v", ErrDiverged, s, err)
			}
			return sum, err
		}
		sum.StepsDone = s
		gn := ev.GradNorm
		rec := &Record{Step: s, Epoch: float64(s) / float64(t.stepsPerEpoch()), Loss: ev.Loss, LR: lr, GradNorm: &gn}
		probed := s%every == 0 || s == cfg.Steps
		if probed {
			if err := t.probe(ctx, rec, lr); err != nil {
				if errors.Is(err, models.ErrNonFinite) {
					sum.Diverged = true
					return sum, fmt.Errorf("%w: probe at step %d: %v", ErrDiverged, s, err)
				}
				return sum, fmt.Errorf("probe at step %d: %w", s, err)
			}
		}
		if t.logs(s) {
			if err := log.Write(rec); err != nil {
				return sum, err
			}
			sum.add(rec)
			if rep != nil {
				rep.Step(rec, cfg.Steps)
			}
		}
		if s == cfg.Steps {
			break
		}
		t.opt.Step(t.p.Params(), t.grad, lr)
		due := cfg.CheckpointEvery > 0 && (s+1)%cfg.CheckpointEvery == 0 ||
			cfg.CheckpointEvery == 0 && (s+1)%every == 0 && time.Since(t.lastCkpt) >= minCheckpointInterval
		if due {
			if err := t.checkpoint(s + 1); err != nil {
				return sum, err
			}
		}
	}
	return sum, nil
}

// logs reports whether step s is written to the log: probed steps (every
// ProbeEvery, and the last) and every LogEvery-th.
func (t *trainer[T]) logs(s int) bool {
	return s%t.cfg.probeEvery() == 0 || s == t.cfg.Steps || s%max(t.cfg.LogEvery, 1) == 0
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
