// Package data holds datasets in host memory for curvprobe: loaders for
// NumPy (.npz, .npy), CSV, MNIST-style IDX and CIFAR-10 binary files,
// seeded synthetic generators, and seeded shuffling, subsetting, splitting,
// batching and standardisation.
//
// # Layout
//
// A Dataset stores its N samples row-major in one []float64 (N×D), with
// either integer class labels (for a cross-entropy loss) or an N×C matrix of
// float targets (for a mean-squared-error loss); OneHot turns the first into
// the second. Loaders convert every input type to float64; images are scaled
// to [0, 1] (IDX and CIFAR binary), while NPZ, NPY and CSV values are kept
// as stored (the CIFAR NPZ's uint8 pixels stay in 0..255: call Scale(1/255.)
// or Standardize). CIFAR binary images keep their CHW order; NPZ arrays of
// more than two dimensions are flattened in C order (so an HWC image stays
// HWC).
//
// # Ownership and aliasing
//
// Subset, First, Shuffle, Split, ClassBalanced, OneHot and Clone return new
// datasets that share no storage with their source. Slice and Row return
// views into the receiver's storage. Standardize, ApplyStandardize, Scale
// and SetClasses modify the receiver in place.
//
// # Determinism
//
// Everything random takes a seed and draws from its own math/rand/v2 PCG
// stream; there is no global random state. The same seed gives the same
// permutation, subset or synthetic data on every machine, and Shuffle,
// ClassBalanced and the generators use different streams, so reusing one
// seed for all of them does not correlate their draws.
//
// # Errors
//
// Bad files are errors that name the file, the array or column and, for a
// bad value, its row; programmer errors (indices out of range, mismatched
// lengths) panic with a message prefixed "data:". Nothing here prints:
// whatever a loader decided on the user's behalf (a skipped header line,
// labels cut to match a shorter images file) is recorded in Dataset.Notes.
package data
