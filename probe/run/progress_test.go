package run

import (
	"bytes"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

// TestProgressOffTerminal checks the displays on a writer that is not a
// terminal: Progress prints the first record as a plain line and then
// waits its interval, nothing when quiet; Bar stays silent.
func TestProgressOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.Record(probe.Progress{Stage: "lanczos", Iter: 3, Max: 300, Estimate: 12.5})
	p.Record(probe.Progress{Stage: "lanczos", Iter: 4, Max: 300, Estimate: 12.6})
	p.Done()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "lanczos       3/300  estimate 12.5") || strings.Contains(buf.String(), "\r") {
		t.Errorf("progress off a terminal: got %q, want one plain line for the first record", buf.String())
	}
	buf.Reset()
	q := NewProgress(&buf, true)
	q.Record(probe.Progress{Stage: "lanczos", Iter: 1, Max: 2})
	q.Done()
	b := NewBar(&buf, false)
	lm := 3.0
	b.Step(&Record{Step: 10, Loss: 1, LambdaMax: &lm}, 10)
	b.Done()
	if buf.Len() != 0 {
		t.Errorf("quiet progress and a bar off a terminal wrote %q", buf.String())
	}
	if b.sharp != 3 {
		t.Errorf("bar's sharpness %v, want 3 from the record", b.sharp)
	}
}
