package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"github.com/curvprobe/curvprobe/models"
)

// The run directory: its file names, its one writer's lock, the
// temporary files killed writers leave, and the summary and final files
// written when a run ends. doc.go states the contract.

// File names inside a run directory.
const (
	ConfigFile     = "config.json"
	LogFile        = "log.jsonl"
	CheckpointFile = "checkpoint.json"
	SummaryFile    = "summary.json"
	WeightsFile    = "weights.npz"
	// SafetensorsFile holds the final weights in PyTorch's layout when the
	// run's WeightsFormat is "safetensors".
	SafetensorsFile = "weights.safetensors"
	// LockFile is locked (flock) by the run's one writer, a new or resumed
	// Train, for as long as it runs; it holds the writer's process id, host
	// and start time, which a refused second writer reports.
	LockFile = "train.lock"
)

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
// writer killed mid-write leaves (internal/atomicfile's ".<name>.tmp<N>",
// and log.csv.tmp of earlier versions); staleDensityTemp those in density/.
var (
	staleTemp        = regexp.MustCompile(`^(` + atomicfile.TempPattern(`config\.json|log\.jsonl|log\.csv|checkpoint\.json|summary\.json|weights\.npz|weights\.safetensors|ckpt-[0-9]+\.npz`) + `|log\.csv\.tmp)$`)
	staleDensityTemp = regexp.MustCompile(`^` + atomicfile.TempPattern(`step_[0-9]+\.json`) + `$`)
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

func (t *trainer[T]) finish(sum *Summary, plot bool) error {
	params := t.p.ParamsHost()
	if err := models.SaveWeights(filepath.Join(t.dir, WeightsFile), t.cfg.Model, params); err != nil {
		return err
	}
	if t.cfg.WeightsFormat == "safetensors" {
		if err := models.SaveSafetensors(filepath.Join(t.dir, SafetensorsFile), t.cfg.Model, params); err != nil {
			return err
		}
	}
	b, err := MarshalJSON(sum, "  ")
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(t.dir, SummaryFile), append(b, '\n')); err != nil {
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
