package device

import "github.com/curvprobe/curvprobe/kernels"

// A Job is work that runs on a backend of either float type: Run calls the
// method of the type it chose, each an instantiation of the same generic
// code.
type Job interface {
	Float32(be kernels.Backend[float32]) error
	Float64(be kernels.Backend[float64]) error
}

// Backends open a backend of each float type: On's, or a test's.
type Backends struct {
	Float32 func() (kernels.Backend[float32], error)
	Float64 func() (kernels.Backend[float64], error)
}

// On returns the Backends that open n with o (Open).
func On(n Name, o Options) Backends {
	return Backends{
		Float32: func() (kernels.Backend[float32], error) { return Open[float32](n, o) },
		Float64: func() (kernels.Backend[float64], error) { return Open[float64](n, o) },
	}
}

// OpenError is an error opening a backend, as Run returns it: its text is
// the error's own, and callers that name the device's source (a flag, a
// setting) find it with errors.As.
type OpenError struct{ Err error }

// Error returns the text of the error opening the backend.
func (e *OpenError) Error() string { return e.Err.Error() }

// Unwrap returns the error opening the backend.
func (e *OpenError) Unwrap() error { return e.Err }

// Run opens the backend of dt with b and runs job's method of that type:
// the one place where a float type chosen at run time picks a generic
// instantiation. A failure to open is an *OpenError. dt must be Float32 or
// Float64 (a programmer's error otherwise: an unset DType has a default
// chosen above).
func Run(dt kernels.DType, b Backends, job Job) error {
	switch dt {
	case kernels.Float32:
		be, err := b.Float32()
		if err != nil {
			return &OpenError{err}
		}
		return job.Float32(be)
	case kernels.Float64:
		be, err := b.Float64()
		if err != nil {
			return &OpenError{err}
		}
		return job.Float64(be)
	}
	panic("device: Run with float type " + dt.String())
}
