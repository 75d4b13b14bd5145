package run

import (
	"bytes"
	"testing"
)

// TestSummaryWriteText checks the summary line of a completed run with a
// converged sharpness, and of a diverged run whose last probe came before
// its last step.
func TestSummaryWriteText(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	for _, c := range []struct {
		s    Summary
		want string
	}{
		{Summary{Steps: 100, StepsDone: 100, FinalLoss: 0.0123456789, FinalSharpness: f(19.87), MaxSharpness: f(20.5), FinalEtaLambda: f(1.987), FinalProbeStep: i(100), Seconds: 3.25},
			"run D: 100 steps, final loss 0.0123457, sharpness 19.87 (max 20.5), lr*lambda_max 1.99, 3.2s\n"},
		{Summary{Steps: 100, StepsDone: 42, Diverged: true, FinalLoss: 7, FinalSharpness: f(50), MaxSharpness: f(60), FinalProbeStep: i(40), UnconvergedProbes: 2, Seconds: 1},
			"run D: diverged after step 42 of 100, last logged loss 7, sharpness 50 (max 60) at step 40, 2 probes not converged, 1.0s\n"},
		{Summary{Steps: 10, StepsDone: 3, FinalLoss: 1}, "run D: stopped after step 3 of 10, last logged loss 1, 0.0s\n"},
	} {
		var b bytes.Buffer
		c.s.WriteText(&b, "D")
		if b.String() != c.want {
			t.Errorf("got  %q\nwant %q", b.String(), c.want)
		}
	}
}

// TestSpectrumReportWriteWarnings checks one warning for the whole
// matrix's Lanczos and one per unconverged layer block, none when all
// converged.
func TestSpectrumReportWriteWarnings(t *testing.T) {
	var b bytes.Buffer
	r := &SpectrumReport{Converged: false, LanczosSteps: 300, PerLayer: []LayerReport{{Layer: 0, Converged: true}, {Layer: 1, LanczosSteps: 40}}}
	r.WriteWarnings(&b)
	want := "curvprobe: warning: Lanczos stopped at 300 steps before reaching --tol; raise --max-steps (residuals are in the report)\n" +
		"curvprobe: warning: Lanczos on layer 1's block stopped at 40 steps before reaching --tol; raise --max-steps (residuals are in the report)\n"
	if b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
	b.Reset()
	(&SpectrumReport{Converged: true}).WriteWarnings(&b)
	if b.Len() != 0 {
		t.Errorf("converged report warned %q", b.String())
	}
}
