package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// File names inside a run directory.
const (
	ConfigFile     = "config.json"
	LogFile        = "log.jsonl"
	CheckpointFile = "checkpoint.json"
	SummaryFile    = "summary.json"
	WeightsFile    = "weights.npz"
	// LockFile is locked (flock) by the run's one writer, a new or resumed
	// Train, for as long as it runs; it holds the writer's process id, host
	// and start time, which a refused second writer reports.
	LockFile = "train.lock"
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
}

// Summary is written to RUN_DIR/summary.json when a run ends.
type Summary struct {
	// Steps is the run's length in optimizer steps; StepsDone is the last
	// step whose loss was computed (Steps when the run completed, less when
	// it diverged, failed or was interrupted).
	Steps     int     `json:"steps"`
	StepsDone int     `json:"steps_done"`
	FinalLoss float64 `json:"final_loss"`
	// The final_train_* and final_test_* values are those of the last
	// logged evaluation whose training loss is finite, at FinalEvalStep
	// (absent when there is none); in a run that diverged that is earlier
	// than StepsDone.
	FinalTrainLoss *float64 `json:"final_train_loss,omitempty"`
	FinalTrainAcc  *float64 `json:"final_train_acc,omitempty"`
	FinalTestLoss  *float64 `json:"final_test_loss,omitempty"`
	FinalTestAcc   *float64 `json:"final_test_acc,omitempty"`
	FinalEvalStep  *int     `json:"final_eval_step,omitempty"`
	// FinalSharpness and FinalEtaLambda are those of the last logged probe
	// whose sharpness is finite, at FinalProbeStep (absent when there is
	// none).
	FinalSharpness *float64 `json:"final_sharpness,omitempty"`
	FinalProbeStep *int     `json:"final_probe_step,omitempty"`
	MaxSharpness   *float64 `json:"max_sharpness,omitempty"`
	// FinalEtaLambda is lr * sharpness at the last probe (2 is the edge
	// for GD).
	FinalEtaLambda *float64 `json:"final_eta_lambda,omitempty"`
	// StepsAboveBound counts the steps, in units of probe intervals, whose
	// probe found the sharpness above the optimizer's stability bound.
	StepsAboveBound int `json:"steps_above_bound"`
	Probes          int `json:"probes"`
	// UnconvergedProbes counts the probes whose sharpness estimate did
	// not converge (lambda_max_converged false in the log); they are left
	// out of FinalSharpness, MaxSharpness, FinalEtaLambda and
	// StepsAboveBound, which describe the converged probes only.
	UnconvergedProbes int     `json:"unconverged_probes"`
	Diverged          bool    `json:"diverged"`
	Error             string  `json:"error,omitempty"`
	Seconds           float64 `json:"seconds"`
}

// checkpointMeta is RUN_DIR/checkpoint.json; it names the NPZ holding the
// parameters, optimizer state and the power-iteration warm starts.
type checkpointMeta struct {
	Step     int    `json:"step"` // the next step to run
	OptSteps int    `json:"opt_steps"`
	File     string `json:"file"`
	// Model is the model the parameters belong to (absent in checkpoints
	// of early versions), so that a config.json edited since is caught.
	Model *models.Spec `json:"model,omitempty"`
	// Config is the run configuration the checkpoint was trained with
	// (absent in checkpoints of early versions): a resume compares
	// config.json with it field by field (configChanges).
	Config *TrainConfig `json:"config,omitempty"`
	// Backend is the name of the backend that trained up to the
	// checkpoint (its BLAS and thread count on the CPU): a resume on
	// another says that its records may differ in the last digits.
	Backend string `json:"backend,omitempty"`
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
	grad, prec kernels.Buffer
	lastCkpt   time.Time // when the last checkpoint was written (or the loop began)
}

// minCheckpointInterval spaces the default checkpoints (CheckpointEvery 0,
// at probes): writing the parameters and optimizer state of a large model
// every few steps would cost as much as training it. A kill loses at most
// this much work; an interrupt (SIGINT, SIGTERM, a cancelled context) loses
// none, since the loop checkpoints before it returns.
const minCheckpointInterval = time.Minute

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
		saved, err := LoadTrainConfig(filepath.Join(dir, ConfigFile))
		if err != nil {
			return nil, fmt.Errorf("resume %s: %w", dir, err)
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
		if err := models.WriteAtomic(filepath.Join(dir, ConfigFile), func(f *os.File) error { _, err := f.Write(append(b, '\n')); return err }); err != nil {
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

// lockRun takes the writer lock of run directory dir (LockFile) and writes
// this process's id, host and start time in it; when another writer holds
// it, the error names that writer.
func lockRun(dir string, start time.Time) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, unlock, ok, err := TryLock(path)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if !ok {
		who := "another process"
		if b, err := os.ReadFile(path); err == nil {
			if s := strings.TrimSpace(string(b)); s != "" && len(s) < 300 && strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) < 0 {
				who = s
			}
		}
		return nil, fmt.Errorf("run %s is being written by %s (it holds %s): a run has one writer; wait for it to end or stop it", dir, who, path)
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on host %q since %s", os.Getpid(), host, start.UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(info+"\n"), 0) // a description only: the lock is what counts
	}
	return unlock, nil
}

// staleTemp matches the temporary files of the run's own files that a
// writer killed mid-write leaves (models.WriteAtomic's ".<name>.tmp<N>",
// and log.csv.tmp of earlier versions); staleDensityTemp those in density/.
var (
	staleTemp        = regexp.MustCompile(`^(\.(config\.json|log\.jsonl|log\.csv|checkpoint\.json|summary\.json|weights\.npz|ckpt-[0-9]+\.npz)\.tmp[0-9]+|log\.csv\.tmp)$`)
	staleDensityTemp = regexp.MustCompile(`^\.step_[0-9]+\.json\.tmp[0-9]+$`)
)

// removeStaleTemps removes the temporary files left in run directory dir by
// killed writers; the caller holds the run's lock, so no live writer owns
// them. Other files are left alone.
func removeStaleTemps(dir string) error {
	for _, d := range []struct {
		sub string
		re  *regexp.Regexp
	}{{"", staleTemp}, {"density", staleDensityTemp}} {
		ents, err := os.ReadDir(filepath.Join(dir, d.sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		for _, e := range ents {
			if e.Type().IsRegular() && d.re.MatchString(e.Name()) {
				if err := os.Remove(filepath.Join(dir, d.sub, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("removing a temporary file left by a killed run: %w", err)
				}
			}
		}
	}
	return nil
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
		sub, err := train.Sample(cfg.ProbeSet, cfg.Seed+2)
		if err != nil {
			return nil, fmt.Errorf("probe_set %d of the training set: %w", cfg.ProbeSet, err)
		}
		if sub != train {
			if t.probeData, err = Upload(p, sub, cfg.Data); err != nil {
				return nil, err
			}
		}
	}
	n := p.NumParams()
	t.eig, t.grad = be.Alloc(n), be.Alloc(n)
	if cfg.Optimizer.Kind == "adam" {
		t.eigP, t.prec = be.Alloc(n), be.Alloc(n)
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

func (sum *Summary) add(r *Record) {
	sum.FinalLoss = r.Loss
	if r.TrainLoss != nil && isFinite(*r.TrainLoss) {
		step := r.Step
		sum.FinalTrainLoss, sum.FinalTrainAcc = r.TrainLoss, r.TrainAcc
		sum.FinalTestLoss, sum.FinalTestAcc = r.TestLoss, r.TestAcc
		sum.FinalEvalStep = &step
	}
	if !r.Probed() {
		return
	}
	sum.Probes++
	sharp, ok := r.Sharpness()
	if !ok {
		// An unconverged estimate is no sharpness: counted, not used.
		sum.UnconvergedProbes++
		return
	}
	if !isFinite(sharp) {
		return
	}
	step := r.Step
	sum.FinalSharpness, sum.FinalProbeStep = &sharp, &step
	if sum.MaxSharpness == nil || sharp > *sum.MaxSharpness {
		m := sharp
		sum.MaxSharpness = &m
	}
	if r.LambdaMaxConverged == nil || *r.LambdaMaxConverged {
		el := r.LR * *r.LambdaMax
		sum.FinalEtaLambda = &el
	}
	if r.StabilityBound != nil && sharp > *r.StabilityBound {
		sum.StepsAboveBound++
	}
}

// probe measures the curvature at the current parameters into rec.
func (t *trainer[T]) probe(ctx context.Context, rec *Record, lr float64) error {
	cfg, p, be := t.cfg, t.p, t.be
	ev, err := p.Evaluate(ctx, t.trainData)
	if err != nil {
		return err
	}
	rec.TrainLoss = &ev.Loss
	if !math.IsNaN(ev.Accuracy) {
		rec.TrainAcc = &ev.Accuracy
	}
	if t.testData != nil {
		tv, err := p.Evaluate(ctx, t.testData)
		if err != nil {
			return err
		}
		rec.TestLoss = &tv.Loss
		if !math.IsNaN(tv.Accuracy) {
			rec.TestAcc = &tv.Accuracy
		}
	}
	if t.probeData != t.trainData {
		pv, err := p.Evaluate(ctx, t.probeData)
		if err != nil {
			return err
		}
		rec.ProbeLoss = &pv.Loss
	}
	op := p.CurvatureOperator(t.probeData, models.Hessian)
	defer op.Close()
	lmax, err := t.sharpness(ctx, op, t.eig, &t.hasEig)
	if err != nil {
		return err
	}
	rec.LambdaMax, rec.LambdaMaxResidual, rec.LambdaMaxIters, rec.LambdaMaxConverged = &lmax.value, &lmax.residual, &lmax.iters, &lmax.converged
	sharp := lmax
	if t.opt.Preconditioner(t.prec) {
		pre := &preconditioned[T]{op: op, d: t.prec, be: be, tmp: be.Alloc(p.NumParams())}
		pl, err := t.sharpness(ctx, pre, t.eigP, &t.hasEigP)
		be.Free(pre.tmp)
		if err != nil {
			return err
		}
		rec.PrecondLambdaMax, rec.PrecondLambdaMaxConverged = &pl.value, &pl.converged
		sharp = pl
	}
	// Adam's bound applies to the preconditioned sharpness, which does not
	// exist before its first step. An unconverged sharpness has no margin.
	if cfg.Optimizer.Kind != "adam" || rec.PrecondLambdaMax != nil {
		bound := cfg.Optimizer.StabilityBound(lr)
		rec.StabilityBound = &bound
		if sharp.converged {
			margin := bound - sharp.value
			rec.Margin = &margin
		}
	}
	if cfg.ProbeBottom || cfg.ProbeTopK > 0 {
		bk := 0
		if cfg.ProbeBottom {
			bk = 1
		}
		lz, err := probe.Lanczos[kernels.Buffer](ctx, op, be, probe.LanczosSettings{TopK: cfg.ProbeTopK, BottomK: bk, Tol: 1e-6, Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil && !errors.Is(err, probe.ErrNotConverged) {
			return fmt.Errorf("lanczos: %w", err)
		}
		if cfg.ProbeTopK > 0 {
			rec.TopK = lz.Top
		}
		if cfg.ProbeBottom && len(lz.Bottom) > 0 {
			rec.LambdaMin = &lz.Bottom[0]
		}
	}
	if cfg.ProbeTrace {
		tr, err := probe.Hutchinson[kernels.Buffer](ctx, op, be, probe.TraceSettings{Probes: cfg.TraceProbes, Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		rec.Trace, rec.TraceStdErr = &tr.Value, &tr.StdErr
	}
	if cfg.ProbeDensity {
		dens, err := probe.SLQ[kernels.Buffer](ctx, op, be, probe.SLQSettings{Seed: cfg.Seed + uint64(rec.Step)})
		if err != nil {
			return fmt.Errorf("density: %w", err)
		}
		dr := densityReport(dens, SpectrumSettings{SLQSteps: 80})
		name := filepath.Join("density", fmt.Sprintf("step_%06d.json", rec.Step))
		if err := os.MkdirAll(filepath.Join(t.dir, "density"), 0o755); err != nil {
			return err
		}
		b, err := MarshalJSON(dr, "")
		if err != nil {
			return fmt.Errorf("density at step %d: %w", rec.Step, err)
		}
		if err := models.WriteAtomic(filepath.Join(t.dir, name), func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
			return err
		}
		rec.DensityFile = name
		rec.FractionPositive, rec.NegativeMass = &dr.FractionPositive, &dr.NegativeMass
	}
	return nil
}

// sharpEstimate is one sharpness probe: the estimate of λmax, its residual
// ‖Hv - λv‖, the operator applications it took, and whether it converged.
type sharpEstimate struct {
	value, residual float64
	iters           int
	converged       bool
}

// sharpness estimates the largest algebraic eigenvalue of op
// (probe.Sharpness: power iteration, shifted when the dominant eigenvalue
// is negative, Lanczos when it does not converge), warm started from vec
// (when *has), which it updates. An estimate that did not converge is
// returned with converged false, for the log to flag.
func (t *trainer[T]) sharpness(ctx context.Context, op probe.Operator[kernels.Buffer], vec kernels.Buffer, has *bool) (sharpEstimate, error) {
	s := probe.SharpnessSettings[kernels.Buffer]{Tol: t.cfg.PowerTol, MaxIter: t.cfg.PowerMaxIter, Seed: t.cfg.Seed + 3}
	if s.Tol == 0 {
		s.Tol = 1e-5
	}
	if s.MaxIter > 0 {
		// A cap on the work of a probe caps the Lanczos fallback too.
		s.LanczosSteps = min(80, s.MaxIter)
	}
	if *has {
		s.Start = &vec
	}
	r, err := probe.Sharpness[kernels.Buffer](ctx, op, t.be, s)
	if err != nil && !errors.Is(err, probe.ErrNotConverged) {
		if r.Method != "" {
			t.be.Free(r.Vector)
		}
		return sharpEstimate{}, fmt.Errorf("sharpness (%s): %w", r.Method, err)
	}
	t.be.Copy(vec, r.Vector)
	t.be.Free(r.Vector)
	*has = true
	return sharpEstimate{value: r.Value, residual: r.Residual, iters: r.Stats.Iterations, converged: err == nil}, nil
}

// preconditioned applies P^-1/2 H P^-1/2 for a diagonal P^-1/2 = d; its
// eigenvalues are those of P^-1 H.
type preconditioned[T kernels.Float] struct {
	op  *models.Operator[T]
	d   kernels.Buffer
	be  kernels.Backend[T]
	tmp kernels.Buffer
}

func (o *preconditioned[T]) Dim() int { return o.op.Dim() }

func (o *preconditioned[T]) Apply(ctx context.Context, dst, v kernels.Buffer) error {
	o.be.Mul(o.tmp, o.d, v)
	if err := o.op.Apply(ctx, dst, o.tmp); err != nil {
		return err
	}
	o.be.Mul(dst, o.d, dst)
	return nil
}

// checkpoint writes the state before step next: parameters, optimizer
// state and warm starts to ckpt-<next>.npz, then checkpoint.json naming it
// (each atomically), then removes the previous NPZ.
func (t *trainer[T]) checkpoint(next int) error {
	arrays := map[string][]float64{"params": t.p.ParamsHost()}
	for k, b := range t.opt.State() {
		arrays["opt_"+k] = models.Download(t.be, b)
	}
	if t.hasEig {
		arrays["eig"] = models.Download(t.be, t.eig)
	}
	if t.hasEigP {
		arrays["eig_precond"] = models.Download(t.be, t.eigP)
	}
	name := fmt.Sprintf("ckpt-%07d.npz", next)
	if err := models.SaveArrays(filepath.Join(t.dir, name), arrays); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	old, _ := readMeta(t.dir)
	b, err := json.Marshal(checkpointMeta{Step: next, OptSteps: t.opt.Steps, File: name, Model: &t.cfg.Model, Config: t.cfg, Backend: t.be.Name()})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := models.WriteAtomic(filepath.Join(t.dir, CheckpointFile), func(f *os.File) error { _, err := f.Write(b); return err }); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if old != nil && old.File != name {
		os.Remove(filepath.Join(t.dir, old.File))
	}
	t.lastCkpt = time.Now()
	return nil
}

func readMeta(dir string) (*checkpointMeta, error) {
	b, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, CheckpointFile)
	var m checkpointMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The file is opened, and later replaced and removed, inside the run
	// directory only.
	if m.File == "" || filepath.Base(m.File) != m.File || !strings.HasPrefix(m.File, "ckpt-") || !strings.HasSuffix(m.File, ".npz") {
		return nil, fmt.Errorf("%s: file %q: want the name of a ckpt-<step>.npz in the run directory", path, m.File)
	}
	if m.Step < 0 || m.OptSteps < 0 {
		return nil, fmt.Errorf("%s: step %d, opt_steps %d: must be >= 0", path, m.Step, m.OptSteps)
	}
	return &m, nil
}

// restore loads the last checkpoint (none: start from step 0) and cuts the
// log back to the records before it, saying on notes which records before
// it are missing (lost before this resume). Nothing is changed unless the
// checkpoint loads. It returns the step to run next.
func (t *trainer[T]) restore(notes io.Writer) (int, error) {
	logPath := filepath.Join(t.dir, LogFile)
	next := 0
	meta, err := readMeta(t.dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, err
	default:
		if meta.Step > t.cfg.Steps {
			return 0, fmt.Errorf("resume: %s is at step %d, past the run's %d steps (was config.json's steps lowered? raise it back to at least %d)", CheckpointFile, meta.Step, t.cfg.Steps, meta.Step)
		}
		if meta.Model != nil {
			a, _ := json.Marshal(meta.Model)
			b, _ := json.Marshal(t.cfg.Model)
			if !bytes.Equal(a, b) {
				return 0, fmt.Errorf("resume: config.json's model %s differs from the checkpoint's %s: a run resumes only with the model it was trained with", b, a)
			}
		}
		arrays, err := models.LoadArrays(filepath.Join(t.dir, meta.File))
		if err != nil {
			return 0, fmt.Errorf("resume: %w", err)
		}
		n := t.p.NumParams()
		set := func(name string, dst kernels.Buffer) (bool, error) {
			v, ok := arrays[name]
			if !ok {
				return false, nil
			}
			if len(v) != n {
				return false, fmt.Errorf("resume: checkpoint %s array %s has %d values, want %d", meta.File, name, len(v), n)
			}
			t.be.Upload(dst, toT[T](v))
			return true, nil
		}
		if ok, err := set("params", t.p.Params()); err != nil {
			return 0, err
		} else if !ok {
			return 0, fmt.Errorf("resume: checkpoint %s has no params array", meta.File)
		}
		for k, b := range t.opt.State() {
			if ok, err := set("opt_"+k, b); err != nil {
				return 0, err
			} else if !ok {
				return 0, fmt.Errorf("resume: checkpoint %s lacks the optimizer state %s", meta.File, k)
			}
		}
		t.opt.Steps = meta.OptSteps
		if t.hasEig, err = set("eig", t.eig); err != nil {
			return 0, err
		}
		if t.eigP != nil {
			if t.hasEigP, err = set("eig_precond", t.eigP); err != nil {
				return 0, err
			}
		}
		next = meta.Step
		if notes != nil && meta.Backend != "" && meta.Backend != t.be.Name() {
			fmt.Fprintf(notes, "resume: the checkpoint at step %d was written on %s and the run goes on on %s: from there its records may differ in the last digits from an uninterrupted run's (a byte-identical log needs the same device, BLAS and OPENBLAS_NUM_THREADS)\n",
				next, meta.Backend, t.be.Name())
		}
	}
	recs, err := ReadLog(logPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("resume: %w", err)
	}
	var keep []Record
	have := map[int]bool{}
	for _, r := range recs {
		if r.Step < next {
			keep = append(keep, r)
			have[r.Step] = true
		}
	}
	if notes != nil {
		var missing []int
		for st := 0; st < next; st++ {
			if t.logs(st) && !have[st] {
				missing = append(missing, st)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(notes, "resume: %s lacks %d of the records before the checkpoint at step %d (steps %d to %d among them): they were lost before this resume and stay missing; summary.json covers the records present\n",
				LogFile, len(missing), next, missing[0], missing[len(missing)-1])
		}
	}
	err = models.WriteAtomic(logPath, func(f *os.File) error {
		for i := range keep {
			b, err := json.Marshal(&keep[i])
			if err != nil {
				return err
			}
			if _, err := f.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
	return next, err
}

// logs reports whether step s is written to the log: probed steps (every
// ProbeEvery, and the last) and every LogEvery-th.
func (t *trainer[T]) logs(s int) bool {
	return s%t.cfg.probeEvery() == 0 || s == t.cfg.Steps || s%max(t.cfg.LogEvery, 1) == 0
}

func (t *trainer[T]) finish(sum *Summary, plot bool) error {
	if err := models.SaveWeights(filepath.Join(t.dir, WeightsFile), t.cfg.Model, t.p.ParamsHost()); err != nil {
		return err
	}
	b, err := MarshalJSON(sum, "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := models.WriteAtomic(filepath.Join(t.dir, SummaryFile), func(f *os.File) error { _, err := f.Write(append(b, '\n')); return err }); err != nil {
		return err
	}
	if _, err := ExportCSV(t.dir); err != nil {
		return err
	}
	if plot {
		if _, err := PlotRun(t.dir); err != nil {
			return err
		}
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func toT[T kernels.Float](v []float64) []T {
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}
