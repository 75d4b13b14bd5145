package run

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// TestExactCrossover times exact mode against the Lanczos defaults (top-1
// and bottom-1) with and without --trace --density (100 Hutchinson
// products, 10 SLQ probes × 80 steps) on 20xHx5 tanh cross-entropy MLPs
// with 300 samples, float64: the measurement behind ExactThreshold. It runs
// only with CURVPROBE_CROSSOVER=1 (minutes); CURVPROBE_CROSSOVER_H lists
// hidden widths (default 19 38 58 77 154: 499 to 4,009 parameters).
func TestExactCrossover(t *testing.T) {
	if os.Getenv("CURVPROBE_CROSSOVER") != "1" {
		t.Skip("set CURVPROBE_CROSSOVER=1 to time exact mode against Lanczos")
	}
	widths := []int{19, 38, 58, 77, 154}
	if s := os.Getenv("CURVPROBE_CROSSOVER_H"); s != "" {
		widths = nil
		for _, f := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
			h, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			widths = append(widths, h)
		}
	}
	ctx := context.Background()
	for _, h := range widths {
		spec := models.Spec{Layers: []int{20, h, 5}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
		p, d := exactNet(t, spec, 300, uint64(h))
		timeIt := func(s SpectrumSettings) (float64, int) {
			start := time.Now()
			rep, err := Spectrum(ctx, p, d, s)
			if err != nil {
				t.Fatal(err)
			}
			return time.Since(start).Seconds(), rep.HVPs
		}
		tl, hl := timeIt(SpectrumSettings{TopK: 1, BottomK: 1, Exact: ExactNever})
		td, hd := timeIt(SpectrumSettings{TopK: 1, BottomK: 1, Trace: true, Density: true, Exact: ExactNever})
		te, he := timeIt(SpectrumSettings{TopK: 1, BottomK: 1, Trace: true, Density: true, Exact: ExactAlways})
		t.Logf("n %5d: lanczos %.2fs (%d products), lanczos+trace+density %.2fs (%d), exact %.2fs (%d)", p.NumParams(), tl, hl, td, hd, te, he)
	}
}
