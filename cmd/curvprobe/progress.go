package main

import (
	"fmt"
	"io"
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
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
