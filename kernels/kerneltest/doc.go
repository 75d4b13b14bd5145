// Package kerneltest is the conformance suite of kernels.Backend: every
// backend's tests call Run, which checks each method against the plain Go
// reference loops written here (the specification), through the Backend
// interface only (data is seen through Upload and Download), so the CPU
// backend and the CUDA backend run the same checks.
//
// The checks follow the house rules for kernels: every length 0..40 and
// awkward sizes (not multiples of a block size, one row, one column,
// 1000×37, one large enough for a backend to go parallel); seeded random
// inputs that are never zero; NaN guard values, with a payload no
// arithmetic produces, around every destination view and in the padding of
// every strided matrix, checked bit for bit afterwards; inputs checked
// unchanged; destinations aliasing inputs where kernels' docs allow it; and
// every comparison against a tolerance that is named, justified and scaled
// by Eps[T] and the magnitudes involved. Failures report the worst element:
// its index, got, want and tolerance.
package kerneltest
