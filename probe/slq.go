package probe

import (
	"context"
	"math"
	"time"
)

// SLQSettings configures SLQ. The zero value is usable.
type SLQSettings struct {
	// Probes is the number of random start vectors. Zero means 10.
	Probes int
	// Steps is the number of Lanczos steps per probe, which is also the
	// number of quadrature nodes (fewer when a probe's Krylov space is
	// invariant). Moments of order up to 2*Steps-1 are integrated exactly
	// for each probe. Zero means 80; it is capped at the operator's Dim.
	Steps int
	// Seed seeds the probes: probe j starts from the normalised
	// Rademacher (or Normal) vector of a seed derived from (Seed, j).
	Seed uint64
	// Normal asks for Gaussian instead of Rademacher start vectors.
	Normal bool
	// Block is the number of probes whose Lanczos recurrences run in
	// lockstep, with one ApplyBatch per step for all of them, when the
	// operator is a BatchOperator (it is ignored otherwise). Each probe
	// keeps its own basis, so up to Block*Steps vectors are stored. The
	// probes and their recurrences do not depend on it, so neither does the
	// density, beyond the rounding of the operator's batched products.
	// Zero means 1 (no lockstep): with Steps = 80, lockstep multiplies the
	// stored basis by Block (1.7 GB for Block 8 on a 670k-parameter float32
	// model) and measured no speedup on the CPU (bench/RESULTS.md).
	Block int
	// Recorder, if not nil, receives a Progress after every probe, with
	// the running estimate of (1/n) tr(H).
	Recorder Recorder
}

// Density is a stochastic Lanczos quadrature estimate of the spectral
// density φ(t) = (1/n) Σ_i δ(t - λ_i) of an operator: for each probe, the
// Gauss quadrature nodes (Ritz values) and weights (squared first
// components of the eigenvectors of the Lanczos tridiagonal matrix), which
// sum to one. The estimate of ∫ f dφ = (1/n) tr f(H) is the mean over
// probes of Σ_i w_i f(θ_i).
type Density struct {
	// Dim is the dimension n of the operator.
	Dim int
	// Stats counts the work done.
	Stats   Stats
	nodes   [][]float64
	weights [][]float64
	// jacobi holds each probe's Lanczos tridiagonal matrix and the
	// residual norm β_k of its last step (0 when its Krylov space became
	// invariant): moments 0..2k of the probe's measure, from which
	// Fractions brackets its distribution function.
	jacobi []jacobi
}

// jacobi is a symmetric tridiagonal (Jacobi) matrix: diagonal alpha,
// off-diagonal off (len(alpha)-1), and the next off-diagonal entry beta
// that the Lanczos recurrence would have added.
type jacobi struct {
	alpha, off []float64
	beta       float64
	// theta, w and last are the Gauss rule of T_k: its eigenvalues
	// (ascending), the squared first and the last components of its
	// eigenvectors.
	theta, w, last []float64
}

// SLQ estimates the spectral density of op by stochastic Lanczos
// quadrature (Lin, Saad, Yang 2016; Ghorbani, Krishnan, Xiao 2019): for
// each probe, Steps steps of Lanczos with full reorthogonalisation from a
// normalised random start vector v give the Gauss quadrature rule of the
// measure Σ_i (v·u_i)² δ(t - λ_i), whose expectation over v is the
// spectral density. A probe whose Krylov space becomes invariant stops
// early; its rule is then exact. With a BatchOperator, groups of
// Settings.Block probes step in lockstep, one ApplyBatch per step.
//
// On cancellation or an Operator error SLQ returns the density of the
// groups of probes completed so far (possibly none) with the error.
func SLQ[V any](ctx context.Context, op Operator[V], sp Space[V], s SLQSettings) (*Density, error) {
	start := time.Now()
	if s.Probes < 0 || s.Steps < 0 {
		panic("probe: negative SLQSettings.Probes or Steps")
	}
	probes := s.Probes
	if probes == 0 {
		probes = 10
	}
	n := op.Dim()
	steps := s.Steps
	if steps == 0 {
		steps = 80
	}
	steps = min(steps, n)
	d := &Density{Dim: n}
	if n == 0 {
		return d, nil
	}
	b := s.Block
	if b == 0 {
		b = 1
	}
	block := min(blockSize(op, b), probes)
	v := sp.Alloc(n)
	defer sp.Free(v)
	ks := make([]*krylov[V], 0, block)
	active := make([]*krylov[V], 0, block)
	dst, src := make([]V, 0, block), make([]V, 0, block)
	var mean1 float64
	for j0 := 0; j0 < probes; j0 += block {
		ks = ks[:0]
		for j := j0; j < min(j0+block, probes); j++ {
			if s.Normal {
				sp.Normal(v, subSeed(s.Seed, j))
			} else {
				sp.Rademacher(v, subSeed(s.Seed, j))
			}
			// The krylov's own Apply is a no-op: the products of all the
			// group's newest basis vectors are computed below, together,
			// into their work vectors before each step.
			k := newKrylov[V](applied[V]{n}, sp, steps)
			k.push(v)
			ks = append(ks, k)
		}
		active = append(active[:0], ks...)
		var err error
		for len(active) > 0 {
			if err = ctx.Err(); err != nil {
				break
			}
			dst, src = dst[:0], src[:0]
			for _, k := range active {
				dst, src = append(dst, k.w), append(src, k.q[len(k.q)-1])
			}
			if err = applyBlock(ctx, op, dst, src); err != nil {
				break
			}
			next := active[:0]
			for _, k := range active {
				if err = k.step(ctx); err != nil {
					break
				}
				if len(k.q) == steps || k.breakdown() {
					continue
				}
				k.extend()
				next = append(next, k)
			}
			if err != nil {
				break
			}
			active = next
		}
		for _, k := range ks {
			k.free()
			d.Stats.Applies += k.stats.Applies
			d.Stats.Iterations += k.stats.Iterations
		}
		if err != nil {
			d.Stats.Elapsed = time.Since(start)
			return d, err
		}
		for i, k := range ks {
			theta, z := tridiagEigen(k.alpha, k.off)
			m := len(theta)
			w := make([]float64, m)
			for r := range w {
				w[r] = z[r] * z[r] // first row of z
			}
			d.nodes = append(d.nodes, theta)
			d.weights = append(d.weights, w)
			beta := k.resid
			if k.breakdown() {
				beta = 0 // an invariant Krylov space: the rule is exact
			}
			last := make([]float64, m)
			copy(last, z[(m-1)*m:])
			d.jacobi = append(d.jacobi, jacobi{alpha: append([]float64(nil), k.alpha...),
				off: append([]float64(nil), k.off[:m-1]...), beta: beta, theta: theta, w: w, last: last})
			j := j0 + i
			mean1 += (dot(w, theta) - mean1) / float64(j+1)
			record(s.Recorder, "slq", j+1, probes, mean1)
		}
	}
	d.Stats.Elapsed = time.Since(start)
	return d, nil
}

// applied is the Operator of a Krylov recurrence that SLQ steps in
// lockstep with others: before each step the caller has already set the
// work vector to H times the newest basis vector, for all of them with one
// ApplyBatch, so Apply has nothing left to do.
type applied[V any] struct{ n int }

func (a applied[V]) Dim() int                        { return a.n }
func (applied[V]) Apply(context.Context, V, V) error { return nil }

func dot(x, y []float64) float64 {
	var s float64
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// Probes returns the number of probes the density was computed from.
func (d *Density) Probes() int { return len(d.nodes) }

// Nodes returns a copy of the quadrature nodes (Ritz values, ascending)
// of probe j.
func (d *Density) Nodes(j int) []float64 { return append([]float64(nil), d.nodes[j]...) }

// Weights returns a copy of the quadrature weights of probe j; they are
// non-negative and sum to one.
func (d *Density) Weights(j int) []float64 { return append([]float64(nil), d.weights[j]...) }

// perProbe returns, for each probe, Σ_i w_i f(θ_i).
func (d *Density) perProbe(f func(float64) float64) []float64 {
	out := make([]float64, len(d.nodes))
	for j, nodes := range d.nodes {
		for i, t := range nodes {
			out[j] += d.weights[j][i] * f(t)
		}
	}
	return out
}

// meanStdErr returns the mean of x and its standard error, the sample
// standard deviation over sqrt(len(x)); NaN for an empty x, and a standard
// error of +Inf for a single sample.
func meanStdErr(x []float64) (mean, stderr float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	var m, s2 float64 // Welford
	for i, v := range x {
		delta := v - m
		m += delta / float64(i+1)
		s2 += delta * (v - m)
	}
	if len(x) == 1 {
		return m, math.Inf(1)
	}
	return m, math.Sqrt(s2/float64(len(x)-1)) / math.Sqrt(float64(len(x)))
}

// Expect returns the estimate of ∫ f dφ = (1/n) tr f(H), the mean over
// probes of Σ_i w_i f(θ_i), and its standard error across probes.
func (d *Density) Expect(f func(float64) float64) (mean, stderr float64) {
	return meanStdErr(d.perProbe(f))
}

func powk(k int) func(float64) float64 {
	if k < 0 {
		panic("probe: negative moment order")
	}
	return func(t float64) float64 { return math.Pow(t, float64(k)) }
}

// Moment returns the estimate of the k-th moment (1/n) tr(H^k) of the
// spectral density. It is exact for each probe when k < 2*Steps (Gauss
// quadrature), so its error is the sampling error MomentStdErr(k).
func (d *Density) Moment(k int) float64 {
	m, _ := d.Expect(powk(k))
	return m
}

// MomentStdErr returns the standard error of Moment(k) across probes:
// their sample standard deviation over the square root of their number.
func (d *Density) MomentStdErr(k int) float64 {
	_, se := d.Expect(powk(k))
	return se
}

// Eval returns the density broadened by a Gaussian of standard deviation
// sigma at the points of grid:
//
//	y(x) = mean over probes of Σ_i w_i exp(-(x-θ_i)²/2σ²) / (σ sqrt(2π)),
//
// which integrates to one over the real line.
func (d *Density) Eval(grid []float64, sigma float64) []float64 {
	return d.EvalTo(make([]float64, len(grid)), grid, sigma)
}

// EvalTo is Eval writing into dst, which must have the length of grid and
// is returned.
func (d *Density) EvalTo(dst, grid []float64, sigma float64) []float64 {
	if len(dst) != len(grid) {
		panic(errLength)
	}
	if !(sigma > 0) {
		panic("probe: non-positive sigma")
	}
	c := 1 / (sigma * math.Sqrt(2*math.Pi) * float64(len(d.nodes)))
	for g, x := range grid {
		var y float64
		for j, nodes := range d.nodes {
			for i, t := range nodes {
				u := (x - t) / sigma
				y += d.weights[j][i] * math.Exp(-0.5*u*u)
			}
		}
		dst[g] = c * y
	}
	return dst
}

// Range returns the smallest and largest quadrature node over all probes.
func (d *Density) Range() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, nodes := range d.nodes {
		if len(nodes) > 0 {
			lo = math.Min(lo, nodes[0])
			hi = math.Max(hi, nodes[len(nodes)-1])
		}
	}
	return lo, hi
}

// Grid returns n evenly spaced points x covering [lo - 5σ, hi + 5σ],
// where lo and hi are the extreme nodes (see Range), and the broadened
// density y = Eval(x, sigma) there. n must be at least 2.
func (d *Density) Grid(n int, sigma float64) (x, y []float64) {
	if n < 2 {
		panic("probe: Grid needs at least 2 points")
	}
	lo, hi := d.Range()
	lo -= 5 * sigma
	hi += 5 * sigma
	x = make([]float64, n)
	for i := range x {
		x[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return x, d.Eval(x, sigma)
}

// FractionPositive returns the estimated fraction of eigenvalues greater
// than tol: the mean over probes of the weight of nodes > tol. A node
// carries the weight of all the eigenvalues near it, so when the nodes do
// not resolve tol this is biased, by as much as the mass near tol (issue
// 14); Fractions gives the fractions with a bound on that bias.
func (d *Density) FractionPositive(tol float64) float64 {
	m, _ := d.Expect(func(t float64) float64 {
		if t > tol {
			return 1
		}
		return 0
	})
	return m
}

// NegativeMass returns the estimated fraction of negative eigenvalues:
// the mean over probes of the weight of nodes < 0. It is zero for a
// positive semidefinite operator. A node carries the weight of all the
// eigenvalues near it, so small negative eigenvalues close to zero are
// resolved only as far as Steps allows: Fractions gives the fractions
// with a bound on that bias. See also NegativeMagnitude.
func (d *Density) NegativeMass() float64 {
	m, _ := d.Expect(func(t float64) float64 {
		if t < 0 {
			return 1
		}
		return 0
	})
	return m
}

// NegativeMagnitude returns the estimate of (1/n) Σ_{λ<0} |λ|: the mean
// over probes of Σ_{θ_i<0} w_i |θ_i|.
func (d *Density) NegativeMagnitude() float64 {
	m, _ := d.Expect(func(t float64) float64 { return math.Max(-t, 0) })
	return m
}
