package run

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/curvprobe/curvprobe/probe"
)

// Progress prints estimator progress (a probe.Recorder) to a writer: a
// line redrawn in place on a terminal (at most 10 times a second),
// otherwise a line every 10 seconds, or nothing when quiet.
type Progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	quiet    bool
	last     time.Time
	start    time.Time
	drawn    bool
	interval time.Duration
	eta      etaState
}

// etaState follows one estimator stage for the time left: its last
// iteration, and the iteration, residual and time of the reference report
// (the stage's first, then the last one printed).
type etaState struct {
	stage   string
	iter    int
	refIter int
	refRes  float64
	ref     time.Time
}

// NewProgress returns a Progress printing to w, nothing when quiet.
func NewProgress(w io.Writer, quiet bool) *Progress {
	p := &Progress{w: w, quiet: quiet, start: time.Now(), interval: 10 * time.Second}
	if isTerminal(w) {
		p.tty, p.interval = true, 100*time.Millisecond
	}
	return p
}

// Record implements probe.Recorder.
func (p *Progress) Record(pr probe.Progress) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	e := &p.eta
	if pr.Stage != e.stage || pr.Iter <= e.iter {
		*e = etaState{stage: pr.Stage, refIter: pr.Iter, refRes: pr.Residual, ref: now}
	}
	e.iter = pr.Iter
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	msg := fmt.Sprintf("%-10s %4d/%-4d estimate %-12.6g %6.1fs", pr.Stage, pr.Iter, pr.Max, pr.Estimate, now.Sub(p.start).Seconds())
	if pr.Tol > 0 {
		msg += fmt.Sprintf("  residual %.2e (tol %.0e)%s", pr.Residual, pr.Tol, e.left(pr, now))
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", msg)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, msg)
}

// Done ends a redrawn line.
func (p *Progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

// Bar is a training progress bar (a StepReporter) on a writer: redrawn in
// place on a terminal, silent otherwise.
type Bar struct {
	w            io.Writer
	on           bool
	start        time.Time
	last         time.Time
	sharp, bound float64
	drawn        bool
}

// NewBar returns a Bar drawing on w, silent when quiet.
func NewBar(w io.Writer, quiet bool) *Bar {
	b := &Bar{w: w, start: time.Now()}
	b.on = !quiet && isTerminal(w)
	return b
}

// Step implements StepReporter.
func (b *Bar) Step(r *Record, steps int) {
	if r.LambdaMax != nil {
		// An unconverged estimate keeps the last sharpness on the bar.
		if v, ok := r.Sharpness(); ok {
			b.sharp = v
		}
		if r.StabilityBound != nil {
			b.bound = *r.StabilityBound
		}
	}
	if !b.on || (time.Since(b.last) < 100*time.Millisecond && r.Step != steps) {
		return
	}
	b.last = time.Now()
	frac := float64(r.Step) / float64(max(steps, 1))
	const width = 24
	n := int(frac * width)
	bars := make([]byte, width)
	for i := range bars {
		bars[i] = ' '
		if i < n {
			bars[i] = '='
		}
	}
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(float64(time.Since(b.start)) * (1 - frac) / frac)).Round(time.Second).String()
	}
	fmt.Fprintf(b.w, "\r\033[Kstep %d/%d [%s] loss %.4g  sharpness %.4g (bound %.4g)  ETA %s", r.Step, steps, bars, r.Loss, b.sharp, b.bound, eta)
	b.drawn = true
}

// Done ends the bar's line.
func (b *Bar) Done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

// isTerminal reports whether w is a terminal, where progress is redrawn in
// place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// left says how long the stage of pr has left, and makes pr the next
// reference: the iterations its residual still needs at the rate it fell
// since the reference report (at most the iterations left to Max), at the
// time per iteration since then; "" before there is a rate.
func (e *etaState) left(pr probe.Progress, now time.Time) string {
	done := pr.Iter - e.refIter
	if done <= 0 || pr.Max <= pr.Iter {
		return ""
	}
	per := now.Sub(e.ref) / time.Duration(done)
	rest, bound := pr.Max-pr.Iter, "<="
	if pr.Residual > 0 && e.refRes > pr.Residual {
		rate := math.Log(pr.Residual/e.refRes) / float64(done)
		if need := math.Ceil(math.Log(pr.Tol/pr.Residual) / rate); need < float64(rest) {
			rest, bound = max(int(need), 1), "~"
		}
	}
	e.refIter, e.refRes, e.ref = pr.Iter, pr.Residual, now
	return fmt.Sprintf("  ETA %s%s", bound, (per * time.Duration(rest)).Round(time.Second))
}
