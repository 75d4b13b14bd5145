package sweep

import (
	"testing"

	"github.com/curvprobe/curvprobe/probe/run"
)

// A probe the log flags as unconverged (the -33.7 with residual 1700 of a
// diverging run) is no sharpness: not final, not max, not above the bound,
// and not in the figure's series.
func TestFillSkipsUnconvergedSharpness(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	b := func(v bool) *bool { return &v }
	recs := []run.Record{
		{Step: 0, Loss: 1, LR: 0.5, LambdaMax: f(3), LambdaMaxConverged: b(true), StabilityBound: f(4)},
		{Step: 10, Loss: 2, LR: 0.5, LambdaMax: f(5), LambdaMaxConverged: b(true), StabilityBound: f(4)},
		{Step: 20, Loss: 3, LR: 0.5, LambdaMax: f(-33.7), LambdaMaxConverged: b(false), StabilityBound: f(4)},
		{Step: 30, Loss: 4, LR: 0.5, LambdaMax: f(900), LambdaMaxConverged: b(false), StabilityBound: f(4)},
	}
	var row Row
	row.Status = StatusDone
	row.fill(recs, 30)
	if row.Probes != 4 || row.FinalSharpness == nil || *row.FinalSharpness != 5 || *row.MaxSharpness != 5 {
		t.Errorf("probes %d, final %v, max %v: want 4 probes, final and max 5", row.Probes, sharpOpt(row.FinalSharpness), sharpOpt(row.MaxSharpness))
	}
	if row.FinalEtaLambda == nil || *row.FinalEtaLambda != 2.5 {
		t.Errorf("final lr*lambda_max %v, want 2.5", sharpOpt(row.FinalEtaLambda))
	}
	// Step 10's 5 > 4 holds for steps 10..19; the unconverged probes
	// decide nothing.
	if row.ProbesAboveBound != 1 || row.StepsAboveBound != 10 {
		t.Errorf("above bound: %d probes, %d steps; want 1 and 10", row.ProbesAboveBound, row.StepsAboveBound)
	}
	if len(row.sharpness) != 2 {
		t.Errorf("figure series %v, want the 2 converged probes", row.sharpness)
	}
}

func sharpOpt(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
