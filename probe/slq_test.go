package probe_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/probe"
	"github.com/curvprobe/curvprobe/probe/probetest"
)

func TestSLQ(t *testing.T) {
	ctx := context.Background()
	// The grid of the density check: under -short 1001 points, whose
	// spacing (about norm/500, a fifth of the narrower σ) still leaves the
	// trapezoid rule's error on the Gaussians far below 1e-6.
	gridPoints := 4001
	if testing.Short() {
		gridPoints = 1001
	}
	for _, s := range spectra() {
		op, _, eig := dense(s.lambda, 19) // one operator for both normal settings
		n := len(eig)
		for _, normal := range []bool{false, true} {
			rec := &recorder{}
			d, err := probe.SLQ(ctx, op, host, probe.SLQSettings{Probes: 20, Steps: 30, Normal: normal, Recorder: rec})
			if err != nil {
				t.Fatal(err)
			}
			if d.Probes() != 20 || d.Dim != n || rec.n != 20 || rec.stage != "slq" || d.Stats.Applies != 20*30 {
				t.Fatalf("%s: %d probes, stats %+v, %d reports", s.name, d.Probes(), d.Stats, rec.n)
			}
			// Weights are a probability vector per probe; nodes lie in
			// the spectrum's range (Ritz values interlace).
			norm := maxAbs(eig)
			for j := 0; j < d.Probes(); j++ {
				var sum float64
				for _, w := range d.Weights(j) {
					if w < 0 {
						t.Fatalf("%s: negative weight", s.name)
					}
					sum += w
				}
				if math.Abs(sum-1) > 1e-13 {
					t.Errorf("%s probe %d: weights sum to %.17g", s.name, j, sum)
				}
				nodes := d.Nodes(j)
				if nodes[0] < eig[0]-1e-12*norm || nodes[len(nodes)-1] > eig[n-1]+1e-12*norm {
					t.Errorf("%s probe %d: nodes [%g, %g] outside spectrum [%g, %g]", s.name, j, nodes[0], nodes[len(nodes)-1], eig[0], eig[n-1])
				}
			}
			// Moments 1 and 2 within 3 standard errors of tr(H^k)/n
			// (each probe integrates them exactly: Steps = 30 > k/2).
			for k := 1; k <= 2; k++ {
				exact := probetest.Moment(eig, k)
				got, se := d.Moment(k), d.MomentStdErr(k)
				if diff := math.Abs(got - exact); diff > 3*se+1e-12*math.Pow(norm, float64(k)) {
					t.Errorf("%s normal=%v: moment %d = %.8g ± %.3g, exact %.8g", s.name, normal, k, got, se, exact)
				}
			}
			if !normal {
				checkQuadrature(t, op, d, 0, 8)
			}
			if math.Abs(d.Moment(0)-1) > 1e-14 || d.MomentStdErr(0) > 1e-14 {
				t.Errorf("%s: moment 0 = %v ± %v", s.name, d.Moment(0), d.MomentStdErr(0))
			}
			// The broadened density integrates to one.
			for _, sigma := range []float64{norm / 100, norm / 10} {
				x, y := d.Grid(gridPoints, sigma)
				if got := probetest.Trapezoid(x, y); math.Abs(got-1) > 1e-6 {
					t.Errorf("%s σ=%g: density integrates to %.10g", s.name, sigma, got)
				}
				lo, hi := d.Range()
				if x[0] != lo-5*sigma || math.Abs(x[len(x)-1]-(hi+5*sigma)) > 1e-12*norm {
					t.Errorf("%s: grid [%g, %g], nodes [%g, %g]", s.name, x[0], x[len(x)-1], lo, hi)
				}
			}
		}
	}
}

func TestSLQMass(t *testing.T) {
	// 30 of 100 eigenvalues negative, well separated from zero: with enough
	// steps each probe's quadrature puts their weight below zero.
	lambda := append(linspace(-3, -1, 30), linspace(1, 5, 70)...)
	op, _, _ := dense(lambda, 20)
	d, err := probe.SLQ(context.Background(), op, host, probe.SLQSettings{Probes: 50, Steps: 40})
	if err != nil {
		t.Fatal(err)
	}
	neg, pos := d.NegativeMass(), d.FractionPositive(0)
	// Each is a mean of 50 probes of v^T 1[H<0] v, whose standard deviation
	// is about sqrt(2 p(1-p)/n) = 0.065: 4 standard errors are 0.037.
	if math.Abs(neg-0.3) > 0.037 || math.Abs(neg+pos-1) > 1e-12 {
		t.Errorf("negative mass %.4f, positive fraction %.4f, want 0.3 and 0.7", neg, pos)
	}
	var mag float64
	for _, l := range lambda[:30] {
		mag -= l
	}
	mag /= 100
	if got := d.NegativeMagnitude(); math.Abs(got-mag) > 0.15*mag {
		t.Errorf("negative magnitude %.4f, want %.4f", got, mag)
	}
	// A PSD operator has no negative mass.
	psd, _, _ := dense(linspace(0.5, 2, 50), 21)
	d2, _ := probe.SLQ(context.Background(), psd, host, probe.SLQSettings{})
	if d2.NegativeMass() != 0 || math.Abs(d2.FractionPositive(0)-1) > 1e-14 {
		t.Errorf("PSD: negative mass %v, positive %v", d2.NegativeMass(), d2.FractionPositive(0))
	}
}

func TestSLQStatistical(t *testing.T) {
	// Moments 1..4 over 10 seeds, each within 3.5 standard errors: with
	// 40 comparisons, a 3σ bound would fail by chance about 10% of the time.
	if testing.Short() {
		t.Skip("statistical test")
	}
	s := spectra()[2]
	op, _, eig := dense(s.lambda, 22)
	for seed := uint64(0); seed < 10; seed++ {
		d, err := probe.SLQ(context.Background(), op, host, probe.SLQSettings{Probes: 30, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= 4; k++ {
			exact := probetest.Moment(eig, k)
			if diff := math.Abs(d.Moment(k) - exact); diff > 3.5*d.MomentStdErr(k) {
				t.Errorf("seed %d moment %d: %.6g ± %.3g, exact %.6g", seed, k, d.Moment(k), d.MomentStdErr(k), exact)
			}
		}
	}
}

func TestSLQSmallAndLowRank(t *testing.T) {
	// Steps above Dim are capped, and a probe whose Krylov space becomes
	// invariant (rank 3 in dimension 60) stops early with an exact rule.
	lambda := make([]float64, 60)
	copy(lambda, []float64{4, -2, 1})
	op, _, _ := dense(lambda, 23)
	d, err := probe.SLQ(context.Background(), op, host, probe.SLQSettings{Probes: 3, Steps: 500})
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 3; j++ {
		if got := len(d.Nodes(j)); got > 4 {
			t.Errorf("probe %d: %d nodes for 4 distinct eigenvalues", j, got)
		}
	}
	// Each probe's rule integrates v^T H^k v exactly for k < 2*nodes:
	// compare with the direct computation for the same start vector
	// (probe j of seed 0 is the Rademacher stream of Uint64At(0, j)).
	checkQuadrature(t, op, d, 0, 7)
}

// checkQuadrature checks that for every probe j of d, Σ_i w_i θ_i^k equals
// v^T H^k v / (v^T v) for the probe's Rademacher start vector v, k <= kmax.
func checkQuadrature(t *testing.T, op *probe.Dense, d *probe.Density, seed uint64, kmax int) {
	t.Helper()
	n := op.Dim()
	for j := 0; j < d.Probes(); j++ {
		v := make([]float64, n)
		host.Rademacher(v, kernels.Uint64At(seed, uint64(j)))
		host.Scale(1/math.Sqrt(float64(n)), v)
		hv := append([]float64(nil), v...)
		nodes, weights := d.Nodes(j), d.Weights(j)
		var norm float64
		for _, x := range nodes {
			norm = math.Max(norm, math.Abs(x))
		}
		for k := 1; k <= kmax && k < 2*len(nodes); k++ {
			next := make([]float64, n)
			op.Apply(context.Background(), next, hv)
			hv = next
			// v^T H^k v = (H^{k/2} v)·(H^{k/2} v) would be better
			// conditioned; v·H^k v is accurate to ~kε‖H‖^k here.
			want := host.Dot(v, hv)
			var got float64
			for i, x := range nodes {
				got += weights[i] * math.Pow(x, float64(k))
			}
			if math.Abs(got-want) > 1e-12*math.Pow(norm, float64(k)) {
				t.Errorf("probe %d, k = %d: quadrature %.17g, direct %.17g", j, k, got, want)
			}
		}
	}
}

func TestSLQCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, _ := dense(spectra()[0].lambda, 24)
	op := &cancelAfter{Operator: base, n: 25, cancel: cancel}
	d, err := probe.SLQ(ctx, op, host, probe.SLQSettings{Steps: 10})
	if !errors.Is(err, context.Canceled) || d.Probes() != 2 || d.Stats.Applies != 25 {
		t.Fatalf("err %v, %d probes, stats %+v", err, d.Probes(), d.Stats)
	}
}
