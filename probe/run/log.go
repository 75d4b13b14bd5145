package run

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Record is one line of a training log (DESIGN.md: JSON Lines with at
// least step, loss and lr, and lambda_max on probed steps). Fields that were
// not measured at a step are omitted. Records hold no wall-clock times, so
// that runs with the same seed and inputs write the same log.
type Record struct {
	Step  int     `json:"step"`
	Epoch float64 `json:"epoch"`
	// Loss is the loss of the batch the step was taken on (the full
	// training set for full-batch GD), before the step.
	Loss     float64  `json:"loss"`
	LR       float64  `json:"lr"`
	GradNorm *float64 `json:"grad_norm,omitempty"`

	// Evaluations on probed steps.
	TrainLoss *float64 `json:"train_loss,omitempty"`
	TrainAcc  *float64 `json:"train_acc,omitempty"`
	TestLoss  *float64 `json:"test_loss,omitempty"`
	TestAcc   *float64 `json:"test_acc,omitempty"`

	// Curvature on probed steps, on the probe set.
	ProbeLoss *float64 `json:"probe_loss,omitempty"`
	// LambdaMax is the sharpness, the largest algebraic eigenvalue of the
	// Hessian on the probe set (probe.Sharpness: power iteration, shifted
	// when the dominant eigenvalue is negative, Lanczos when it does not
	// converge).
	LambdaMax *float64 `json:"lambda_max,omitempty"`
	// LambdaMaxResidual is ‖Hv - λv‖ of the estimate.
	LambdaMaxResidual *float64 `json:"lambda_max_residual,omitempty"`
	// LambdaMaxIters counts the operator applications of all stages.
	LambdaMaxIters *int `json:"lambda_max_iters,omitempty"`
	// LambdaMaxConverged is written on every probed step: false when no
	// stage met the tolerance (power_tol) within its iteration limit, and
	// LambdaMax is then only a number within LambdaMaxResidual of some
	// eigenvalue, not the sharpness: summaries and plots leave it out of
	// the sharpness, and the record has no Margin. Logs of versions before
	// the field was added lack it.
	LambdaMaxConverged *bool `json:"lambda_max_converged,omitempty"`
	// StabilityBound is the optimizer's stability threshold for the
	// sharpness it is compared with: 2/lr for GD and SGD, (2+2β)/lr for
	// heavy-ball momentum, (2+2β1)/((1-β1) lr) for Adam (compared with
	// PrecondLambdaMax); Margin is StabilityBound minus that sharpness.
	StabilityBound *float64 `json:"stability_bound,omitempty"`
	Margin         *float64 `json:"margin,omitempty"`
	// PrecondLambdaMax is λmax(P^-1 H) for Adam's preconditioner P.
	PrecondLambdaMax *float64 `json:"precond_lambda_max,omitempty"`
	// PrecondLambdaMaxConverged is LambdaMaxConverged for PrecondLambdaMax.
	PrecondLambdaMaxConverged *bool     `json:"precond_lambda_max_converged,omitempty"`
	LambdaMin                 *float64  `json:"lambda_min,omitempty"`
	TopK                      []float64 `json:"top_k,omitempty"`
	Trace                     *float64  `json:"trace,omitempty"`
	TraceStdErr               *float64  `json:"trace_stderr,omitempty"`
	// DensityFile names the file (in the run directory) holding the SLQ
	// density of this step, when densities are probed.
	DensityFile      string   `json:"density_file,omitempty"`
	FractionPositive *float64 `json:"fraction_positive,omitempty"`
	NegativeMass     *float64 `json:"negative_mass,omitempty"`
	// NearZero is the fraction of eigenvalues within ±ZeroTol (1e-3 of the
	// spectral radius); the *Err fields are the error bars of the three
	// fractions (FractionReport.Err: the bias bound plus three standard
	// errors, null for a single probe). The density file has the rest.
	NearZero            *float64 `json:"near_zero,omitempty"`
	ZeroTol             *float64 `json:"zero_tol,omitempty"`
	FractionPositiveErr *float64 `json:"fraction_positive_err,omitempty"`
	NegativeMassErr     *float64 `json:"negative_mass_err,omitempty"`
	NearZeroErr         *float64 `json:"near_zero_err,omitempty"`
	// LayerLambdaMax holds, with probe_per_layer, each layer's sharpness:
	// the largest algebraic eigenvalue of the layer's diagonal Hessian
	// block (W_l and b_l together), index l for layer l, estimated as
	// LambdaMax is; LayerLambdaMaxConverged and LayerLambdaMaxIters are
	// LambdaMaxConverged and LambdaMaxIters for each. In log.csv they are
	// the columns layer_lambda_max_0, layer_lambda_max_1, ....
	LayerLambdaMax          []float64 `json:"layer_lambda_max,omitempty"`
	LayerLambdaMaxConverged []bool    `json:"layer_lambda_max_converged,omitempty"`
	LayerLambdaMaxIters     []int     `json:"layer_lambda_max_iters,omitempty"`
}

// Probed reports whether the record carries a curvature probe.
func (r *Record) Probed() bool { return r.LambdaMax != nil }

// Sharpness returns the sharpness the optimizer's stability bound is
// compared with (PrecondLambdaMax when present, else LambdaMax) and
// whether it is a converged estimate: ok is false on a step without a
// probe and when the log flags the estimate as unconverged.
func (r *Record) Sharpness() (v float64, ok bool) {
	switch {
	case r.PrecondLambdaMax != nil:
		return *r.PrecondLambdaMax, r.PrecondLambdaMaxConverged == nil || *r.PrecondLambdaMaxConverged
	case r.LambdaMax != nil:
		return *r.LambdaMax, r.LambdaMaxConverged == nil || *r.LambdaMaxConverged
	}
	return 0, false
}

// LogWriter appends Records to a JSON Lines file, flushing each record to
// the operating system as it is written, so a killed run loses nothing it
// logged. It never leaves a torn line: each record is one write of the
// whole line, and a write that fails part-way (a full disk) is cut back to
// the records before it.
type LogWriter struct {
	f    logFile
	size int64 // the length of the whole records in the file
}

// logFile is what a LogWriter needs of its file (an *os.File; tests give
// one that fails part-way through a write).
type logFile interface {
	io.Writer
	Truncate(size int64) error
	Close() error
	Name() string
}

// OpenLog opens path for appending, creating it if needed.
func OpenLog(path string) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &LogWriter{f: f, size: st.Size()}, nil
}

// Write appends one record, whole or not at all.
func (w *LogWriter) Write(r *Record) error {
	b, err := MarshalJSON(r, "")
	if err != nil {
		return fmt.Errorf("log %s: step %d: %w", w.f.Name(), r.Step, err)
	}
	b = append(b, '\n')
	n, err := w.f.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				return fmt.Errorf("log %s: step %d: %w (and cutting back its partial line failed: %v; a resume mends it)", w.f.Name(), r.Step, err, terr)
			}
		}
		return fmt.Errorf("log %s: step %d not logged: %w", w.f.Name(), r.Step, err)
	}
	w.size += int64(n)
	return nil
}

// Close closes the file.
func (w *LogWriter) Close() error { return w.f.Close() }

// ReadLog reads a JSON Lines training log. A final line cut short by a
// kill is ignored; any other bad line is an error naming the line.
func ReadLog(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLog(f, path)
}

func readLog(r io.Reader, name string) ([]Record, error) {
	var recs []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, pending
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			pending = fmt.Errorf("log %s line %d: %w", name, line, err)
			continue
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("log %s: %w", name, err)
	}
	// pending set on the last line only: a torn final write; drop it.
	var se *json.SyntaxError
	if pending != nil && !errors.As(pending, &se) {
		return nil, pending
	}
	return recs, nil
}
