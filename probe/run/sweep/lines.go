package sweep

import (
	"fmt"
	"io"
	"sync"
)

// Lines is a Reporter that writes one line per run start and end (and per
// run left to another process) to a writer, as `curvprobe sweep run` shows
// them; it is safe for concurrent use.
type Lines struct {
	mu   sync.Mutex
	w    io.Writer
	axes []string
}

// Event implements Reporter.
func (s *Lines) Event(e *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tag := fmt.Sprintf("sweep: [%d/%d] %s", e.N, e.Total, e.Run.ID)
	switch e.Kind {
	case EventBusy:
		fmt.Fprintf(s.w, "%s busy: another process is training it; left to it\n", tag)
	case EventStart:
		how := ""
		if e.Resume {
			how = " (resuming from its checkpoint)"
		}
		fmt.Fprintf(s.w, "%s start %s%s\n", tag, e.Run.Label(s.axes), how)
	case EventEnd:
		msg := string(e.Status)
		if sum := e.Summary; sum != nil && e.Status.Complete() {
			msg += fmt.Sprintf(": final loss %.6g", sum.FinalLoss)
			if sum.FinalSharpness != nil && sum.MaxSharpness != nil && sum.FinalEtaLambda != nil {
				msg += fmt.Sprintf(", sharpness %.4g (max %.4g), lr*lambda_max %.3g", *sum.FinalSharpness, *sum.MaxSharpness, *sum.FinalEtaLambda)
			}
		}
		switch e.Status {
		case StatusFailed:
			msg = "FAILED: " + e.Err.Error()
		case StatusIncomplete:
			msg = "interrupted (resumes on rerun)"
		}
		if e.ByOther {
			msg = string(e.Status) + " by another process; skipped"
		}
		if e.Elapsed > 0 {
			msg += fmt.Sprintf(" in %.1fs", e.Elapsed.Seconds())
		}
		fmt.Fprintf(s.w, "%s %s\n", tag, msg)
	}
}

// NewLines returns a Lines writing to w, labelling runs by their values
// on axes.
func NewLines(w io.Writer, axes []string) *Lines { return &Lines{w: w, axes: axes} }
