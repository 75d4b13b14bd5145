package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/probe/run"
)

// Files a sweep keeps in a run directory besides run.Train's.
const (
	// ErrorFile holds the error of a run's last attempt when it failed.
	ErrorFile = "error.txt"
	// AttemptsFile gets one JSON line per attempt at the run: its number,
	// "fresh" or "resume", the shard, process and host, and the time.
	AttemptsFile = "attempts.jsonl"
	// LockFile is locked (flock) while a process works on the run.
	LockFile = "sweep.lock"
)

// RunsDir is the folder of a sweep directory that holds the run directories.
const RunsDir = "runs"

// RunDir returns the directory of run id in sweep directory dir.
func RunDir(dir, id string) string { return filepath.Join(dir, RunsDir, id) }

// Status is the state of a run.
type Status string

// The states of a run, from its directory (RunStatus).
const (
	// StatusPending: never started (no run directory, or nothing in it).
	StatusPending Status = "pending"
	// StatusIncomplete: started but not finished (killed or interrupted);
	// a rerun resumes it from its checkpoint, or starts it again when it
	// stopped before its first one.
	StatusIncomplete Status = "incomplete"
	// StatusDone: finished; summary.json without an error.
	StatusDone Status = "done"
	// StatusDiverged: finished with a non-finite loss; summary.json says
	// diverged. A result like any other: never rerun.
	StatusDiverged Status = "diverged"
	// StatusFailed: stopped by an error other than divergence (summary.json
	// with an error, or error.txt); a rerun tries it again.
	StatusFailed Status = "failed"
)

// Complete reports whether the run has its result: done or diverged.
func (s Status) Complete() bool { return s == StatusDone || s == StatusDiverged }

// RunStatus reads a run directory's state and its summary, when it has one,
// and the error of a failed run. The rules:
//
//   - summary.json with no error: done;
//   - summary.json with diverged set: diverged;
//   - summary.json with another error, or error.txt: failed;
//   - anything else in the directory (config, log, checkpoint): incomplete;
//   - no directory, or an empty one: pending.
//
// Execute removes summary.json and error.txt before each attempt and, when
// an attempt is interrupted (context cancelled), the summary that run.Train
// wrote for it, so a summary with an error always means a failure.
func RunStatus(rd string) (Status, *run.Summary, string) {
	if b, err := os.ReadFile(filepath.Join(rd, run.SummaryFile)); err == nil {
		var s run.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return StatusFailed, nil, fmt.Sprintf("%s: %v", run.SummaryFile, err)
		}
		switch {
		case s.Diverged:
			return StatusDiverged, &s, s.Error
		case s.Error == "":
			return StatusDone, &s, ""
		}
		return StatusFailed, &s, s.Error
	}
	if b, err := os.ReadFile(filepath.Join(rd, ErrorFile)); err == nil {
		return StatusFailed, nil, string(b)
	}
	for _, f := range []string{run.ConfigFile, run.LogFile, run.CheckpointFile} {
		if _, err := os.Stat(filepath.Join(rd, f)); err == nil {
			return StatusIncomplete, nil, ""
		}
	}
	return StatusPending, nil, ""
}

// Backends open a compute backend for a run, one function per dtype
// (device.On's, or a test's). Each attempt at a run opens its own.
type Backends = device.Backends

// OpenBackends opens the device n with o once, to check it (o.Notes says
// auto's choice), and returns the Backends each run opens it with,
// quietly. Runs train workers at once in one process, and OpenBLAS's
// thread count is the process's: each gets its share of o.Threads (0: of
// the cores). A failure to open is a *device.OpenError.
func OpenBackends(n device.Name, o device.Options, workers int) (Backends, error) {
	if workers > 1 {
		total := o.Threads
		if total == 0 {
			total = runtime.GOMAXPROCS(0)
		}
		o.Threads = max(1, total/workers)
	}
	if _, err := device.On(n, o).Float64(); err != nil {
		return Backends{}, &device.OpenError{Err: err}
	}
	o.Notes = nil
	return device.On(n, o), nil
}

// Options configure Execute. Zero values mean the defaults noted.
type Options struct {
	// Workers is the number of runs trained at once; 0 means 1.
	Workers int
	// Shard selects the runs this process does; the zero Shard is all.
	Shard Shard
	// Backends open the backends; required.
	Backends Backends
	// Plot draws each run's figures when it finishes (run.TrainOptions.Plot).
	Plot bool
	// Reporter receives an Event as each run starts and ends; may be nil.
	Reporter Reporter
}

// EventKind says what happened to a run.
type EventKind int

// Kinds of Event.
const (
	// EventStart: an attempt starts (Resume says how).
	EventStart EventKind = iota
	// EventEnd: an attempt ended with Status: done, diverged, failed, or
	// incomplete when it was interrupted.
	EventEnd
	// EventBusy: another process holds the run's lock; it is left to it.
	EventBusy
)

// Event is a run starting or ending.
type Event struct {
	Kind EventKind
	Run  *Point
	// N is the run's number among the runs this process attempts (1-based),
	// of Total.
	N, Total int
	// Resume is set when the attempt continues from a checkpoint.
	Resume bool
	// Status, Summary, Err and Elapsed are set on EventEnd.
	Status Status
	// ByOther is set on EventEnd when another process completed the run
	// after this one listed it: this process trained nothing, and the run
	// counts in Result.Complete, not Done or Diverged.
	ByOther bool
	Summary *run.Summary
	Err     error
	Elapsed time.Duration
}

// Reporter receives events. Execute calls it from one goroutine at a time.
type Reporter interface {
	Event(e *Event)
}

// Result is what Execute did with the runs of its shard.
type Result struct {
	// Selected is the number of runs in the shard; Complete of them were
	// complete before this process could work on them (before Execute
	// started, or finished by another process since) and were skipped.
	Selected, Complete int
	// Counts of the outcomes of this process's attempts (each counts only
	// what this process trained), and of runs left to another process
	// (Busy) or not started because of cancellation (NotStarted). The
	// counts add up to Selected.
	Done, Diverged, Failed, Interrupted, Busy, NotStarted int
}

// String returns the counts of r in one line, as `curvprobe sweep run`
// ends with them.
func (r *Result) String() string {
	return fmt.Sprintf("%d runs in this shard: %d already complete, %d done, %d diverged, %d failed, %d interrupted, %d not started, %d left to another process",
		r.Selected, r.Complete, r.Done, r.Diverged, r.Failed, r.Interrupted, r.NotStarted, r.Busy)
}

// Outcome returns the error `curvprobe sweep run` ends with, given
// Execute's err for the sweep in dir: an interruption or failed runs say
// how a rerun finishes the sweep; nil when no run of the shard failed.
func (r *Result) Outcome(dir string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted; rerun the same command to finish the sweep")
	}
	if err != nil {
		return err
	}
	if r.Failed > 0 {
		return fmt.Errorf("%d runs failed (see %s/%s/<id>/%s); rerun the same command to retry them", r.Failed, dir, RunsDir, ErrorFile)
	}
	return nil
}

// Execute runs the grid's runs of opts.Shard in dir: it writes dir/sweep.json,
// then trains each run that is not complete in dir/runs/<id>/ (the layout of
// a plain run directory, so `curvprobe plot` works on it), opts.Workers at a
// time. A run with a checkpoint is resumed (run.TrainOptions.Resume);
// a pending run, or one stopped before its first checkpoint, starts afresh
// in an emptied directory. A failure is written to the run's error.txt and
// does not stop the others. When ctx is cancelled, runs in flight stop at
// their next step (their checkpoints let a rerun resume them), no new run
// starts, and Execute returns ctx.Err() with the Result. Several processes
// may execute one grid in one directory: a run is locked while it is worked
// on, and a process finding it locked leaves it. A run id that is not a
// run id (ValidID) is an error: ids name directories.
func Execute(ctx context.Context, p *Grid, dir string, opts Options) (*Result, error) {
	if opts.Backends.Float32 == nil || opts.Backends.Float64 == nil {
		panic("sweep: Execute needs Backends for float32 and float64")
	}
	for i := range p.Runs {
		if !ValidID(p.Runs[i].ID) {
			return nil, fmt.Errorf("run %d: id %q is not a run id (%d hex digits)", i, p.Runs[i].ID, IDLength)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, RunsDir), 0o755); err != nil {
		return nil, err
	}
	if err := p.Write(filepath.Join(dir, GridFile)); err != nil {
		return nil, err
	}
	runs := opts.Shard.Select(p.Runs)
	res := &Result{Selected: len(runs)}
	var todo []*Point
	for i := range runs {
		if st, _, _ := RunStatus(RunDir(dir, runs[i].ID)); st.Complete() {
			res.Complete++
			continue
		}
		todo = append(todo, &runs[i])
	}
	x := &executor{dir: dir, opts: opts, total: len(todo), res: res}
	workers := max(opts.Workers, 1)
	jobs := make(chan *Point)
	var wg sync.WaitGroup
	for range min(workers, max(len(todo), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				x.attempt(ctx, r)
			}
		}()
	}
feed:
	for i, r := range todo {
		select {
		case <-ctx.Done():
		default:
			select {
			case jobs <- r:
				continue
			case <-ctx.Done():
			}
		}
		x.mu.Lock()
		res.NotStarted += len(todo) - i
		x.mu.Unlock()
		break feed
	}
	close(jobs)
	wg.Wait()
	return res, ctx.Err()
}

type executor struct {
	dir  string
	opts Options
	mu   sync.Mutex // guards n, res and calls of the Reporter
	n    int
	res  *Result
	// total is the number of runs to attempt, for Event.Total.
	total int
}

func (x *executor) report(e *Event) {
	if x.opts.Reporter != nil {
		x.opts.Reporter.Event(e)
	}
}

// attempt makes one attempt at run r.
func (x *executor) attempt(ctx context.Context, r *Point) {
	rd := RunDir(x.dir, r.ID)
	end := func(e *Event) {
		x.mu.Lock()
		defer x.mu.Unlock()
		switch {
		case e.ByOther:
			x.res.Complete++
		case e.Status == StatusDone:
			x.res.Done++
		case e.Status == StatusDiverged:
			x.res.Diverged++
		case e.Status == StatusFailed:
			x.res.Failed++
		case e.Status == StatusIncomplete:
			x.res.Interrupted++
		}
		x.report(e)
	}
	fail := func(e *Event, err error) {
		e.Kind, e.Status, e.Err = EventEnd, StatusFailed, err
		os.WriteFile(filepath.Join(rd, ErrorFile), []byte(err.Error()+"\n"), 0o644)
		end(e)
	}
	x.mu.Lock()
	if ctx.Err() != nil {
		x.res.NotStarted++
		x.mu.Unlock()
		return
	}
	x.n++
	e := &Event{Kind: EventStart, Run: r, N: x.n, Total: x.total}
	x.mu.Unlock()

	if err := os.MkdirAll(rd, 0o755); err != nil {
		fail(e, err)
		return
	}
	unlock, ok, err := tryLockPatiently(filepath.Join(rd, LockFile))
	if err != nil {
		fail(e, err)
		return
	}
	if !ok {
		x.mu.Lock()
		x.res.Busy++
		e.Kind = EventBusy
		x.report(e)
		x.mu.Unlock()
		return
	}
	defer unlock()
	// Another process may have finished it since Execute looked: it is
	// then complete, not done by this process.
	if st, sum, _ := RunStatus(rd); st.Complete() {
		e.Kind, e.Status, e.Summary, e.ByOther = EventEnd, st, sum, true
		end(e)
		return
	}
	if saved, err := run.LoadTrainConfig(filepath.Join(rd, run.ConfigFile)); err == nil {
		if id := ConfigID(saved); id != r.ID {
			fail(e, fmt.Errorf("%s holds the configuration of run %s, not %s; move it away", rd, id, r.ID))
			return
		}
	}
	_, err = os.Stat(filepath.Join(rd, run.CheckpointFile))
	e.Resume = err == nil
	if err := x.prepare(rd, e.Resume); err != nil {
		fail(e, err)
		return
	}
	x.mu.Lock()
	x.report(e)
	x.mu.Unlock()

	start := time.Now()
	sum, err := x.train(ctx, rd, r.Config, e.Resume)
	e = &Event{Kind: EventEnd, Run: r, N: e.N, Total: e.Total, Resume: e.Resume, Summary: sum, Elapsed: time.Since(start)}
	switch {
	case err == nil:
		e.Status = StatusDone
	case errors.Is(err, run.ErrDiverged):
		e.Status, e.Err = StatusDiverged, err
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		// Interrupted: keep the checkpoint, drop the summary run.Train
		// wrote, so that the run reads as incomplete and is resumed.
		os.Remove(filepath.Join(rd, run.SummaryFile))
		e.Status, e.Err = StatusIncomplete, err
	default:
		if st, _, _ := RunStatus(rd); st.Complete() {
			// Trained, but a later step (the figures) failed: the result
			// stands; error.txt keeps the message.
			os.WriteFile(filepath.Join(rd, ErrorFile), []byte(err.Error()+"\n"), 0o644)
			e.Status, e.Err = st, err
			break
		}
		fail(e, err)
		return
	}
	end(e)
}

// lockTries and lockWait: how often and how far apart an attempt tries a
// run's lock before leaving the run to the process that holds it. A
// process reading the sweep's progress (LockHeld) holds a shared lock for
// an instant; a process training the run holds it throughout.
const (
	lockTries = 4
	lockWait  = 25 * time.Millisecond
)

// tryLockPatiently is run.TryLock, tried lockTries times lockWait apart
// while another holds the lock.
func tryLockPatiently(path string) (unlock func(), ok bool, err error) {
	for i := range lockTries {
		if i > 0 {
			time.Sleep(lockWait)
		}
		_, unlock, ok, err = run.TryLock(path)
		if err != nil || ok {
			return unlock, ok, err
		}
	}
	return nil, false, nil
}

// prepare readies a run directory for an attempt: it clears the previous
// attempt's outcome (or, for a fresh start, everything but the attempts
// record and the locks) and appends to the attempts record.
func (x *executor) prepare(rd string, resume bool) error {
	if resume {
		for _, f := range []string{run.SummaryFile, ErrorFile} {
			if err := os.Remove(filepath.Join(rd, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	} else {
		ents, err := os.ReadDir(rd)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if n := e.Name(); n != AttemptsFile && n != LockFile && n != run.LockFile {
				if err := os.RemoveAll(filepath.Join(rd, n)); err != nil {
					return err
				}
			}
		}
	}
	n := 1
	if b, err := os.ReadFile(filepath.Join(rd, AttemptsFile)); err == nil {
		for _, c := range b {
			if c == '\n' {
				n++
			}
		}
	}
	host, _ := os.Hostname()
	mode := "fresh"
	if resume {
		mode = "resume"
	}
	line, _ := json.Marshal(Attempt{Attempt: n, Mode: mode, Shard: x.opts.Shard.String(), PID: os.Getpid(), Host: host, Time: time.Now().UTC().Format(time.RFC3339)})
	f, err := os.OpenFile(filepath.Join(rd, AttemptsFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Attempt is one line of a run's attempts.jsonl.
type Attempt struct {
	Attempt int    `json:"attempt"`
	Mode    string `json:"mode"` // "fresh" or "resume"
	Shard   string `json:"shard"`
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Time    string `json:"time"`
}

// ReadAttempts reads a run directory's attempts.jsonl.
func ReadAttempts(rd string) ([]Attempt, error) {
	b, err := os.ReadFile(filepath.Join(rd, AttemptsFile))
	if err != nil {
		return nil, err
	}
	var out []Attempt
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var a Attempt
		if err := dec.Decode(&a); err != nil {
			return out, fmt.Errorf("%s: %w", filepath.Join(rd, AttemptsFile), err)
		}
		out = append(out, a)
	}
	return out, nil
}

// train runs run.Train on a backend of the configuration's dtype.
//
// A panic inside one run (a bug, or a case validation missed) fails that run
// with the panic and its stack in error.txt; the other runs go on.
func (x *executor) train(ctx context.Context, rd string, cfg *run.TrainConfig, resume bool) (sum *run.Summary, err error) {
	defer func() {
		if p := recover(); p != nil {
			sum, err = nil, fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return run.TrainRun(ctx, run.TrainSettings{Dir: rd, Config: cfg, Backends: x.opts.Backends, Options: run.TrainOptions{Resume: resume, Plot: x.opts.Plot}})
}
