package models

import (
	"errors"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
)

// CheckMemoryCulprit blames what the four refusals name (run.OpenProblem:
// --model or --weights, --batch, --data; run.Train: model, plan_batch,
// data or subset; bench hvp: --arch, --batch; bench lambda: --arch,
// --samples, --batch), each with the usage its caller checks, on a machine
// of 12 GiB available: the model when one sample in passes of one does not
// fit, the samples when they do not fit in passes of one, else the rows.
func TestCheckMemoryCulprit(t *testing.T) {
	be := &limitedBackend[float32]{Backend: cpu.New[float32](), mem: machine16}
	small := Spec{Layers: []int{8, 30, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	wide := Spec{Layers: []int{8, 1000000000, 3}, Activation: kernels.Tanh, Loss: CrossEntropy, Bias: true}
	// Fits with no sample, not with one (28 and 44 bytes a unit of input):
	// a model that cannot take a single sample is the model's fault.
	edge := Spec{Layers: []int{357913941, 1, 1}, Activation: kernels.Tanh, Loss: MSE, Bias: true}
	problem := func(samples, rows int) Usage { return Usage{Vectors: 4, HostVectors: 1, Samples: samples, Rows: rows} }
	train := func(samples, rows int) Usage { return Usage{Vectors: 5, HostVectors: 1, Samples: samples, Rows: rows} }
	hvp := func(batch int) Usage { return Usage{Vectors: 4, Samples: batch, Rows: batch} }
	lambda := func(samples, rows int) Usage { return Usage{Vectors: 3, Samples: samples, Rows: rows} }
	for _, c := range []struct {
		caller string
		spec   Spec
		u      Usage
		want   Culprit
	}{
		{"OpenProblem", small, problem(1000, 512), NoCulprit},
		{"OpenProblem --model", wide, problem(1000, 512), CulpritModel},
		{"OpenProblem --model", edge, problem(10, 1), CulpritModel},
		{"OpenProblem --data", small, problem(4000000000, 512), CulpritSamples},
		{"OpenProblem --batch", small, problem(1000, 10000000000), CulpritRows},
		{"Train", small, train(1000, 512), NoCulprit},
		{"Train model", wide, train(0, 512), CulpritModel},
		{"Train model", edge, train(10, 1), CulpritModel},
		{"Train subset/data", small, train(4000000000, 512), CulpritSamples},
		{"Train plan_batch", small, train(1000, 10000000000), CulpritRows},
		{"bench hvp", small, hvp(512), NoCulprit},
		{"bench hvp --arch", wide, hvp(512), CulpritModel},
		{"bench hvp --batch", small, hvp(4000000000), CulpritSamples},
		{"bench lambda", small, lambda(4096, 1024), NoCulprit},
		{"bench lambda --arch", wide, lambda(4096, 1024), CulpritModel},
		{"bench lambda --samples", small, lambda(4000000000, 1024), CulpritSamples},
		{"bench lambda --batch", small, lambda(4096, 10000000000), CulpritRows},
	} {
		_, got, err := CheckMemoryCulprit[float32](be, c.spec, c.u)
		if got != c.want || (err == nil) != (c.want == NoCulprit) {
			t.Errorf("%s, %s %+v: culprit %d, error %v; want culprit %d", c.caller, c.spec.Arch(), c.u, got, err, c.want)
		}
		if err != nil && (!errors.Is(err, ErrTooLarge) || !needsGiB.MatchString(err.Error())) {
			t.Errorf("%s: error %v, want CheckMemory's for the whole usage", c.caller, err)
		}
	}
	if be.allocs != 0 {
		t.Errorf("%d elements allocated", be.allocs)
	}
}
