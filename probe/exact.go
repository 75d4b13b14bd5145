package probe

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// FullSpectrum is every eigenvalue of a dense symmetric matrix, computed by
// gonum's symmetric eigensolver (mat.EigenSym: LAPACK's Dsyev, Householder
// tridiagonalisation then implicit QL/QR). What it reports about the
// spectrum is exact up to that solver's backward error, about n·ε·‖A‖:
// the eigenvalues are those of a matrix within that distance of A.
type FullSpectrum struct {
	// Values holds the eigenvalues in ascending order.
	Values []float64
	// Vectors holds the eigenvectors as columns, in the order of Values,
	// when they were asked for; nil otherwise.
	Vectors *mat.Dense
}

// ErrEigen is returned when the symmetric eigensolver does not converge.
var ErrEigen = errors.New("probe: symmetric eigensolver did not converge")

// DenseSpectrum returns the full spectrum of a, and its eigenvectors when
// vectors is true. a is not modified (EigenSym works on a copy).
func DenseSpectrum(a mat.Symmetric, vectors bool) (*FullSpectrum, error) {
	var es mat.EigenSym
	if !es.Factorize(a, vectors) {
		return nil, ErrEigen
	}
	s := &FullSpectrum{Values: es.Values(nil)}
	for i, v := range s.Values {
		s.Values[i] = v + 0 // -0 becomes +0: a negative zero is never reported
	}
	if vectors {
		s.Vectors = new(mat.Dense)
		es.VectorsTo(s.Vectors)
	}
	return s, nil
}

// Fractions returns the fractions of eigenvalues above tol, below -tol and
// within [-tol, tol]: exact counts divided by their number.
func (s *FullSpectrum) Fractions(tol float64) (positive, negative, nearZero float64) {
	var p, m int
	for _, v := range s.Values {
		switch {
		case v > tol:
			p++
		case v < -tol:
			m++
		}
	}
	n := float64(len(s.Values))
	return float64(p) / n, float64(m) / n, float64(len(s.Values)-p-m) / n
}

// Moment returns (1/n) Σ λ^k, the k-th spectral moment (1/n) tr(A^k).
func (s *FullSpectrum) Moment(k int) float64 {
	sum := 0.0
	for _, v := range s.Values {
		sum += math.Pow(v, float64(k))
	}
	return sum/float64(len(s.Values)) + 0
}

// Trace returns Σ λ = tr A.
func (s *FullSpectrum) Trace() float64 {
	sum := 0.0
	for _, v := range s.Values {
		sum += v
	}
	return sum + 0
}

// NegativeMagnitude returns (1/n) Σ_{λ<0} |λ|.
func (s *FullSpectrum) NegativeMagnitude() float64 {
	sum := 0.0
	for _, v := range s.Values {
		sum += math.Max(-v, 0)
	}
	return sum/float64(len(s.Values)) + 0
}

// Grid returns n evenly spaced points x covering [λmin - 5σ, λmax + 5σ]
// and the spectral density broadened by a Gaussian of width sigma,
// y(x) = (1/n) Σ_i N(x; λ_i, σ²): the density SLQ estimates, here with
// every eigenvalue a node of weight 1/n.
func (s *FullSpectrum) Grid(n int, sigma float64) (x, y []float64) {
	if n < 2 || !(sigma > 0) {
		panic("probe: FullSpectrum.Grid needs n >= 2 and sigma > 0")
	}
	lo, hi := s.Values[0]-5*sigma, s.Values[len(s.Values)-1]+5*sigma
	x, y = make([]float64, n), make([]float64, n)
	c := 1 / (math.Sqrt(2*math.Pi) * sigma * float64(len(s.Values)))
	for i := range x {
		x[i] = lo + (hi-lo)*float64(i)/float64(n-1) + 0
		sum := 0.0
		for _, v := range s.Values {
			z := (x[i] - v) / sigma
			if z*z < 80 {
				sum += math.Exp(-0.5 * z * z)
			}
		}
		y[i] = c * sum
	}
	return x, y
}
