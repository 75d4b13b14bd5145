package probe

import (
	"math"
	"sort"
)

// Fraction is an estimate of a fraction of the eigenvalues with its error.
//
// Value is the mean over probes of the midpoint of each probe's bracket
// (see Density.Fractions); StdErr is the standard error of that mean
// across probes (the sampling error: the sample standard deviation of the
// midpoints over the square root of their number, or the bound of the
// probes' variance in probeSpread when that is larger); Bias bounds the
// quadrature error, the mean over probes of the bracket's half-width:
// whatever the spectrum between the nodes, the mean over the same probes
// of their exact fractions lies within Bias of Value. Err = Bias +
// 3·StdErr is the error bar, which covers both.
type Fraction struct {
	Value  float64
	StdErr float64
	Bias   float64
}

// Err returns the error bar Bias + 3·StdErr: the bias bound plus three
// sampling standard errors (ten probes estimate their own spread loosely:
// Student's t with 9 degrees of freedom puts 98.5% within 3). It is +Inf
// for a single probe, whose spread is not known.
func (f Fraction) Err() float64 { return f.Bias + 3*f.StdErr }

// Fractions are the fractions of eigenvalues above Tol (Positive), below
// -Tol (Negative) and within [-Tol, Tol] (NearZero), each with its error.
// Value of the three sums to one unless NearZero was clamped at zero.
type Fractions struct {
	Tol                          float64
	Positive, Negative, NearZero Fraction
	// Resolution is what the quadrature resolves at the band: the median
	// over probes of the half-gap between the two nodes that bracket zero
	// (Density.Resolution(0)). A band ±Tol narrower than it is not
	// resolved, and the Bias of the fractions is then about the mass of
	// the spectrum within Resolution of zero.
	Resolution float64
}

// Fractions estimates the fractions of eigenvalues above tol, below -tol and
// within [-tol, tol] (tol >= 0) from the SLQ probes, with a bias bound that
// makes the error bars honest at any number of steps.
//
// The estimator. Each probe's Lanczos recurrence of k steps determines the
// moments 0..2k of its measure μ_v = Σ_i (v·u_i)² δ(t - λ_i) (the Jacobi
// matrix T_k and its next entry β_k), and nothing finer: the counts of μ_v
// on either side of a point x are known only to within a bracket. The
// bracket is sharp (Markov, Stieltjes and Krein; Karlin and Studden,
// Tchebycheff Systems, 1966, ch. III; Golub and Meurant, Matrices, Moments
// and Quadrature, 2010, §6.2) and comes from the (k+1)-point Gauss–Radau
// rule with a node prescribed at x (T_k extended by β_k and the α_{k+1}
// that makes x an eigenvalue): over all measures with μ_v's moments,
//
//	Σ_{θ_i < x} w_i ≤ μ((-∞, x)) ≤ μ((-∞, x]) ≤ Σ_{θ_i ≤ x} w_i,
//
// the sums over the Radau nodes θ_i and weights w_i, so the bracket's width
// is the weight w_x of the prescribed node. Its resolution is that of the
// quadrature: w_x is about the mass of μ_v within the node spacing of x,
// small where the spectrum is sparse near x and as large as a cluster that
// the nodes do not separate from x. A probe whose Krylov space became
// invariant has an exact rule and a bracket of width zero (unless x is one
// of its nodes).
//
// Each fraction's Value is the mean over probes of the midpoint of its
// bracket, its StdErr the standard error of those midpoints, and its Bias
// the mean half-width: the bias is bounded, not estimated. This is the SLQ
// count smoothed by the kernel the quadrature itself implies (each
// prescribed node's weight split evenly between the two sides), with the
// resolution the steps give at x; Kernel Polynomial (Chebyshev) counts with
// Jackson damping from the same products (Di Napoli, Polizzi and Saad,
// Efficient estimation of eigenvalue counts in an interval, Numer. Linear
// Algebra Appl. 23, 2016) have a fixed resolution of about π/(2k) of the
// spectral half-width and no bound on their bias; measured on exact spectra
// (TestFractionsVersusKPM), their errors are twice as large and often not
// covered by their error bars (bench/RESULTS.md, docs/fractions.md).
//
// Fractions needs a Density with at least one probe; it panics otherwise
// or when tol is negative or NaN.
func (d *Density) Fractions(tol float64) Fractions {
	if !(tol >= 0) {
		panic("probe: negative or NaN tolerance")
	}
	p := len(d.jacobi)
	if p == 0 {
		panic("probe: Fractions of a density without probes")
	}
	pos, neg, near := make([]float64, p), make([]float64, p), make([]float64, p)
	var bpos, bneg, bnear float64
	for j, jm := range d.jacobi {
		// F(x) = μ_v((-∞, x]): F(tol) ∈ [a, b], F(-tol - 0) ∈ [c, e].
		_, closed := jm.bracket(tol)
		open, _ := jm.bracket(-tol)
		a, b, c, e := closed[0], closed[1], open[0], open[1]
		pos[j] = 1 - (a+b)/2
		neg[j] = (c + e) / 2
		near[j] = (a+b)/2 - (c+e)/2 // the midpoint of [a - e, b - c]
		bpos += (b - a) / 2
		bneg += (e - c) / 2
		bnear += ((b - a) + (e - c)) / 2
	}
	f := Fractions{Tol: tol, Resolution: d.Resolution(0)}
	f.Positive.Value, f.Positive.StdErr = meanStdErr(pos)
	f.Negative.Value, f.Negative.StdErr = meanStdErr(neg)
	f.NearZero.Value, f.NearZero.StdErr = meanStdErr(near)
	f.Positive.Bias, f.Negative.Bias, f.NearZero.Bias = bpos/float64(p), bneg/float64(p), bnear/float64(p)
	// The means lie in [0, 1] but for rounding; NearZero's lower bound is
	// 0 (its midpoint may fall below it when the brackets are wide, and 0
	// is then nearer the truth). +0 turns a -0 into 0: a negative zero is
	// never reported.
	for _, x := range []*Fraction{&f.Positive, &f.Negative, &f.NearZero} {
		x.Value = math.Min(1, math.Max(0, x.Value)) + 0
		x.Bias += 0
		x.StdErr = math.Max(x.StdErr, probeSpread(x.Value, x.Bias, d.Dim, p)) + 0
	}
	return f
}

// bracket returns lower and upper bounds of F(x-0) = μ((-∞, x)) (open)
// and of F(x) = μ((-∞, x]) (closed) over the measures μ with the moments
// 0..2k of this Jacobi matrix's. See Density.Fractions.
func (jm jacobi) bracket(x float64) (open, closed [2]float64) {
	m := len(jm.alpha)
	theta := jm.theta
	scale := math.Abs(x)
	for _, t := range theta {
		scale = math.Max(scale, math.Abs(t))
	}
	// atNode is the distance from x, relative to max(|θ|, |x|), within
	// which a Ritz value counts as x itself: the rounding of the Ritz
	// values, a few ε‖T‖.
	const atNode = 1e-13
	at := func(t float64) bool { return math.Abs(t-x) <= atNode*scale }
	// When the rule is exact (β_k = 0, an invariant Krylov space) or x is
	// a Gauss node, the Gauss rule itself gives the bounds: exact counts,
	// or the Stieltjes inequalities at a node,
	// Σ_{θ_i<x} w_i ≤ F(x-0) ≤ F(x) ≤ Σ_{θ_i≤x} w_i.
	gauss := jm.beta == 0
	var g float64 // [(T_k - x)^-1]_{kk} = Σ_i z_{ki}² / (θ_i - x)
	for i, t := range theta {
		if at(t) {
			gauss = true
			break
		}
		g += jm.last[i] * jm.last[i] / (t - x)
	}
	if gauss {
		var below, node float64
		for i, t := range theta {
			switch w := jm.w[i]; {
			case at(t):
				node += w
			case t < x:
				below += w
			}
		}
		below, node = math.Min(below, 1), math.Min(below+node, 1)
		if jm.beta == 0 {
			return [2]float64{below, below}, [2]float64{node, node}
		}
		return [2]float64{below, node}, [2]float64{below, node}
	}
	// The Gauss–Radau rule with a node at x: T_{k+1} has β_k below T_k and
	// α_{k+1} = x + β_k² [(T_k - x)^-1]_{kk}, so that det(T_{k+1} - x) = 0.
	alpha := append(append(make([]float64, 0, m+1), jm.alpha...), x+jm.beta*jm.beta*g)
	off := append(append(make([]float64, 0, m), jm.off[:m-1]...), jm.beta)
	theta, z := tridiagEigen(alpha, off)
	r := 0 // the node at x: the nearest
	for i, t := range theta {
		if math.Abs(t-x) < math.Abs(theta[r]-x) {
			r = i
		}
	}
	var lo float64
	for i := 0; i < r; i++ {
		lo += z[i] * z[i]
	}
	b := [2]float64{math.Min(lo, 1), math.Min(lo+z[r]*z[r], 1)}
	return b, b
}

// probeSpread bounds the standard error of the mean over p probes of a
// fraction f of the n eigenvalues. For a probe v uniform on the sphere the
// weight of r = f·n eigenvalues is Beta(r/2, (n-r)/2), of variance
// f(1-f)/(n/2+1) < 2f(1-f)/n; for a normalised Rademacher probe it is
// 2(‖P‖_F² - Σ P_ii²)/n² <= 2f(1-f)/n, P the projector on those
// eigenvectors (Hutchinson 1989). So the mean of p probes has a standard
// error of at most sqrt(f(1-f)/N), N = n·p/2. The true f is unknown: it is
// taken where f(1-f) is largest among the fractions consistent with the
// estimate, from the Wilson score interval at three standard errors around
// [est - bias, est + bias]. The sample spread of ten probes underestimates
// the spread of a small fraction (a few eigenvalues, whose weights are
// nearly chi-squared with one degree of freedom, all ten small by chance),
// so Fractions reports the larger of the two.
func probeSpread(est, bias float64, n, p int) float64 {
	const z2 = 9 // three standard errors, as Err
	N := float64(n) * float64(p) / 2
	wilson := func(v float64) (lo, hi float64) {
		v = math.Min(1, math.Max(0, v))
		c := 1 + z2/N
		mid := v + z2/(2*N)
		half := math.Sqrt(z2*v*(1-v)/N + z2*z2/(4*N*N))
		return (mid - half) / c, (mid + half) / c
	}
	lo, _ := wilson(est - bias)
	_, hi := wilson(est + bias)
	f := math.Min(math.Max(0.5, lo), hi)
	return math.Sqrt(f * (1 - f) / N)
}

// Resolution returns what the quadrature resolves at x: the median over
// probes of half the gap between the two nodes that bracket x (the
// distance to the nearest node when x is beyond all of a probe's nodes).
// Mass of the spectrum closer to x than this is not told apart from x;
// node spacing shrinks about as 1/steps (faster where eigenvalues cluster).
// It is NaN for a density without probes.
func (d *Density) Resolution(x float64) float64 {
	half := make([]float64, 0, len(d.nodes))
	for _, nodes := range d.nodes {
		if len(nodes) == 0 {
			continue
		}
		i := sort.SearchFloat64s(nodes, x) // nodes[i-1] < x <= nodes[i]
		switch {
		case i == 0:
			half = append(half, nodes[0]-x)
		case i == len(nodes):
			half = append(half, x-nodes[i-1])
		default:
			half = append(half, (nodes[i]-nodes[i-1])/2)
		}
	}
	if len(half) == 0 {
		return math.NaN()
	}
	sort.Float64s(half)
	return half[len(half)/2]
}
