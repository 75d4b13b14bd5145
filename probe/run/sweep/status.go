package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/curvprobe/curvprobe/probe/run"
)

// State is where a run of a sweep stands, as `curvprobe sweep status` shows
// it: the run directory's Status, and whether a process holds its lock.
type State string

// The states of a run in a sweep's progress.
const (
	// StateDone: complete (StatusDone or StatusDiverged): never rerun.
	StateDone State = "done"
	// StateRunning: a process holds the run's lock (LockFile) and trains it.
	StateRunning State = "running"
	// StateFailed: the last attempt failed (StatusFailed); a rerun retries it.
	StateFailed State = "failed"
	// StateLeft: not started (StatusPending), or interrupted
	// (StatusIncomplete, resumed by a rerun), and no process holds it.
	StateLeft State = "left"
)

// RunProgress is one run's line of a sweep's progress.
type RunProgress struct {
	// ID is the run's id; Values its value of each of Progress.Axes.
	ID     string            `json:"id"`
	Values []json.RawMessage `json:"values"`
	// State is done, running, failed or left; Status the run directory's
	// status (pending, incomplete, done, diverged, failed: RunStatus).
	State  State  `json:"state"`
	Status Status `json:"status"`
	// Step is the last step in the run's log, absent when it has none;
	// Steps is the run's length.
	Step  *int `json:"step,omitempty"`
	Steps int  `json:"steps"`
	// Attempts is the number of attempts at the run (attempts.jsonl), Last
	// the latest of them.
	Attempts int      `json:"attempts"`
	Last     *Attempt `json:"last_attempt,omitempty"`
	// Error is a failed run's error (first line), or what could not be read.
	Error string `json:"error,omitempty"`
}

// Progress is a sweep directory's state: the counts of runs done, running,
// failed and left (which add up to Runs), the attempts, and a line per run
// in plan order. Its JSON form is the output of `curvprobe sweep status
// --json`.
type Progress struct {
	// Dir is the sweep directory; Name the sweep's name.
	Dir  string `json:"dir"`
	Name string `json:"name,omitempty"`
	// Axes are the sweep's varied paths.
	Axes []string `json:"axes"`
	// Counts of runs by State; Diverged is how many of the done ones
	// diverged.
	Runs     int `json:"runs"`
	Done     int `json:"done"`
	Diverged int `json:"diverged"`
	Running  int `json:"running"`
	Failed   int `json:"failed"`
	Left     int `json:"left"`
	// Attempts is the number of attempts at all runs; Retried the number
	// of runs with more than one.
	Attempts int `json:"attempts"`
	Retried  int `json:"retried"`
	// RunStates has one entry per run of the plan, in plan order.
	RunStates []RunProgress `json:"run_states"`
}

// ReadProgress reads the progress of the sweep in dir (dir/sweep.json and
// its run directories) without changing anything there: a run is running
// when another process holds its lock (LockHeld), which takes no lock that a
// `sweep run` could be kept from. Unreadable parts of a run directory (a bad
// attempts record or log) cost that run's detail, named in its Error, not
// the progress.
func ReadProgress(dir string) (*Progress, error) {
	p, err := LoadGrid(filepath.Join(dir, GridFile))
	if err != nil {
		return nil, err
	}
	pr := &Progress{Dir: dir, Name: p.Name, Axes: p.Axes, Runs: len(p.Runs), RunStates: make([]RunProgress, len(p.Runs))}
	for i := range p.Runs {
		r := &p.Runs[i]
		rp := &pr.RunStates[i]
		rp.ID, rp.Values = r.ID, r.Values
		if r.Config != nil {
			rp.Steps = r.Config.Steps
		}
		if !ValidID(r.ID) {
			rp.State, rp.Status = StateFailed, StatusFailed
			rp.Error = fmt.Sprintf("%s: run %d: id %q is not a run id (%d hex digits); its directory is not read", GridFile, i, r.ID, IDLength)
			pr.Failed++
			continue
		}
		rp.fill(RunDir(dir, r.ID))
		switch rp.State {
		case StateDone:
			pr.Done++
			if rp.Status == StatusDiverged {
				pr.Diverged++
			}
		case StateRunning:
			pr.Running++
		case StateFailed:
			pr.Failed++
		default:
			pr.Left++
		}
		pr.Attempts += rp.Attempts
		if rp.Attempts > 1 {
			pr.Retried++
		}
	}
	return pr, nil
}

// fill reads run directory rd.
func (rp *RunProgress) fill(rd string) {
	var msg string
	rp.Status, _, msg = RunStatus(rd)
	var problems []string
	if held, err := LockHeld(filepath.Join(rd, LockFile)); err != nil {
		problems = append(problems, err.Error())
	} else if held && !rp.Status.Complete() {
		// A finished run's lock is held for a moment after its summary
		// is written: it counts as done.
		rp.State = StateRunning
	}
	if rp.State == "" {
		switch rp.Status {
		case StatusDone, StatusDiverged:
			rp.State = StateDone
		case StatusFailed:
			rp.State = StateFailed
			problems = append([]string{firstLine(msg)}, problems...)
		default:
			rp.State = StateLeft
		}
	}
	a, err := ReadAttempts(rd)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		problems = append(problems, err.Error())
	}
	rp.Attempts = len(a)
	if len(a) > 0 {
		rp.Last = &a[len(a)-1]
	}
	if rp.Status != StatusPending {
		recs, err := run.ReadLog(filepath.Join(rd, run.LogFile))
		switch {
		case err == nil && len(recs) > 0:
			s := recs[len(recs)-1].Step
			rp.Step = &s
		case err != nil && !errors.Is(err, os.ErrNotExist):
			problems = append(problems, err.Error())
		}
	}
	rp.Error = strings.Join(problems, "; ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " ..."
	}
	return s
}

// WriteJSON writes p as `curvprobe sweep status --json` prints it: one
// indented JSON object (its fields in StatusHelp).
func (p *Progress) WriteJSON(w io.Writer) error { return writeJSON(w, p) }

// WriteTable writes the progress as a table, a line per run (its axis
// values, state, step of steps, attempts, the latest attempt's host and
// time, and a failed run's error), then a summary line.
func (p *Progress) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(cells []string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	line(append(append([]string{"id"}, p.Axes...), "state", "step", "attempts", "last attempt", "error"))
	for _, r := range p.RunStates {
		cells := []string{r.ID}
		for i := range p.Axes {
			v := ""
			if i < len(r.Values) {
				v = string(r.Values[i])
			}
			cells = append(cells, v)
		}
		state := string(r.State)
		switch {
		case r.Status == StatusDiverged:
			state += " (diverged)"
		case r.State == StateLeft && r.Status == StatusIncomplete:
			state += " (interrupted)"
		}
		step := "-"
		if r.Step != nil {
			step = fmt.Sprintf("%d/%d", *r.Step, r.Steps)
		}
		last := "-"
		if a := r.Last; a != nil {
			last = fmt.Sprintf("%s %s pid %d shard %s %s", a.Mode, a.Host, a.PID, a.Shard, ago(a.Time))
		}
		line(append(cells, state, step, fmt.Sprint(r.Attempts), last, r.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, p.Summary())
	return err
}

// Summary is the one-line account: "8 runs: 3 done (1 diverged), 1
// running, 1 failed, 3 left; 6 attempts (1 run retried)".
func (p *Progress) Summary() string {
	done := fmt.Sprintf("%d done", p.Done)
	if p.Diverged > 0 {
		done += fmt.Sprintf(" (%d diverged)", p.Diverged)
	}
	return fmt.Sprintf("%d runs: %s, %d running, %d failed, %d left; %d attempts (%d runs retried)",
		p.Runs, done, p.Running, p.Failed, p.Left, p.Attempts, p.Retried)
}

// ago writes an attempt's RFC 3339 time as it is, with how long ago.
func ago(t string) string {
	at, err := time.Parse(time.RFC3339, t)
	if err != nil {
		return t
	}
	return fmt.Sprintf("%s (%s ago)", t, time.Since(at).Round(time.Second))
}

// StatusHelp describes, for a command's usage text, the states
// ReadProgress gives runs and the fields of Progress's JSON.
const StatusHelp = `Where a sweep stands, read from DIR (its sweep.json and runs/<id>/) without
changing anything: each run is done (or diverged), running (a process holds
its lock), failed (a rerun retries it) or left (not started, or interrupted:
a rerun resumes it). The table has a line per run (its axis values, state,
last logged step of its steps, attempts, the latest attempt and a failed
run's error) and a summary line.

--json prints one object:
  dir, name, axes          the sweep directory, its name, its varied paths
  runs                     number of runs; done + running + failed + left = runs
  done, diverged           runs complete; how many of them diverged
  running, failed, left    runs by state, as above
  attempts, retried        attempts at all runs; runs with more than one
  run_states               one object per run, in plan order:
    id, values             the run's id; its value of each of axes
    state, status          done|running|failed|left; the run directory's status:
                           pending|incomplete|done|diverged|failed
    step, steps            last logged step (absent without a log); the run's length
    attempts, last_attempt number of attempts; the latest (attempts.jsonl line:
                           attempt, mode fresh|resume, shard, pid, host, time)
    error                  a failed run's error (first line), or what was unreadable`
