package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/probe/run"
)

var cpuBackends = Backends{
	Float32: func() (kernels.Backend[float32], error) { return cpu.New[float32](), nil },
	Float64: func() (kernels.Backend[float64], error) { return cpu.New[float64](), nil },
}

// gatedBackends returns CPU backends of which the second opened blocks in
// its 50th GEMM until gate is closed.
func gatedBackends(gate <-chan struct{}) Backends {
	var opened atomic.Int64
	return Backends{
		Float32: func() (kernels.Backend[float32], error) {
			return &gatedBackend[float32]{Backend: cpu.New[float32](), hold: opened.Add(1) == 2, gate: gate}, nil
		},
		Float64: func() (kernels.Backend[float64], error) {
			return &gatedBackend[float64]{Backend: cpu.New[float64](), hold: opened.Add(1) == 2, gate: gate}, nil
		},
	}
}

// gatedBackend is a backend whose 50th Gemm waits for gate when hold is set.
type gatedBackend[T kernels.Float] struct {
	kernels.Backend[T]
	hold  bool
	gate  <-chan struct{}
	gemms atomic.Int64
}

func (g *gatedBackend[T]) Gemm(tA, tB kernels.Trans, m, n, k int, alpha float64, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, beta float64, c kernels.Buffer, ldc int) {
	if g.hold && g.gemms.Add(1) == 50 {
		<-g.gate
	}
	g.Backend.Gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// reporterFunc adapts a function to Reporter.
type reporterFunc func(e *Event)

func (f reporterFunc) Event(e *Event) { f(e) }

// statuses returns each run's status in dir.
func statuses(p *Grid, dir string) map[string]Status {
	m := map[string]Status{}
	for _, r := range p.Runs {
		m[r.ID], _, _ = RunStatus(RunDir(dir, r.ID))
	}
	return m
}

func attempts(t *testing.T, dir, id string) []Attempt {
	t.Helper()
	a, err := ReadAttempts(RunDir(dir, id))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return a
}

// A failing run is recorded and does not stop the others; a rerun skips the
// complete runs and retries the failed ones.
func TestExecuteFailureAndRetry(t *testing.T) {
	p := mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [0.5, 2]},
		{"path": "data", "values": ["synthetic:gaussian", "/nonexistent/data.npz"]}`))
	dir := t.TempDir()
	res, err := Execute(context.Background(), p, dir, Options{Workers: 2, Backends: cpuBackends})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 2 || res.Failed != 2 || res.Selected != 4 {
		t.Fatalf("result %+v, want 2 done and 2 failed", res)
	}
	for _, r := range p.Runs {
		st, _, msg := RunStatus(RunDir(dir, r.ID))
		failing := strings.Contains(string(r.Values[1]), "nonexistent")
		if failing && (st != StatusFailed || !strings.Contains(msg, "nonexistent")) {
			t.Errorf("run %s: %s %q, want failed naming the data file", r.Label(p.Axes), st, msg)
		}
		if !failing && st != StatusDone {
			t.Errorf("run %s: %s, want done", r.Label(p.Axes), st)
		}
	}
	res, err = Execute(context.Background(), p, dir, Options{Workers: 2, Backends: cpuBackends})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete != 2 || res.Failed != 2 || res.Done != 0 {
		t.Fatalf("rerun: %+v, want 2 complete skipped, 2 failed again", res)
	}
	for _, r := range p.Runs {
		want := 1
		if strings.Contains(string(r.Values[1]), "nonexistent") {
			want = 2
		}
		if a := attempts(t, dir, r.ID); len(a) != want {
			t.Errorf("run %s: %d attempts, want %d", r.Label(p.Axes), len(a), want)
		}
	}
	rep, _, err := WriteReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	if !strings.Contains(md.String(), "4 runs: 2 done 2 failed") {
		t.Errorf("markdown report:\n%s", md.String())
	}
}

// Cancelling stops the runs in flight at their next step; a rerun resumes
// them from their checkpoints and ends with the logs of an uninterrupted
// sweep, byte for byte, without training a complete run again.
func TestExecuteCancelResume(t *testing.T) {
	src := strings.Replace(sweepJSON(`{"path": "optimizer.lr", "values": [0.5, 1]}, {"path": "seed", "values": [1, 2]}`),
		`"steps": 60`, `"steps": 200`, 1)
	p := mustExpand(t, src)
	ref := t.TempDir()
	if _, err := Execute(context.Background(), p, ref, Options{Workers: 2, Backends: cpuBackends}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The second backend opened holds its run mid-way until the first run
	// to end has cancelled the sweep: one run done and one interrupted,
	// whatever the machine's load (the runs are of equal length, so
	// without the gate both could end before the cancellation is seen).
	gate := make(chan struct{})
	var once sync.Once
	res, err := Execute(ctx, p, dir, Options{Workers: 2, Backends: gatedBackends(gate), Reporter: reporterFunc(func(e *Event) {
		if e.Kind == EventEnd && e.Status == StatusDone {
			cancel() // the other worker's run is in flight
		}
		if e.Kind == EventEnd {
			once.Do(func() { close(gate) }) // never left waiting
		}
	})})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute: %v, want context.Canceled", err)
	}
	if res.Done < 1 || res.Interrupted < 1 || res.Done+res.Interrupted+res.NotStarted != 4 {
		t.Fatalf("result %+v: want a run done, one interrupted", res)
	}
	before := statuses(p, dir)
	var resumable []string
	for id, st := range before {
		if st == StatusFailed || st == StatusDiverged {
			t.Fatalf("run %s: %s after cancellation", id, st)
		}
		if _, err := os.Stat(filepath.Join(RunDir(dir, id), run.SummaryFile)); st == StatusIncomplete && err == nil {
			t.Errorf("interrupted run %s kept a summary", id)
		}
		if _, err := os.Stat(filepath.Join(RunDir(dir, id), run.CheckpointFile)); st == StatusIncomplete && err == nil {
			resumable = append(resumable, id)
		}
	}
	res, err = Execute(context.Background(), p, dir, Options{Workers: 2, Backends: cpuBackends})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Runs {
		a := attempts(t, dir, r.ID)
		switch before[r.ID] {
		case StatusDone:
			if len(a) != 1 {
				t.Errorf("run %s was complete, but has %d attempts", r.ID, len(a))
			}
		case StatusIncomplete:
			if len(a) != 2 {
				t.Errorf("interrupted run %s: %d attempts, want 2", r.ID, len(a))
			}
		}
		want, _ := os.ReadFile(filepath.Join(RunDir(ref, r.ID), run.LogFile))
		got, _ := os.ReadFile(filepath.Join(RunDir(dir, r.ID), run.LogFile))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("run %s: log differs from the uninterrupted sweep's (%d vs %d bytes)", r.ID, len(got), len(want))
		}
	}
	for _, id := range resumable {
		if a := attempts(t, dir, id); len(a) != 2 || a[1].Mode != "resume" {
			t.Errorf("run %s had a checkpoint; attempts %+v, want a resume", id, a)
		}
	}
	if len(resumable) == 0 {
		t.Log("no interrupted run had reached a checkpoint: the resume path was not exercised")
	}
	// The reports agree.
	for _, d := range []string{ref, dir} {
		if _, _, err := WriteReport(d); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := os.ReadFile(filepath.Join(ref, ReportCSV))
	b, _ := os.ReadFile(filepath.Join(dir, ReportCSV))
	if !bytes.Equal(a, b) {
		t.Errorf("reports differ:\n%s\n%s", a, b)
	}
	for _, f := range []string{"sharpness.png", "sharpness_vs_bound.png"} {
		if st, err := os.Stat(filepath.Join(dir, PlotsDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}
	t.Logf("cancelled with %v; resumed from checkpoints: %d", before, len(resumable))
}

// A run locked by another process is left to it.
func TestExecuteBusy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	p := mustExpand(t, sweepJSON(`{"path": "seed", "values": [1, 2]}`))
	dir := t.TempDir()
	held := p.Runs[0].ID
	os.MkdirAll(RunDir(dir, held), 0o755)
	_, unlock, ok, err := run.TryLock(filepath.Join(RunDir(dir, held), LockFile))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer unlock()
	res, err := Execute(context.Background(), p, dir, Options{Workers: 2, Backends: cpuBackends})
	if err != nil {
		t.Fatal(err)
	}
	if res.Busy != 1 || res.Done != 1 {
		t.Fatalf("%+v, want 1 busy and 1 done", res)
	}
	if st, _, _ := RunStatus(RunDir(dir, held)); st != StatusPending {
		t.Errorf("the locked run is %s", st)
	}
}

// The report counts steps above the bound exactly as documented.
func TestReportStepsAboveBound(t *testing.T) {
	src := strings.Replace(sweepJSON(`{"path": "seed", "values": [1, 2, 3]}`), `"steps": 60`, `"steps": 25`, 1)
	p := mustExpand(t, src)
	dir := t.TempDir()
	if err := p.Write(filepath.Join(dir, GridFile)); err != nil {
		t.Fatal(err)
	}
	f := func(v float64) *float64 { return &v }
	// Probes at 0, 10, 20, 25 (the last step) with the bound 2.
	sharp := map[int]float64{0: 1, 10: 3, 20: 2.5, 25: 3}
	write := func(id string, last int, sum *run.Summary) {
		rd := RunDir(dir, id)
		os.MkdirAll(rd, 0o755)
		w, err := run.OpenLog(filepath.Join(rd, run.LogFile))
		if err != nil {
			t.Fatal(err)
		}
		for s := 0; s <= last; s++ {
			r := &run.Record{Step: s, Loss: 1 / float64(s+1), LR: 1}
			if l, ok := sharp[s]; ok {
				r.LambdaMax, r.StabilityBound, r.TrainAcc = f(l), f(2), f(0.5)
			}
			w.Write(r)
		}
		w.Close()
		if sum != nil {
			b, _ := jsonMarshal(sum)
			os.WriteFile(filepath.Join(rd, run.SummaryFile), b, 0o644)
		}
	}
	write(p.Runs[0].ID, 25, &run.Summary{Steps: 25})                                  // done
	write(p.Runs[1].ID, 23, nil)                                                      // incomplete: last logged 23
	write(p.Runs[2].ID, 21, &run.Summary{Diverged: true, Error: "training diverged"}) // diverged at step 22
	rep, err := BuildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		st            Status
		probes, steps int
		final         float64
	}{
		// Above at 10 (steps 10..19), 20 (20..24) and 25 (none: the end).
		{StatusDone, 3, 15, 3},
		// Above at 10 (10 steps) and 20 (steps 20..23).
		{StatusIncomplete, 2, 14, 2.5},
		// Above at 10 and 20 (steps 20, 21).
		{StatusDiverged, 2, 12, 2.5},
	} {
		row := rep.Rows[i]
		if row.Status != c.st || row.ProbesAboveBound != c.probes || row.StepsAboveBound != c.steps || *row.FinalSharpness != c.final {
			t.Errorf("row %d: %s, %d probes and %d steps above, final %g; want %s, %d, %d, %g",
				i, row.Status, row.ProbesAboveBound, row.StepsAboveBound, *row.FinalSharpness, c.st, c.probes, c.steps, c.final)
		}
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "id" || recs[0][1] != "seed" || recs[1][1] != "1" {
		t.Errorf("csv: %v", recs)
	}
	for _, col := range recs[0] {
		if strings.Contains(col, "second") || strings.Contains(col, "time") {
			t.Errorf("the report has a timing column %q", col)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// panicky is a backend whose products panic: a stand-in for a bug.
type panicky struct{ kernels.Backend[float32] }

func (panicky) Gemm(kernels.Trans, kernels.Trans, int, int, int, float64, kernels.Buffer, int, kernels.Buffer, int, float64, kernels.Buffer, int) {
	panic("boom in Gemm")
}

// A panic inside one run fails that run, with the panic in error.txt; the
// sweep and its other runs go on.
func TestExecuteRunPanic(t *testing.T) {
	p := mustExpand(t, sweepJSON(`{"path": "dtype", "values": ["float32", "float64"]}`))
	dir := t.TempDir()
	b := Backends{
		Float32: func() (kernels.Backend[float32], error) { return panicky{cpu.New[float32]()}, nil },
		Float64: cpuBackends.Float64,
	}
	res, err := Execute(context.Background(), p, dir, Options{Workers: 2, Backends: b})
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 1 || res.Failed != 1 {
		t.Fatalf("result %+v, want 1 done, 1 failed", res)
	}
	for _, r := range p.Runs {
		st, _, msg := RunStatus(RunDir(dir, r.ID))
		if strings.Contains(string(r.Values[0]), "float32") && (st != StatusFailed || !strings.Contains(msg, "panic: boom in Gemm")) {
			t.Errorf("float32 run: %s %q, want failed with the panic", st, msg)
		}
	}
}

// executeLRs runs, one worker on the CPU, a sweep of optimizer.lr over
// lrs (a JSON list's items) in a new directory, and returns its grid and
// the directory.
func executeLRs(t *testing.T, lrs string) (*Grid, string) {
	t.Helper()
	p := mustExpand(t, sweepJSON(`{"path": "optimizer.lr", "values": [`+lrs+`]}`))
	dir := t.TempDir()
	if _, err := Execute(context.Background(), p, dir, Options{Workers: 1, Backends: cpuBackends}); err != nil {
		t.Fatal(err)
	}
	return p, dir
}

// A run whose log cannot be read costs its own row, not the report.
func TestReportSurvivesABadLog(t *testing.T) {
	p, dir := executeLRs(t, `0.5, 1`)
	bad := RunDir(dir, p.Runs[0].ID)
	logPath := filepath.Join(bad, run.LogFile)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[1] = []byte("{not json\n")
	if err := os.WriteFile(logPath, bytes.Join(lines, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := BuildReport(dir)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	if r := rep.Rows[0]; r.Status != StatusFailed || !strings.Contains(r.Error, "line 2") {
		t.Errorf("row of the bad log: %s %q", r.Status, r.Error)
	}
	if r := rep.Rows[1]; r.Status != StatusDone || r.FinalLoss == nil {
		t.Errorf("the other row: %+v", r)
	}
}

// A finished run whose log lost its last line reports the step its summary
// reached, and says the log is short.
func TestReportStepFromSummary(t *testing.T) {
	p, dir := executeLRs(t, `0.5`)
	logPath := filepath.Join(RunDir(dir, p.Runs[0].ID), run.LogFile)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.TrimRight(b, "\n")
	cut = cut[:len(cut)-5] // the last record, cut short
	if err := os.WriteFile(logPath, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := BuildReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	steps := p.Runs[0].Config.Steps
	if r := rep.Rows[0]; r.Step != steps || !strings.Contains(r.Error, "ends at step") {
		t.Errorf("row step %d (%q); want %d and a note", r.Step, r.Error, steps)
	}
}

// Two executions of one sweep at once: a run the other finished after this
// one listed it counts as complete here, not as done, so that the tallies of
// the two add up to the runs trained (each run is trained once).
func TestExecuteConcurrentTallies(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	p := mustExpand(t, sweepJSON(`{"path": "seed", "values": [1, 2]}`))
	dir := t.TempDir()
	sorted := Shard{}.Select(p.Runs)
	first, second := sorted[0], sorted[1]
	other := &Grid{Name: p.Name, Axes: p.Axes, Runs: []Point{second}}
	var otherRes *Result
	byOther := 0
	// This execution lists both runs, then, as it starts the first, the
	// other execution trains the second to the end.
	rep := reporterFunc(func(e *Event) {
		if e.Kind == EventEnd && e.ByOther {
			if e.Run.ID != second.ID || e.Status != StatusDone {
				t.Errorf("run %s %s reported as finished by another process", e.Run.ID, e.Status)
			}
			byOther++
		}
		if e.Kind == EventStart && e.Run.ID == first.ID && otherRes == nil {
			var err error
			if otherRes, err = Execute(context.Background(), other, dir, Options{Backends: cpuBackends}); err != nil {
				t.Error(err)
			}
		}
	})
	res, err := Execute(context.Background(), p, dir, Options{Workers: 1, Backends: cpuBackends, Reporter: rep})
	if err != nil {
		t.Fatal(err)
	}
	if otherRes == nil || otherRes.Done != 1 {
		t.Fatalf("the other execution: %+v, want 1 done", otherRes)
	}
	if res.Done != 1 || res.Complete != 1 || res.Selected != 2 {
		t.Errorf("%+v, want 1 done and 1 complete (finished by the other execution)", res)
	}
	if byOther != 1 {
		t.Errorf("%d events of runs finished by another process, want 1", byOther)
	}
	if n := len(attempts(t, dir, second.ID)); n != 1 {
		t.Errorf("the second run was attempted %d times", n)
	}
}

// An id edited in sweep.json to a path ("../x", "", "a/b") is not followed
// out of DIR/runs: its row is failed and names the id.
func TestReportRefusesPathIDs(t *testing.T) {
	p, dir := executeLRs(t, `0.5`)
	// A finished run's files outside DIR/runs, where "../outside" points.
	if err := os.Rename(RunDir(dir, p.Runs[0].ID), filepath.Join(dir, "outside")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, RunsDir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, RunsDir, "..", "outside", run.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, RunsDir, run.SummaryFile), filepath.Join(dir, RunsDir, "a", "b", run.SummaryFile)} {
		if err := os.WriteFile(f, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"../outside", "", "a/b", "..", "/outside", "ABCDEF012345", "0123456789ab/"} {
		q := *p
		q.Runs = []Point{p.Runs[0]}
		q.Runs[0].ID = id
		if err := q.Write(filepath.Join(dir, GridFile)); err != nil {
			t.Fatal(err)
		}
		rep, err := BuildReport(dir)
		if err != nil {
			t.Fatalf("id %q: %v", id, err)
		}
		r := rep.Rows[0]
		if r.Status != StatusFailed || r.FinalLoss != nil || !strings.Contains(r.Error, "not a run id") || !strings.Contains(r.Error, strconv.Quote(id)) {
			t.Errorf("id %q: row %s %q (loss %v); want failed, naming the id, nothing read", id, r.Status, r.Error, r.FinalLoss)
		}
		if _, err := Execute(context.Background(), &q, t.TempDir(), Options{Backends: cpuBackends}); err == nil || !strings.Contains(err.Error(), "not a run id") {
			t.Errorf("Execute with id %q: %v", id, err)
		}
	}
}
