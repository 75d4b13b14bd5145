package run

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// Checkpoints: the state before a step (parameters, optimizer state, warm
// starts) written atomically, and the resume that restores it.

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

// minCheckpointInterval spaces the default checkpoints (CheckpointEvery 0,
// at probes): writing the parameters and optimizer state of a large model
// every few steps would cost as much as training it. A kill loses at most
// this much work; an interrupt (SIGINT, SIGTERM, a cancelled context) loses
// none, since the loop checkpoints before it returns.
const minCheckpointInterval = time.Minute

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
	if t.hasEigL {
		arrays["eig_layers"] = models.Download(t.be, t.eigL)
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
	if err := atomicfile.WriteBytes(filepath.Join(t.dir, CheckpointFile), b); err != nil {
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
			models.Upload(t.be, dst, v)
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
		if t.eigL != nil {
			if t.hasEigL, err = set("eig_layers", t.eigL); err != nil {
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
	err = atomicfile.Write(logPath, func(f *os.File) error {
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
