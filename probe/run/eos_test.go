package run

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// The edge of stability (Cohen et al. 2021) on a run small enough for CI:
// full-batch GD on a tanh MLP with MSE on 300 real images (scikit-learn's
// 8x8 digits), at lr = 1 (2/η = 2). The sharpness starts below 2/η, rises
// to it (progressive sharpening) and then hovers at it — every probe of the
// last third within 10% — while the loss keeps falling, non-monotonically.
func TestEdgeOfStability(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 1200 steps")
	}
	path := filepath.Join("..", "..", "..", "shared", "data", "sklearn", "digits.csv.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("needs %s (../shared/data beside the repository): %v", path, err)
	}
	cfg := &TrainConfig{
		Model:       models.Spec{Layers: []int{64, 64, 64, 10}, Activation: kernels.Tanh, Loss: models.MSE, Bias: true},
		Data:        path,
		Subset:      300,
		Standardize: true,
		Optimizer:   models.OptimizerSettings{Kind: "gd", LR: 1},
		Steps:       1200,
		ProbeEvery:  20,
		PowerTol:    1e-3,
		Seed:        1,
	}
	dir := t.TempDir()
	sum, recs := trainCPU(t, dir, cfg)
	if len(recs) != cfg.Steps+1 {
		t.Fatalf("log has %d records, want %d", len(recs), cfg.Steps+1)
	}
	bound := 2 / cfg.Optimizer.LR
	probes := probedRecords(recs)
	first := *probes[0].LambdaMax
	if first > 0.92*bound {
		t.Errorf("initial sharpness %.4g is already near 2/η = %.4g: no progressive sharpening to see", first, bound)
	}
	for _, r := range probes[2*len(probes)/3:] {
		if l := *r.LambdaMax; l < 0.9*bound || l > 1.1*bound {
			t.Errorf("step %d: sharpness %.4g is not within 10%% of 2/η = %.4g", r.Step, l, bound)
		}
		if *r.StabilityBound != bound {
			t.Errorf("step %d: stability bound %v, want %v", r.Step, *r.StabilityBound, bound)
		}
	}
	increases := 0
	for i := len(recs) / 3; i+1 < len(recs); i++ {
		if recs[i+1].Loss > recs[i].Loss {
			increases++
		}
	}
	if increases < 3 {
		t.Errorf("the loss rose at only %d steps after the first third: it should fall non-monotonically at the edge of stability", increases)
	}
	if last := recs[len(recs)-1].Loss; last > 0.1*recs[0].Loss {
		t.Errorf("loss fell only from %.4g to %.4g", recs[0].Loss, last)
	}
	if sum.Probes != len(probes) || sum.FinalSharpness == nil {
		t.Errorf("summary %+v does not match the log's %d probes", sum, len(probes))
	}
	t.Logf("sharpness %.4g -> %.4g (2/η = %.4g); loss %.4g -> %.4g with %d increases", first, *probes[len(probes)-1].LambdaMax, bound, recs[0].Loss, recs[len(recs)-1].Loss, increases)
	// The sharpness probes' cost: Lanczos from the previous probe's
	// eigenvector took 8.6 steps per probe (at most 15) where power
	// iteration took 71.9 (at most 225: 200 stalled power steps, then
	// Lanczos from a random vector).
	total, most := 0, 0
	for _, r := range probes {
		total += *r.LambdaMaxIters
		most = max(most, *r.LambdaMaxIters)
	}
	mean := float64(total) / float64(len(probes))
	if mean > 15 || most > 40 {
		t.Errorf("sharpness probes took %.1f iterations on average, at most %d: want at most 15 and 40", mean, most)
	}
	t.Logf("sharpness iterations per probe: mean %.1f, max %d over %d probes", mean, most, len(probes))
}
