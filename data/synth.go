package data

import (
	"fmt"
	"math"
)

// GaussianClasses returns n samples in d dimensions from classes Gaussian
// blobs: class k has mean sep·u_k, where the u_k are random unit vectors
// drawn with seed, and unit isotropic noise. Labels cycle 0, 1, ...,
// classes-1, so every class has n/classes samples (the first n%classes one
// more) and any run of consecutive samples is close to balanced.
func GaussianClasses(n, d, classes int, sep float64, seed uint64) (*Dataset, error) {
	if n <= 0 || d <= 0 || classes < 2 {
		return nil, fmt.Errorf("data: GaussianClasses(n=%d, d=%d, classes=%d): need n, d > 0 and at least 2 classes", n, d, classes)
	}
	if math.IsNaN(sep) || math.IsInf(sep, 0) {
		return nil, fmt.Errorf("data: GaussianClasses: separation %v is not finite", sep)
	}
	rng := newRand(seed, streamSynth)
	means := make([]float64, classes*d)
	for k := range classes {
		u := means[k*d : (k+1)*d]
		var norm float64
		for norm == 0 {
			norm = 0
			for j := range u {
				u[j] = rng.NormFloat64()
				norm += u[j] * u[j]
			}
		}
		norm = math.Sqrt(norm)
		for j := range u {
			u[j] *= sep / norm
		}
	}
	ds := &Dataset{
		Name: "gaussian", Source: fmt.Sprintf("GaussianClasses(n=%d, d=%d, classes=%d, sep=%g, seed=%d)", n, d, classes, sep, seed),
		N: n, D: d, Classes: classes,
		X: make([]float64, n*d), Labels: make([]int, n),
	}
	for i := range n {
		k := i % classes
		ds.Labels[i] = k
		row, mu := ds.Row(i), means[k*d:(k+1)*d]
		for j := range row {
			row[j] = mu[j] + rng.NormFloat64()
		}
	}
	return ds, nil
}

// TeacherStudent returns n regression samples from a random teacher network:
// x ~ N(0, I_d) and targets y = tanh(x W1 + b1) W2 + b2 of width out, with
// W1 [d, hidden] ~ N(0, 1/d), W2 [hidden, out] ~ N(0, 1/hidden) and biases
// ~ N(0, 0.1²), all drawn with seed. The targets are then of order one.
func TeacherStudent(n, d, out, hidden int, seed uint64) (*Dataset, error) {
	if n <= 0 || d <= 0 || out <= 0 || hidden <= 0 {
		return nil, fmt.Errorf("data: TeacherStudent(n=%d, d=%d, out=%d, hidden=%d): all sizes must be positive", n, d, out, hidden)
	}
	rng := newRand(seed, streamSynth+1)
	normal := func(dst []float64, std float64) {
		for i := range dst {
			dst[i] = std * rng.NormFloat64()
		}
	}
	w1 := make([]float64, d*hidden)
	b1 := make([]float64, hidden)
	w2 := make([]float64, hidden*out)
	b2 := make([]float64, out)
	normal(w1, 1/math.Sqrt(float64(d)))
	normal(b1, 0.1)
	normal(w2, 1/math.Sqrt(float64(hidden)))
	normal(b2, 0.1)
	ds := &Dataset{
		Name: "teacher", Source: fmt.Sprintf("TeacherStudent(n=%d, d=%d, out=%d, hidden=%d, seed=%d)", n, d, out, hidden, seed),
		N: n, D: d, C: out,
		X: make([]float64, n*d), Targets: make([]float64, n*out),
	}
	normal(ds.X, 1)
	h := make([]float64, hidden)
	for i := range n {
		x := ds.Row(i)
		copy(h, b1)
		for j, xj := range x {
			wr := w1[j*hidden : (j+1)*hidden]
			for k := range h {
				h[k] += xj * wr[k]
			}
		}
		y := ds.TargetRow(i)
		copy(y, b2)
		for k, hk := range h {
			hk = math.Tanh(hk)
			wr := w2[k*out : (k+1)*out]
			for c := range y {
				y[c] += hk * wr[c]
			}
		}
	}
	return ds, nil
}
