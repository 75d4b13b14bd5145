package run

import (
	"bytes"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/probe"
)

// TestProgressResidualAndETA: an eigenvalue estimator's line shows its
// residual against the tolerance and the time left, extrapolated from the
// rate the residual fell since the last line printed (here by 10x per
// iteration, from 1e-1 at iteration 2 to 1e-2 at 3: one more iteration to
// reach 1e-3); a stage without a tolerance keeps the old line; quiet
// prints nothing.
func TestProgressResidualAndETA(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.interval = 0
	for it := 1; it <= 3; it++ {
		p.Record(probe.Progress{Stage: "lanczos", Iter: it, Max: 40, Estimate: 2.5, Residual: math.Pow(10, float64(1-it)), Tol: 1e-3})
		time.Sleep(5 * time.Millisecond)
	}
	p.Record(probe.Progress{Stage: "hutchinson", Iter: 1, Max: 10, Estimate: 7})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "residual 1.00e+00 (tol 1e-03)") || strings.Contains(lines[0], "ETA") {
		t.Errorf("first line %q: want the residual and no ETA yet", lines[0])
	}
	if ok, _ := regexp.MatchString(`lanczos +3/40 +estimate 2\.5 .*residual 1\.00e-02 \(tol 1e-03\)  ETA ~0s$`, lines[2]); !ok {
		t.Errorf("third line %q: want the residual and an extrapolated ETA", lines[2])
	}
	if strings.Contains(lines[3], "residual") || strings.Contains(lines[3], "ETA") {
		t.Errorf("a stage without a tolerance: %q", lines[3])
	}
	// A residual that does not fall: the ETA is the bound at Max.
	buf.Reset()
	p = NewProgress(&buf, false)
	p.interval = 0
	p.Record(probe.Progress{Stage: "power", Iter: 1, Max: 3, Residual: 0.5, Tol: 1e-3})
	p.Record(probe.Progress{Stage: "power", Iter: 2, Max: 3, Residual: 0.5, Tol: 1e-3})
	if !strings.Contains(buf.String(), "ETA <=") {
		t.Errorf("stalled residual: %q, want ETA <=", buf.String())
	}
	buf.Reset()
	p = NewProgress(&buf, true)
	p.interval = 0
	p.Record(probe.Progress{Stage: "power", Iter: 1, Max: 3, Residual: 0.5, Tol: 1e-3})
	if buf.Len() != 0 {
		t.Errorf("quiet printed %q", buf.String())
	}
}
