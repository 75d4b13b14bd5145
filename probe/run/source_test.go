package run

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/data"
	"github.com/curvprobe/curvprobe/internal/errtest"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/device"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
)

// problemFiles writes spec's model file and seeded weights into dir.
func problemFiles(t *testing.T, dir string, spec models.Spec, seed uint64) (model, weights string) {
	t.Helper()
	model, weights = filepath.Join(dir, "m.json"), filepath.Join(dir, "w.npz")
	loss := "cross_entropy"
	if spec.Loss == models.MSE {
		loss = "mse"
	}
	js := fmt.Sprintf(`{"layers":%s,"activation":"tanh","loss":%q,"bias":true}`, intsJSON(spec.Layers), loss)
	if err := os.WriteFile(model, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 2))
	params := make([]float64, spec.NumParams())
	for i := range params {
		params[i] = r.NormFloat64() * 0.3
	}
	if err := models.SaveWeights(weights, spec, params); err != nil {
		t.Fatal(err)
	}
	return model, weights
}

func intsJSON(v []int) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(x)
	}
	return s + "]"
}

// spectra opens the problem twice, as OpenProblem chooses (streamed when
// streamed is set) and loaded whole, and returns the two reports of loss,
// gradient norm and top eigenvalues. Lanczos takes 6 steps: each is a pass
// over the data, which a path that read a batch differently (or differently
// on a later pass) would change; converging adds nothing to the comparison.
func spectra(t *testing.T, ps ProblemSettings, streamed bool) [2]*SpectrumReport {
	t.Helper()
	var reps [2]*SpectrumReport
	for k, whole := range []bool{false, true} {
		ps.LoadWhole = whole
		p, err := OpenProblem(ps)
		if err != nil {
			t.Fatal(err)
		}
		if p.Streamed() != (streamed && !whole) {
			t.Fatalf("LoadWhole %v: Streamed %v", whole, p.Streamed())
		}
		if reps[k], err = p.Spectrum(context.Background(), SpectrumSettings{TopK: 3, Seed: 1, MaxSteps: 6}); err != nil && !errors.Is(err, probe.ErrNotConverged) {
			t.Fatal(err)
		}
		p.Close()
	}
	return reps
}

// sameReports fails t unless two reports agree bit for bit.
func sameReports(t *testing.T, what string, r [2]*SpectrumReport) {
	t.Helper()
	a, b := r[0], r[1]
	if a.Loss != b.Loss || a.GradNorm != b.GradNorm || !slices.Equal(a.TopEigenvalues, b.TopEigenvalues) {
		t.Errorf("%s: streamed loss %v grad %v top %v; loaded whole %v %v %v", what, a.Loss, a.GradNorm, a.TopEigenvalues, b.Loss, b.GradNorm, b.TopEigenvalues)
	}
}

// TestStreamedProblemMatchesLoaded: spectrum over data read from the file a
// batch at a time gives the loss, gradient norm and top eigenvalues of the
// same data loaded whole, bit for bit: on the MNIST test set (gzip'd IDX,
// 10 batches; a class-balanced subset of 2,500 standardised, whose last
// batch is partial; one-hot labels for MSE) and on an NPZ file of float32
// values in float32 and float64 (4 batches of 7 and a partial one; one-hot
// labels for MSE), where a standardised subset of one batch is read into
// memory. Loaded whole, the samples (and the one-hot encoding of their
// labels) are passed as views of the data set (data.Source.View), so that
// this compares the two ways a pass reads its samples.
func TestStreamedProblemMatchesLoaded(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", t.TempDir())
	cpu := device.Name{Kind: device.CPU}
	ds := &data.Dataset{N: 31, D: 5, Classes: 3, X: make([]float64, 31*5), Labels: make([]int, 31)}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range ds.X {
		ds.X[i] = float64(float32(r.NormFloat64()))
	}
	for i := range ds.Labels {
		ds.Labels[i] = r.IntN(3)
	}
	if err := data.SaveNPZ(filepath.Join(dir, "d.npz"), ds); err != nil {
		t.Fatal(err)
	}
	spec := models.Spec{Layers: []int{5, 6, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	m, w := problemFiles(t, t.TempDir(), spec, 1)
	for _, dt := range []kernels.DType{kernels.Float32, kernels.Float64} {
		sameReports(t, "npz "+dt.String(), spectra(t, ProblemSettings{Model: m, Weights: w, Data: filepath.Join(dir, "d.npz"), Batch: 7, DType: dt, Device: cpu}, true))
		mse := spec
		mse.Loss = models.MSE
		mm, mw := problemFiles(t, t.TempDir(), mse, 4)
		sameReports(t, "npz mse "+dt.String(), spectra(t, ProblemSettings{Model: mm, Weights: mw, Data: filepath.Join(dir, "d.npz"), Batch: 7, DType: dt, Device: cpu}, true))
	}
	// A subset of one batch is read into memory, from the one Open.
	sameReports(t, "npz subset", spectra(t, ProblemSettings{Model: m, Weights: w, Data: filepath.Join(dir, "d.npz"), Batch: 7, Subset: 6, Seed: 2, Standardize: true, Device: cpu}, false))

	mnist := filepath.Join("..", "..", "..", "shared", "data", "mnist")
	if _, err := os.Stat(mnist); err != nil {
		t.Skipf("shared MNIST not found: %v", err)
	}
	if testing.Short() {
		t.Skip("MNIST passes")
	}
	for _, loss := range []models.Loss{models.CrossEntropy, models.MSE} {
		spec := models.Spec{Layers: []int{784, 8, 10}, Activation: kernels.Tanh, Loss: loss, Bias: true}
		m, w := problemFiles(t, t.TempDir(), spec, 2)
		sameReports(t, "mnist "+loss.String(), spectra(t, ProblemSettings{Model: m, Weights: w, Data: mnist, Batch: 1000, Device: cpu}, true))
		sameReports(t, "mnist subset "+loss.String(), spectra(t, ProblemSettings{Model: m, Weights: w, Data: mnist, Batch: 1000, Subset: 2500, Seed: 3, Standardize: true, Device: cpu}, true))
	}
	if left, _ := os.ReadDir(os.Getenv("TMPDIR")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestStreamedProblemFileChanged: a probe set cut after OpenProblem makes
// the next pass fail with an error naming the file (data.ErrChanged), not
// a panic or values read past its end.
func TestStreamedProblemFileChanged(t *testing.T) {
	dir := t.TempDir()
	const n = 30
	im := make([]byte, 16+n*6)
	binary.BigEndian.PutUint32(im, 0x803)
	binary.BigEndian.PutUint32(im[4:], n)
	binary.BigEndian.PutUint32(im[8:], 2)
	binary.BigEndian.PutUint32(im[12:], 3)
	lb := make([]byte, 8+n)
	binary.BigEndian.PutUint32(lb, 0x801)
	binary.BigEndian.PutUint32(lb[4:], n)
	for i := range n * 6 {
		im[16+i] = byte(i * 37)
	}
	for i := range n {
		lb[8+i] = byte(i % 3)
	}
	images := filepath.Join(dir, "t10k-images-idx3-ubyte")
	if err := os.WriteFile(images, im, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte"), lb, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := models.Spec{Layers: []int{6, 4, 3}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	m, w := problemFiles(t, t.TempDir(), spec, 3)
	p, err := OpenProblem(ProblemSettings{Model: m, Weights: w, Data: dir, Batch: 7, Device: device.Name{Kind: device.CPU}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Streamed() {
		t.Fatal("30 samples in batches of 7 not streamed")
	}
	if err := os.Truncate(images, int64(len(im)-10)); err != nil {
		t.Fatal(err)
	}
	_, err = p.Spectrum(context.Background(), SpectrumSettings{TopK: 1, Seed: 1})
	if !errors.Is(err, data.ErrChanged) {
		t.Fatalf("Spectrum after the file was cut: %v, want data.ErrChanged", err)
	}
	errtest.Mentions(t, "Spectrum after the file was cut", err, images)
}
