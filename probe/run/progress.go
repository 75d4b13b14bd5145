package run

import (
	"fmt"
	"io"
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
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	msg := fmt.Sprintf("%-10s %4d/%-4d estimate %-12.6g %6.1fs", pr.Stage, pr.Iter, pr.Max, pr.Estimate, now.Sub(p.start).Seconds())
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
