package probe_test

import (
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/probe"
)

func TestEdgeOfStability(t *testing.T) {
	if got := probe.EdgeOfStability(4); got != 0.5 {
		t.Errorf("EdgeOfStability(4) = %v", got)
	}
	if got := probe.EdgeOfStability(-1); !math.IsInf(got, 1) {
		t.Errorf("EdgeOfStability(-1) = %v", got)
	}
}

func TestConditionNumber(t *testing.T) {
	if got := probe.ConditionNumber(10, -0.5); got != 20 {
		t.Errorf("got %v", got)
	}
	if got := probe.ConditionNumber(10, 0); !math.IsInf(got, 1) {
		t.Errorf("got %v", got)
	}
}

func TestClassify(t *testing.T) {
	var def probe.ClassifyTolerance
	for _, c := range []struct {
		min, max, grad float64
		tol            probe.ClassifyTolerance
		want           probe.CriticalPoint
	}{
		{1, 5, 0, def, probe.Minimum},
		{-5, -1, 0, def, probe.Maximum},
		{-1, 5, 0, def, probe.Saddle},
		{1e-9, 5, 0, def, probe.Degenerate},  // 1e-9 <= 1e-6*5: zero
		{-1e-9, 5, 0, def, probe.Degenerate}, // likewise
		{1e-9, 5, 0, probe.ClassifyTolerance{EigTol: 1e-12}, probe.Minimum},
		{0, 0, 0, def, probe.Degenerate},
		{-5, -1e-7, 0, def, probe.Degenerate},
		{1, 5, 1e-3, def, probe.NotCritical},
		{1, 5, 1e-3, probe.ClassifyTolerance{GradTol: 1e-2}, probe.Minimum},
		{1, 5, 1e-6, def, probe.Minimum}, // gradNorm <= GradTol
	} {
		if got := probe.Classify(c.min, c.max, c.grad, c.tol); got != c.want {
			t.Errorf("Classify(%v, %v, %v, %+v) = %v, want %v", c.min, c.max, c.grad, c.tol, got, c.want)
		}
	}
	names := map[probe.CriticalPoint]string{probe.Minimum: "minimum", probe.Maximum: "maximum", probe.Saddle: "saddle", probe.Degenerate: "degenerate", probe.NotCritical: "not critical", 17: "CriticalPoint(17)"}
	for c, want := range names {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for lambdaMin > lambdaMax")
		}
	}()
	probe.Classify(2, 1, 0, def)
}
