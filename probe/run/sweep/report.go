package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/probe/run"
)

// Report files in a sweep directory.
const (
	ReportCSV      = "report.csv"
	ReportMarkdown = "report.md"
	PlotsDir       = "plots"
)

// Row is one run's line of a report. Its measurements come from the run's
// log (so that they exist for unfinished runs too, and agree with
// summary.json for finished ones); pointer fields are nil when not measured.
type Row struct {
	Run    *Point
	Status Status
	// Error is the error of a failed run (or the divergence message).
	Error string
	// Step is the last logged step (the run's length when it finished).
	Step int
	// FinalLoss is the loss of the last logged step; FinalTrainAcc and
	// FinalTestAcc are the accuracies of the last evaluation.
	FinalLoss, FinalTrainAcc, FinalTestAcc *float64
	// FinalSharpness and MaxSharpness are over the probes: λmax, or
	// λmax(P^-1 H) for Adam, as run.Summary; like it they leave out the
	// probes the log flags as unconverged (lambda_max_converged false).
	FinalSharpness, MaxSharpness *float64
	// FinalEtaLambda is lr·λmax at the last probe (run.Summary's
	// final_eta_lambda; 2 is the edge of stability for GD).
	FinalEtaLambda *float64
	// FinalBound is the optimizer's stability bound at the last probe
	// (2/η for GD and SGD, (2+2β)/η for heavy ball).
	FinalBound *float64
	// ProbesAboveBound counts the probes whose sharpness was above the
	// bound (run.Summary's steps_above_bound).
	ProbesAboveBound int
	// StepsAboveBound counts optimizer steps taken while the latest probe's
	// sharpness was above the bound: a probe at step s stands for the steps
	// s, s+1, ... up to the next probe (exclusive); after the last probe, up
	// to the end of the run (the last step for a finished run, whose final
	// probe is at that step and so counts no steps; the last logged step + 1
	// for an unfinished one). It is exact in the steps counted, with the
	// sharpness between probes taken as the preceding probe's.
	StepsAboveBound int
	// Probes is the number of probes logged.
	Probes int

	// sharpness holds (step, sharpness, bound) of every probe, for the
	// figures; bound is NaN when not logged.
	sharpness [][3]float64
}

// Report is a sweep's table: one Row per run of its grid, in grid order.
type Report struct {
	Grid *Grid
	Rows []Row
}

// BuildReport reads dir/sweep.json and every run's directory. A run whose id
// is not a run id (ValidID: an edited sweep.json) gets a failed row that says
// so, and nothing outside dir/runs is read.
func BuildReport(dir string) (*Report, error) {
	p, err := LoadGrid(filepath.Join(dir, GridFile))
	if err != nil {
		return nil, err
	}
	rep := &Report{Grid: p, Rows: make([]Row, len(p.Runs))}
	for i := range p.Runs {
		r := &p.Runs[i]
		row := &rep.Rows[i]
		row.Run = r
		if !ValidID(r.ID) {
			// An edited sweep.json: read nothing outside DIR/runs.
			row.Status = StatusFailed
			row.Error = fmt.Sprintf("%s: run %d: id %q is not a run id (%d hex digits); its directory is not read", GridFile, i, r.ID, IDLength)
			continue
		}
		rd := RunDir(dir, r.ID)
		var sum *run.Summary
		row.Status, sum, row.Error = RunStatus(rd)
		row.Error = strings.TrimSpace(row.Error)
		if row.Status == StatusPending {
			continue
		}
		recs, err := run.ReadLog(filepath.Join(rd, run.LogFile))
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			// One unreadable log costs its row's measurements, not the
			// report: the row says why.
			if row.Error != "" {
				row.Error += "; "
			}
			row.Error += err.Error()
			if row.Status.Complete() {
				row.Status = StatusFailed
			}
			continue
		}
		row.fill(recs, r.Config.Steps)
		if sum != nil && sum.StepsDone > row.Step {
			// The log lost its last records after the run ended (a cut
			// line is dropped when read): the summary knows how far it got.
			if row.Error != "" {
				row.Error += "; "
			}
			row.Error += fmt.Sprintf("%s ends at step %d, the run at step %d", run.LogFile, row.Step, sum.StepsDone)
			row.Step = sum.StepsDone
		}
	}
	return rep, nil
}

// fill computes the row's measurements from the log.
func (row *Row) fill(recs []run.Record, steps int) {
	if len(recs) == 0 {
		return
	}
	last := recs[len(recs)-1]
	row.Step = last.Step
	end := last.Step + 1
	if row.Status == StatusDone {
		end = steps
	}
	end = min(end, steps)
	prev, above := -1, false
	for i := range recs {
		r := &recs[i]
		row.FinalLoss = ptr(r.Loss)
		if r.TrainAcc != nil {
			row.FinalTrainAcc = ptr(*r.TrainAcc)
		}
		if r.TestAcc != nil {
			row.FinalTestAcc = ptr(*r.TestAcc)
		}
		if !r.Probed() {
			continue
		}
		if above {
			row.StepsAboveBound += r.Step - prev
		}
		row.Probes++
		sharp, ok := r.Sharpness()
		if !ok {
			// An unconverged estimate (lambda_max_converged false) is no
			// sharpness: it is not a value, nor above or below the bound.
			prev, above = r.Step, false
			continue
		}
		row.FinalSharpness = ptr(sharp)
		if row.MaxSharpness == nil || sharp > *row.MaxSharpness {
			row.MaxSharpness = ptr(sharp)
		}
		if r.LambdaMaxConverged == nil || *r.LambdaMaxConverged {
			row.FinalEtaLambda = ptr(r.LR * *r.LambdaMax)
		}
		row.FinalBound = nil
		above = false
		bound := math.NaN()
		if r.StabilityBound != nil {
			row.FinalBound = ptr(*r.StabilityBound)
			bound = *r.StabilityBound
			if sharp > *r.StabilityBound {
				row.ProbesAboveBound++
				above = true
			}
		}
		row.sharpness = append(row.sharpness, [3]float64{float64(r.Step), sharp, bound})
		prev = r.Step
	}
	if above && end > prev {
		row.StepsAboveBound += end - prev
	}
}

func ptr(v float64) *float64 { return &v }

// Columns returns the report's column names: id, the axes, then the
// measurements.
func (rep *Report) Columns() []string {
	cols := append([]string{"id"}, rep.Grid.Axes...)
	return append(cols, "status", "step", "final_loss", "final_train_acc", "final_test_acc",
		"final_sharpness", "max_sharpness", "final_eta_lambda", "final_bound",
		"probes_above_bound", "steps_above_bound", "error")
}

// cells returns the row's cells, numbers formatted by num.
func (rep *Report) cells(row *Row, num func(float64) string) []string {
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return num(*v)
	}
	c := []string{row.Run.ID}
	for _, v := range row.Run.Values {
		c = append(c, string(v))
	}
	measured := row.Status != StatusPending
	steps := ""
	above, aboveSteps := "", ""
	if measured && row.Probes > 0 {
		above, aboveSteps = strconv.Itoa(row.ProbesAboveBound), strconv.Itoa(row.StepsAboveBound)
	}
	if measured && row.FinalLoss != nil {
		steps = strconv.Itoa(row.Step)
	}
	errText := ""
	if row.Status == StatusFailed {
		errText = row.Error
	}
	return append(c, string(row.Status), steps, opt(row.FinalLoss), opt(row.FinalTrainAcc), opt(row.FinalTestAcc),
		opt(row.FinalSharpness), opt(row.MaxSharpness), opt(row.FinalEtaLambda), opt(row.FinalBound),
		above, aboveSteps, errText)
}

// WriteCSV writes the report as CSV: a header, one row per run, numbers in
// the shortest form that reads back exactly, empty cells where nothing was
// measured. It holds no timings, so equal runs give equal files.
func (rep *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(rep.Columns())
	for i := range rep.Rows {
		cw.Write(rep.cells(&rep.Rows[i], func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }))
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the report as a Markdown table, numbers to four
// significant digits, followed by a count of runs per status.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	cols := rep.Columns()
	esc := func(s string) string {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
		if len(s) > 80 {
			s = s[:77] + "..."
		}
		return s
	}
	var b strings.Builder
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|")
	for range cols {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for i := range rep.Rows {
		cells := rep.cells(&rep.Rows[i], func(v float64) string {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return strconv.FormatFloat(v, 'g', -1, 64)
			}
			return strconv.FormatFloat(v, 'g', 4, 64)
		})
		for j := range cells {
			cells[j] = esc(cells[j])
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	counts := map[Status]int{}
	for i := range rep.Rows {
		counts[rep.Rows[i].Status]++
	}
	b.WriteString(fmt.Sprintf("\n%d runs:", len(rep.Rows)))
	for _, s := range []Status{StatusDone, StatusDiverged, StatusFailed, StatusIncomplete, StatusPending} {
		if counts[s] > 0 {
			b.WriteString(fmt.Sprintf(" %d %s", counts[s], s))
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteReport builds the report of the sweep in dir and writes
// dir/report.csv, dir/report.md and the figures in dir/plots (PlotReport).
// It returns the report and the paths written; a figure that fails does
// not stop the others, and its error comes back with the report.
func WriteReport(dir string) (*Report, []string, error) {
	rep, err := BuildReport(dir)
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{{ReportCSV, rep.WriteCSV}, {ReportMarkdown, rep.WriteMarkdown}} {
		path := filepath.Join(dir, f.name)
		out, err := os.Create(path)
		if err != nil {
			return rep, paths, err
		}
		err = f.write(out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return rep, paths, fmt.Errorf("%s: %w", path, err)
		}
		paths = append(paths, path)
	}
	figs, err := PlotReport(dir, rep)
	return rep, append(paths, figs...), err
}
