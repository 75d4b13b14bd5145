package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/curvprobe/curvprobe/probe"
)

// progress prints estimator progress to stderr: a line redrawn in place on a
// terminal (at most 10 times a second), otherwise a line every 10 seconds,
// or nothing when quiet.
type progress struct {
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

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, start: time.Now(), interval: 10 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.interval = true, 100*time.Millisecond
		}
	}
	return p
}

// Record implements probe.Recorder.
func (p *progress) Record(pr probe.Progress) {
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
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
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
