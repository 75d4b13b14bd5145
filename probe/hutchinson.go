package probe

import (
	"context"
	"math"
	"time"
)

// TraceSettings configures Hutchinson and HutchPP. The zero value is usable.
type TraceSettings struct {
	// Probes is the number of operator applications. Zero means 100.
	// HutchPP needs at least 3.
	Probes int
	// Seed seeds the Rademacher probes; probe j uses a seed derived from
	// (Seed, j).
	Seed uint64
	// Recorder, if not nil, receives a Progress after every probe with
	// the running trace estimate.
	Recorder Recorder
}

// TraceResult is the outcome of a trace estimator.
type TraceResult struct {
	// Value is the estimate of tr(H).
	Value float64
	// StdErr is the estimated standard error of Value: the sample standard
	// deviation of the stochastic terms over the square root of their
	// number (+Inf with a single term, NaN with none).
	StdErr float64
	// Probes is the number of probes used (random vectors, including the
	// sketch of HutchPP).
	Probes int
	// Stats counts the work done.
	Stats Stats
}

func (s TraceSettings) probes() int {
	if s.Probes < 0 {
		panic("probe: negative TraceSettings.Probes")
	}
	if s.Probes == 0 {
		return 100
	}
	return s.Probes
}

// Hutchinson estimates tr(H) by Hutchinson's estimator (Hutchinson 1989):
// the mean of z·Hz over Rademacher vectors z, unbiased with variance
// 2(‖H‖_F² - Σ H_ii²)/Probes. On cancellation it returns the estimate from
// the probes completed so far with ctx.Err().
func Hutchinson[V any](ctx context.Context, op Operator[V], sp Space[V], s TraceSettings) (*TraceResult, error) {
	start := time.Now()
	probes := s.probes()
	n := op.Dim()
	z := sp.Alloc(n)
	hz := sp.Alloc(n)
	defer sp.Free(z)
	defer sp.Free(hz)
	samples := make([]float64, 0, probes)
	res := &TraceResult{}
	var err error
	for j := 0; j < probes; j++ {
		if err = ctx.Err(); err != nil {
			break
		}
		sp.Rademacher(z, subSeed(s.Seed, j))
		if err = op.Apply(ctx, hz, z); err != nil {
			break
		}
		res.Stats.Applies++
		res.Stats.Iterations++
		samples = append(samples, sp.Dot(z, hz))
		m, _ := meanStdErr(samples)
		record(s.Recorder, "hutchinson", j+1, probes, m)
	}
	res.Value, res.StdErr = meanStdErr(samples)
	res.Probes = len(samples)
	res.Stats.Elapsed = time.Since(start)
	return res, err
}

// HutchPP estimates tr(H) by Hutch++ (Meyer, Musco, Musco, Woodruff 2021).
// Of the Probes applications, k = Probes/3 sketch the range of H: Q is an
// orthonormal basis of H S for Rademacher S (Gram-Schmidt, twice, in the
// Space), and tr(Q^T H Q) is computed exactly with k more; the remaining
// Probes-2k estimate the trace of the deflated (I-QQ^T) H (I-QQ^T) by
// Hutchinson. Sketch columns that add nothing to Q (dependent on earlier
// ones, or Q already spanning the space) leave their budget to the
// Hutchinson part. For a matrix whose spectrum is dominated by few large
// eigenvalues the error falls like 1/Probes instead of 1/sqrt(Probes).
// StdErr is the standard error of the Hutchinson part alone (the sketch
// part has no sampling error given Q). It stores 2k+2 vectors.
func HutchPP[V any](ctx context.Context, op Operator[V], sp Space[V], s TraceSettings) (*TraceResult, error) {
	start := time.Now()
	probes := s.probes()
	if probes < 3 {
		panic("probe: HutchPP needs at least 3 probes")
	}
	n := op.Dim()
	k := probes / 3
	res := &TraceResult{}
	done := func(err error) (*TraceResult, error) {
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	apply := func(dst, v V) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := op.Apply(ctx, dst, v); err != nil {
			return err
		}
		res.Stats.Applies++
		return nil
	}

	// Sketch: Y = H S, then Q = orth(Y) by CGS2, dropping columns that
	// vanish (rank deficiency).
	z := sp.Alloc(n)
	hz := sp.Alloc(n)
	defer sp.Free(z)
	defer sp.Free(hz)
	var q []V
	defer func() {
		for _, v := range q {
			sp.Free(v)
		}
	}()
	sketched := 0
	for j := 0; j < k && len(q) < n; j++ {
		sketched++
		sp.Rademacher(z, subSeed(s.Seed, j))
		y := sp.Alloc(n)
		if err := apply(y, z); err != nil {
			sp.Free(y)
			res.Value, res.StdErr = math.NaN(), math.NaN()
			return done(err)
		}
		res.Stats.Iterations++
		before := sp.Nrm2(y)
		for pass := 0; pass < 2; pass++ {
			for _, qi := range q {
				sp.Axpy(-sp.Dot(qi, y), qi, y)
			}
		}
		nrm := sp.Nrm2(y)
		if before == 0 || nrm <= 1e-10*before {
			sp.Free(y)
			continue
		}
		sp.Scale(1/nrm, y)
		q = append(q, y)
	}
	res.Probes = sketched

	// Exact part: tr(Q^T H Q).
	var exact float64
	for _, qi := range q {
		if err := apply(hz, qi); err != nil {
			res.Value, res.StdErr = math.NaN(), math.NaN()
			return done(err)
		}
		exact += sp.Dot(qi, hz)
	}
	// Applications the sketch did not use (columns dependent on earlier
	// ones, or Q already spanning the space) go to the residual part.
	m := probes - sketched - len(q)
	// Stochastic part: Hutchinson on the deflated operator.
	samples := make([]float64, 0, m)
	var err error
	for j := 0; j < m; j++ {
		sp.Rademacher(z, subSeed(s.Seed, k+j))
		for _, qi := range q {
			sp.Axpy(-sp.Dot(qi, z), qi, z)
		}
		if err = apply(hz, z); err != nil {
			break
		}
		res.Stats.Iterations++
		samples = append(samples, sp.Dot(z, hz))
		mean, _ := meanStdErr(samples)
		record(s.Recorder, "hutch++", sketched+j+1, sketched+m, exact+mean)
	}
	res.Probes += len(samples)
	mean, se := meanStdErr(samples)
	if len(samples) == 0 && len(q) == n {
		mean, se = 0, 0 // Q spans the space: the sketch part is the trace
	}
	res.Value = exact + mean
	res.StdErr = se
	return done(err)
}
