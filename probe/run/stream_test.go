package run

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
)

// With a basis budget too small for 100 vectors (a large model's case),
// Spectrum's λmax and λmin come from Lanczos without a stored basis and
// equal the dense Hessian's extreme eigenvalues (gonum EigenSym) to 1e-8
// relative, with lanczos_basis "none" in the report and its text; top-k 2
// still keeps a basis.
func TestSpectrumStreamsLargeModels(t *testing.T) {
	spec := models.Spec{Layers: []int{7, 12, 9, 4}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, d := exactNet(t, spec, 40, 5)
	n := p.NumParams()
	vals, _ := denseBlockEigenvalues(t, p, d, models.Hessian) // descending
	lmax, lmin := vals[0], vals[len(vals)-1]

	old := basisBudget
	defer func() { basisBudget = old }()
	basisBudget = int64(99 * n * 8) // 99 vectors: under the 100 that keep a basis

	rep, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 1, BottomK: 1, Tol: 1e-10, Exact: ExactNever})
	if err != nil {
		t.Fatal(err)
	}
	if rep.LanczosBasis != "none" {
		t.Fatalf("lanczos_basis %q, want none", rep.LanczosBasis)
	}
	scale := math.Max(math.Abs(lmax), math.Abs(lmin))
	if got := rep.TopEigenvalues[0]; math.Abs(got-lmax) > 1e-8*scale {
		t.Errorf("λmax %.15g, dense %.15g", got, lmax)
	}
	if got := rep.BottomEigenvalues[0]; math.Abs(got-lmin) > 1e-8*scale {
		t.Errorf("λmin %.15g, dense %.15g", got, lmin)
	}
	var b strings.Builder
	rep.WriteText(&b, spec)
	if !strings.Contains(b.String(), "(no stored basis)") {
		t.Errorf("text does not say the basis was not stored:\n%s", b.String())
	}

	rep2, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 2, Tol: 1e-10, Exact: ExactNever})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.LanczosBasis != "" {
		t.Errorf("top-k 2: lanczos_basis %q, want a stored basis", rep2.LanczosBasis)
	}
	basisBudget = old
	rep3, err := Spectrum(context.Background(), p, d, SpectrumSettings{TopK: 1, BottomK: 1, Tol: 1e-10, Exact: ExactNever})
	if err != nil {
		t.Fatal(err)
	}
	if rep3.LanczosBasis != "" {
		t.Errorf("small model: lanczos_basis %q, want a stored basis", rep3.LanczosBasis)
	}
}
