// Package data holds datasets in host memory for curvprobe: loaders for
// NumPy (.npz, .npy), CSV, MNIST-style IDX and CIFAR-10 binary files,
// seeded synthetic generators, and seeded shuffling, subsetting, splitting,
// batching and standardisation. Open reads large sets' features from the
// file on demand instead (Source).
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
// # Sets read on demand
//
// Open returns a Source: the labels or targets in memory and the features
// read from the file by ReadX or ReadBatch, a batch at a time, converted as
// the loaders convert them, so that a probe set needs memory for one batch
// whatever its size. IDX images, NPY and stored NPZ arrays and CIFAR-10
// records are read where they lie, at offsets computed from headers parsed
// by the loaders' own code and checked against the file's size; gzip'd
// files and deflated NPZ members are decompressed once into a temporary
// file, unlinked as soon as it is made. Open checks what Load checks (in one
// pass over the file for the values) and fails with Load's errors; a read
// from a file whose size or modification time changed since Open fails with
// an error naming it (ErrChanged). Source.Sample and Source.Standardize
// choose and standardise the samples Dataset.Sample and Dataset.Standardize
// would, with the same values to the last bit, applied as each batch is
// read. CSV files, built-in data and Fortran-ordered NPY arrays are loaded
// into memory and seen through the same Source methods (Streamed reports
// which); FromDataset wraps a Dataset in memory as a Source, whose View
// hands out its samples where they lie. Training keeps its data in memory:
// its mini-batches are drawn from the whole set.
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
