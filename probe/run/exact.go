package run

import (
	"context"
	"fmt"
	"math"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/models"
	"github.com/curvprobe/curvprobe/probe"
	"gonum.org/v1/gonum/mat"
)

// ExactMode says whether Spectrum assembles the dense Hessian (or GGN) and
// computes its full spectrum instead of estimating it by Lanczos and SLQ.
type ExactMode int

const (
	// ExactAuto is exact below ExactThreshold parameters, Lanczos above.
	ExactAuto ExactMode = iota
	// ExactAlways is exact whatever the size, within MaxExactBytes.
	ExactAlways
	// ExactNever always estimates by Lanczos (and SLQ, Hutchinson).
	ExactNever
)

// ExactThreshold is the parameter count below which ExactAuto assembles
// the dense matrix: n products (in blocks of exactBlock) and an O(n³)
// symmetric eigensolve (gonum's pure-Go Dsyev), against the Lanczos
// defaults (top-1 and bottom-1 to 1e-8) alone and with --trace --density
// (100 Hutchinson products, 10 SLQ probes × 80 steps). Measured by
// TestExactCrossover (CURVPROBE_CROSSOVER=1) on 20xHx5 tanh cross-entropy
// MLPs with 300 samples in float64, on the project's 2-core build machine
// (AMD Zen, OpenBLAS 0.3.21 for the products) while other jobs held a load
// of about 9, 2026-12-01; seconds (products):
//
//	   n   Lanczos      Lanczos+trace+density   exact
//	 499   0.07 (60)    1.10 (960)              0.23 (499)
//	 993   0.05 (85)    1.07 (985)              2.15 (993)
//	1513   0.05 (70)    1.30 (970)             15.90 (1513)
//	2007   0.30 (105)   7.11 (1005)            39.41 (2007)
//	4009   1.04 (125)   5.41 (1025)           680.51 (4009)
//
// The eigensolve's n³ dominates from about 1,000 parameters on (gonum's
// Dsytrd runs on gonum's own BLAS, not OpenBLAS: at the 1 GiB bound,
// 11,585 parameters, --exact would take hours on such a machine). Below
// 1,000 exact mode costs at most about twice the density estimate and
// stays near a second, and it answers what the estimates cannot (the
// counts of positive and near-zero eigenvalues); above, it is 10 to 100
// times slower, so it is left to --exact.
const ExactThreshold = 1000

// DefaultMaxExactBytes bounds the dense matrix (n·n·8 bytes) that exact
// mode assembles when SpectrumSettings.MaxExactBytes is zero: 1 GiB, that
// is n ≤ 11585. The eigensolver works on a copy, so the peak host memory
// is about twice that.
const DefaultMaxExactBytes = 1 << 30

// exactBlock is the number of unit vectors applied together (one
// ApplyBatch: one forward pass per data batch, GEMMs with exactBlock
// times the rows).
const exactBlock = 16

// ExactReport says how an exact spectrum was computed.
type ExactReport struct {
	// Method names the assembly and the solver.
	Method string `json:"method"`
	// Asymmetry is max |H_ij - H_ji| / max |H_ij| of the assembled matrix
	// before it was symmetrised ((H + Hᵀ)/2): the rounding of the products.
	Asymmetry float64 `json:"asymmetry"`
	// Bytes is the size of the dense matrix, n·n·8.
	Bytes int64 `json:"bytes"`
}

// DefaultMaxExactN returns the largest parameter count whose dense matrix
// fits DefaultMaxExactBytes.
func DefaultMaxExactN() int { return int(math.Sqrt(DefaultMaxExactBytes / 8)) }

// ExactBytes returns the bytes of the dense float64 matrix of n
// parameters, n·n·8.
func ExactBytes(n int) int64 { return int64(n) * int64(n) * 8 }

// UseExact reports whether Spectrum with mode and maxBytes (0: the
// default) computes the exact spectrum of n parameters, and an error when
// ExactAlways asks for a matrix above the memory bound.
func UseExact(mode ExactMode, n int, maxBytes int64) (bool, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxExactBytes
	}
	switch mode {
	case ExactNever:
		return false, nil
	case ExactAlways:
		if b := ExactBytes(n); b > maxBytes {
			return false, fmt.Errorf("exact: a dense Hessian of %d parameters needs %d MiB (n·n·8 bytes, twice that while solving), above the limit of %d MiB; estimate by Lanczos instead",
				n, b>>20, maxBytes>>20)
		}
		return true, nil
	}
	return n < ExactThreshold && ExactBytes(n) <= maxBytes, nil
}

// assemble returns the dense matrix of op, symmetrised, and the relative
// asymmetry before symmetrisation. Row j holds op·e_j (which is column j).
// op is the whole matrix's operator or a layer block's.
func assemble[T kernels.Float](ctx context.Context, op probe.BatchOperator[kernels.Buffer], be kernels.Backend[T]) (*mat.SymDense, float64, error) {
	n := op.Dim()
	data := make([]float64, n*n)
	k := min(exactBlock, n)
	e, h := make([]kernels.Buffer, k), make([]kernels.Buffer, k)
	for i := range e {
		e[i], h[i] = be.Alloc(n), be.Alloc(n)
	}
	defer func() {
		for i := range e {
			be.Free(e[i])
			be.Free(h[i])
		}
	}()
	col := make([]T, n)
	for j0 := 0; j0 < n; j0 += k {
		m := min(k, n-j0)
		for i := 0; i < m; i++ {
			be.Fill(e[i], 0)
			be.Fill(be.View(e[i], j0+i, 1), 1)
		}
		if err := op.ApplyBatch(ctx, h[:m], e[:m]); err != nil {
			return nil, 0, err
		}
		for i := 0; i < m; i++ {
			be.Download(col, h[i])
			row := data[(j0+i)*n : (j0+i+1)*n]
			for c, v := range col {
				row[c] = float64(v)
			}
		}
	}
	var asym, scale float64
	for i := 0; i < n; i++ {
		scale = math.Max(scale, math.Abs(data[i*n+i]))
		for j := i + 1; j < n; j++ {
			a, b := data[i*n+j], data[j*n+i]
			asym = math.Max(asym, math.Abs(a-b))
			scale = math.Max(scale, math.Max(math.Abs(a), math.Abs(b)))
			data[i*n+j] = (a + b) / 2 // SymDense reads the upper triangle
		}
	}
	if scale > 0 {
		asym /= scale
	}
	return mat.NewSymDense(n, data), asym, nil
}

// exactSpectrum fills rep from the full spectrum of op: the top and bottom
// eigenvalues, and with s.Trace and s.Density the exact trace, fractions
// and moments. It returns the number of products.
func exactSpectrum[T kernels.Float](ctx context.Context, op *models.Operator[T], be kernels.Backend[T], s SpectrumSettings, rep *SpectrumReport) (int, error) {
	n := op.Dim()
	a, asym, err := assemble(ctx, op, be)
	if err != nil {
		return 0, fmt.Errorf("exact: %w", err)
	}
	fs, err := probe.DenseSpectrum(a, s.Vectors)
	if err != nil {
		return 0, fmt.Errorf("exact: %w", err)
	}
	rep.Method = "exact"
	rep.Exact = &ExactReport{Method: fmt.Sprintf("dense %s of %d parameters, gonum EigenSym", curvatureMatrix(s.Curvature), n), Asymmetry: asym, Bytes: ExactBytes(n)}
	rep.Converged = true
	lam := fs.Values
	nt, nb := min(s.TopK, n), min(s.BottomK, n)
	rep.TopEigenvalues, rep.BottomEigenvalues = make([]float64, nt), make([]float64, nb)
	for i := 0; i < nt; i++ {
		rep.TopEigenvalues[i] = lam[n-1-i]
		if s.Vectors {
			rep.TopVectors = append(rep.TopVectors, mat.Col(nil, n-1-i, fs.Vectors))
		}
	}
	for i := 0; i < nb; i++ {
		rep.BottomEigenvalues[i] = lam[i]
		if s.Vectors {
			rep.BottomVectors = append(rep.BottomVectors, mat.Col(nil, i, fs.Vectors))
		}
	}
	// Residual bounds are 0: the eigenvalues are those of the assembled
	// matrix, to the eigensolver's backward error (about n·ε·max|λ|), not
	// Ritz values with a residual.
	rep.TopResiduals, rep.BottomResiduals = make([]float64, nt), make([]float64, nb)
	rep.ResidualFloor = residualFloor(kernels.ElemSize[T](), rep.TopEigenvalues, rep.BottomEigenvalues)
	if s.Trace {
		rep.Trace = &TraceReport{Value: fs.Trace(), StdErr: 0, Probes: 0, Method: "exact"}
	}
	if s.Density {
		lo, hi := lam[0], lam[n-1]
		sigma, npts := s.densityGrid(lo, hi)
		x, y := fs.Grid(npts, sigma)
		dr := &DensityReport{Sigma: sigma, Grid: x, Density: y, NegativeMagnitude: fs.NegativeMagnitude(),
			Nodes: [][]float64{}, Weights: [][]float64{}}
		dr.ZeroTol = 1e-3 * math.Max(math.Abs(lo), math.Abs(hi))
		dr.Fractions = exactFractions(fs, dr.ZeroTol)
		dr.FractionPositive, dr.NegativeMass, dr.NearZero = fs.Fractions(dr.ZeroTol)
		for k := 1; k <= 4; k++ {
			dr.Moments = append(dr.Moments, fs.Moment(k))
			dr.MomentStdErrs = append(dr.MomentStdErrs, 0)
		}
		rep.Density = dr
	}
	return n, nil
}

func curvatureMatrix(c models.Curvature) string {
	if c == models.GaussNewton {
		return "Gauss-Newton matrix"
	}
	return "Hessian"
}
