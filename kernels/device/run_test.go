package device

import (
	"errors"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// recordJob records which method Run called.
type recordJob struct{ got kernels.DType }

func (j *recordJob) Float32(be kernels.Backend[float32]) error {
	j.got = kernels.Float32
	return nil
}

func (j *recordJob) Float64(be kernels.Backend[float64]) error {
	j.got = kernels.Float64
	return nil
}

// Run calls the job's method of the float type asked for on a backend of
// that type; a failure to open is an *OpenError with the error's text; an
// unset type is a programmer's error.
func TestRun(t *testing.T) {
	b := On(Name{Kind: CPU}, Options{})
	for _, dt := range []kernels.DType{kernels.Float32, kernels.Float64} {
		var j recordJob
		if err := Run(dt, b, &j); err != nil || j.got != dt {
			t.Errorf("Run(%v) ran %v: %v", dt, j.got, err)
		}
	}
	boom := errors.New("boom")
	fail := Backends{
		Float32: func() (kernels.Backend[float32], error) { return nil, boom },
		Float64: func() (kernels.Backend[float64], error) { return nil, boom },
	}
	var j recordJob
	err := Run(kernels.Float64, fail, &j)
	var oe *OpenError
	if !errors.As(err, &oe) || !errors.Is(err, boom) || err.Error() != "boom" || j.got != kernels.DTypeUnset {
		t.Errorf("a failed open: %v (ran %v)", err, j.got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Run with an unset dtype did not panic")
		}
	}()
	Run(kernels.DTypeUnset, b, &j)
}
