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
	// Block is the number of probes applied together, by one ApplyBatch,
	// when the operator is a BatchOperator (it is ignored otherwise). The
	// probes and their order do not depend on it, so neither does the
	// estimate, beyond the rounding of the operator's batched products.
	// Block vectors and their products are stored at a time. Zero means 8.
	Block int
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
// 2(‖H‖_F² - Σ H_ii²)/Probes. With a BatchOperator the probes are applied
// in blocks of Settings.Block. On cancellation or an Operator error it
// returns the estimate from the blocks of probes completed so far with the
// error.
func Hutchinson[V any](ctx context.Context, op Operator[V], sp Space[V], s TraceSettings) (*TraceResult, error) {
	start := time.Now()
	probes := s.probes()
	n := op.Dim()
	block := min(blockSize(op, s.Block), probes)
	z := allocN(sp, block, n)
	hz := allocN(sp, block, n)
	defer freeN(sp, z)
	defer freeN(sp, hz)
	samples := make([]float64, 0, probes)
	res := &TraceResult{}
	var err error
	for j0 := 0; j0 < probes; j0 += block {
		if err = ctx.Err(); err != nil {
			break
		}
		b := min(block, probes-j0)
		for i := 0; i < b; i++ {
			sp.Rademacher(z[i], subSeed(s.Seed, j0+i))
		}
		if err = applyBlock(ctx, op, hz[:b], z[:b]); err != nil {
			break
		}
		for i := 0; i < b; i++ {
			res.Stats.Applies++
			res.Stats.Iterations++
			samples = append(samples, sp.Dot(z[i], hz[i]))
			m, _ := meanStdErr(samples)
			record(s.Recorder, "hutchinson", j0+i+1, probes, m)
		}
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
// part has no sampling error given Q). With a BatchOperator all three
// parts apply their vectors in blocks of Settings.Block, with the same
// vectors, in the same order, as one at a time. It stores about 2k+2*Block
// vectors.
func HutchPP[V any](ctx context.Context, op Operator[V], sp Space[V], s TraceSettings) (*TraceResult, error) {
	start := time.Now()
	probes := s.probes()
	if probes < 3 {
		panic("probe: HutchPP needs at least 3 probes")
	}
	n := op.Dim()
	k := probes / 3
	block := min(blockSize(op, s.Block), probes)
	res := &TraceResult{}
	done := func(err error) (*TraceResult, error) {
		res.Stats.Elapsed = time.Since(start)
		return res, err
	}
	fail := func(err error) (*TraceResult, error) {
		res.Value, res.StdErr = math.NaN(), math.NaN()
		return done(err)
	}
	apply := func(dst, v []V) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := applyBlock(ctx, op, dst, v); err != nil {
			return err
		}
		res.Stats.Applies += len(v)
		return nil
	}

	// Sketch: Y = H S, then Q = orth(Y) by CGS2, dropping columns that
	// vanish (rank deficiency). A block never holds more columns than Q
	// can still take, so the columns applied are those of the one at a
	// time loop, which stops once Q spans the space.
	z := allocN(sp, block, n)
	hz := allocN(sp, block, n)
	defer freeN(sp, z)
	defer freeN(sp, hz)
	var q []V
	defer func() { freeN(sp, q) }()
	sketched := 0
	y := make([]V, 0, block)
	for sketched < k && len(q) < n {
		b := min(block, k-sketched, n-len(q))
		y = y[:0]
		for i := 0; i < b; i++ {
			sp.Rademacher(z[i], subSeed(s.Seed, sketched+i))
			y = append(y, sp.Alloc(n))
		}
		if err := apply(y, z[:b]); err != nil {
			freeN(sp, y)
			return fail(err)
		}
		for _, yi := range y {
			sketched++
			res.Stats.Iterations++
			before := sp.Nrm2(yi)
			for pass := 0; pass < 2; pass++ {
				for _, qi := range q {
					sp.Axpy(-sp.Dot(qi, yi), qi, yi)
				}
			}
			nrm := sp.Nrm2(yi)
			if before == 0 || nrm <= 1e-10*before {
				sp.Free(yi)
				continue
			}
			sp.Scale(1/nrm, yi)
			q = append(q, yi)
		}
	}
	res.Probes = sketched

	// Exact part: tr(Q^T H Q).
	var exact float64
	for i0 := 0; i0 < len(q); i0 += block {
		b := min(block, len(q)-i0)
		if err := apply(hz[:b], q[i0:i0+b]); err != nil {
			return fail(err)
		}
		for i := 0; i < b; i++ {
			exact += sp.Dot(q[i0+i], hz[i])
		}
	}
	// Applications the sketch did not use (columns dependent on earlier
	// ones, or Q already spanning the space) go to the residual part.
	m := probes - sketched - len(q)
	// Stochastic part: Hutchinson on the deflated operator.
	samples := make([]float64, 0, m)
	var err error
	for j0 := 0; j0 < m; j0 += block {
		b := min(block, m-j0)
		for i := 0; i < b; i++ {
			sp.Rademacher(z[i], subSeed(s.Seed, k+j0+i))
			for _, qi := range q {
				sp.Axpy(-sp.Dot(qi, z[i]), qi, z[i])
			}
		}
		if err = apply(hz[:b], z[:b]); err != nil {
			break
		}
		for i := 0; i < b; i++ {
			res.Stats.Iterations++
			samples = append(samples, sp.Dot(z[i], hz[i]))
			mean, _ := meanStdErr(samples)
			record(s.Recorder, "hutch++", sketched+j0+i+1, sketched+m, exact+mean)
		}
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
