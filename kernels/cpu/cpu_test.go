package cpu_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/kerneltest"
)

func TestConformance32(t *testing.T) {
	kerneltest.Run(t, func() kernels.Backend[float32] { return cpu.New[float32]() })
}

func TestConformance64(t *testing.T) {
	kerneltest.Run(t, func() kernels.Backend[float64] { return cpu.New[float64]() })
}

func TestName(t *testing.T) {
	if got, want := cpu.New[float32]().Name(), "cpu ("+cpu.BLASName()+")"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	t.Log(cpu.New[float64]().Name())
}

// TestRandomExact checks that the CPU fills are kernels.RademacherAt and
// kernels.NormalAt exactly, index relative to the view, on both sides of
// the parallel threshold.
func TestRandomExact(t *testing.T) {
	b := cpu.New[float64]()
	const n = 1<<18 + 5 // past the parallel split of every fill
	buf := b.Alloc(n + 7)
	v := b.View(buf, 7, n)
	for _, seed := range []uint64{0, 42, math.MaxUint64} {
		b.Rademacher(v, seed)
		for i, x := range cpu.Slice[float64](v) {
			if w := kernels.RademacherAt(seed, uint64(i)); x != w {
				t.Fatalf("Rademacher seed %d: element %d = %v, want %v", seed, i, x, w)
			}
		}
		b.Normal(v, seed)
		for i, x := range cpu.Slice[float64](v) {
			if w := kernels.NormalAt(seed, uint64(i)); x != w {
				t.Fatalf("Normal seed %d: element %d = %v, want %v", seed, i, x, w)
			}
		}
	}
	b32 := cpu.New[float32]()
	v32 := b32.Alloc(1000)
	b32.Normal(v32, 3)
	for i, x := range cpu.Slice[float32](v32) {
		if w := float32(kernels.NormalAt(3, uint64(i))); x != w {
			t.Fatalf("Normal float32: element %d = %v, want %v", i, x, w)
		}
	}
}

// TestNormalAtMoments checks the first four moments of NormalAt over 1e5
// draws: each sample moment within 5 standard errors of the normal's
// (mean 0, variance 1, skewness 0, kurtosis 3). The standard errors of the
// sample mean, variance, third and fourth moments of N(0,1) are
// sqrt(1/n), sqrt(2/n), sqrt(15/n) and sqrt(96/n). 5 standard errors fail
// by chance with probability below 1e-6 per check; the seeds are fixed.
func TestNormalAtMoments(t *testing.T) {
	const n = 100_000
	for _, seed := range []uint64{1, 2, 1 << 40} {
		var m1, m2, m3, m4 float64
		for i := range uint64(n) {
			x := kernels.NormalAt(seed, i)
			m1 += x
			m2 += x * x
			m3 += x * x * x
			m4 += x * x * x * x
		}
		m1, m2, m3, m4 = m1/n, m2/n, m3/n, m4/n
		for _, c := range []struct {
			name      string
			got, want float64
			se        float64
		}{
			{"mean", m1, 0, math.Sqrt(1.0 / n)},
			{"variance", m2 - m1*m1, 1, math.Sqrt(2.0 / n)},
			{"third moment", m3, 0, math.Sqrt(15.0 / n)},
			{"fourth moment", m4, 3, math.Sqrt(96.0 / n)},
		} {
			if d := math.Abs(c.got - c.want); d > 5*c.se {
				t.Errorf("seed %d: %s = %.5f, want %g within 5 standard errors (%.5f)", seed, c.name, c.got, c.want, 5*c.se)
			}
		}
		// Tail mass beyond ±3: 0.0027; binomial standard error sqrt(p(1-p)/n).
		var tail int
		for i := range uint64(n) {
			if math.Abs(kernels.NormalAt(seed, i)) > 3 {
				tail++
			}
		}
		p := 2 * 0.5 * math.Erfc(3/math.Sqrt2)
		if d := math.Abs(float64(tail)/n - p); d > 5*math.Sqrt(p*(1-p)/n) {
			t.Errorf("seed %d: P(|x| > 3) = %.5f, want %.5f", seed, float64(tail)/n, p)
		}
	}
}

// TestRademacherAtBalance checks that RademacherAt is ±1, balanced within
// 5 standard errors (sqrt(n) for the sum of n signs) over 1e5 draws, and
// that consecutive signs are uncorrelated within 5 standard errors.
func TestRademacherAtBalance(t *testing.T) {
	const n = 100_000
	for _, seed := range []uint64{1, 2, 1 << 40} {
		var sum, lag float64
		prev := 0.0
		for i := range uint64(n) {
			x := kernels.RademacherAt(seed, i)
			if x != 1 && x != -1 {
				t.Fatalf("seed %d: element %d = %v, want ±1", seed, i, x)
			}
			sum += x
			lag += x * prev
			prev = x
		}
		if math.Abs(sum) > 5*math.Sqrt(n) {
			t.Errorf("seed %d: sum of %d signs = %g, want |sum| <= %g", seed, n, sum, 5*math.Sqrt(n))
		}
		if math.Abs(lag) > 5*math.Sqrt(n) {
			t.Errorf("seed %d: lag-1 autocorrelation sum = %g, want |sum| <= %g", seed, lag, 5*math.Sqrt(n))
		}
	}
}

func TestPanics(t *testing.T) {
	b := cpu.New[float32]()
	z, lab := b.Alloc(6), b.Alloc(2)
	other := cpu.New[float64]().Alloc(6)
	cases := map[string]func(){
		"label out of range": func() {
			b.Upload(lab, []float32{0, 3})
			b.SoftmaxCE(z, lab, nil, nil, 2, 3, 1)
		},
		"negative label": func() {
			b.Upload(lab, []float32{-1, 0})
			b.CountCorrect(z, lab, 2, 3)
		},
		"fractional label": func() {
			b.Upload(lab, []float32{0.5, 0})
			b.SoftmaxCE(z, lab, nil, nil, 2, 3, 1)
		},
		"length mismatch": func() { b.Mul(z, z, lab) },
		"foreign buffer":  func() { b.Copy(z, other) },
		"view out of range": func() {
			b.View(z, 4, 3)
		},
		"gemm short buffer": func() {
			b.Gemm(kernels.NoTrans, kernels.NoTrans, 3, 3, 3, 1, z, 3, z, 3, 0, b.Alloc(9), 3)
		},
		"freed buffer": func() {
			x := b.Alloc(3)
			v := b.View(x, 1, 1)
			b.Free(x)
			b.Fill(v, 1)
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || len(s) < 8 || s[:8] != "kernels:" {
					t.Errorf("panic value %v, want a \"kernels:\" message", r)
				}
			}()
			f()
		})
	}
}

// TestDefinedFloat checks that a backend over a type defined on float32
// reaches BLAS.
func TestDefinedFloat(t *testing.T) {
	type f32 float32
	b := cpu.New[f32]()
	x := b.Alloc(3)
	b.Upload(x, []f32{1, 2, 2})
	if got := b.Nrm2(x); got != 3 {
		t.Errorf("Nrm2 = %v, want 3", got)
	}
	if got := b.Dot(x, x); got != 9 {
		t.Errorf("Dot = %v, want 9", got)
	}
}

func benchGemm[T kernels.Float](bn *testing.B, n int) {
	b := cpu.New[T]()
	a, bb, c := b.Alloc(n*n), b.Alloc(n*n), b.Alloc(n*n)
	b.Normal(a, 1)
	b.Normal(bb, 2)
	bn.ResetTimer()
	for bn.Loop() {
		b.Gemm(kernels.NoTrans, kernels.NoTrans, n, n, n, 1, a, n, bb, n, 0, c, n)
	}
	bn.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(bn.N)/bn.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm512Float32(b *testing.B) { benchGemm[float32](b, 512) }
func BenchmarkGemm512Float64(b *testing.B) { benchGemm[float64](b, 512) }

func benchActivate[T kernels.Float](bn *testing.B, act kernels.Activation, n int) {
	b := cpu.New[T]()
	z, a, d1, d2 := b.Alloc(n), b.Alloc(n), b.Alloc(n), b.Alloc(n)
	b.Normal(z, 1)
	bn.SetBytes(int64(4 * n * 8))
	for bn.Loop() {
		b.Activate(act, z, a, d1, d2)
	}
	bn.ReportMetric(float64(bn.Elapsed().Nanoseconds())/float64(bn.N)/float64(n), "ns/elem")
}

// BenchmarkActivate times every activation with both derivatives, at a
// size that fits in L2 (one chunk, no split) and at a hidden layer's size.
func BenchmarkActivate(b *testing.B) {
	names := []string{"linear", "relu", "tanh", "sigmoid", "gelu", "softplus"}
	for _, n := range []int{1 << 14, 512 * 512} {
		for act, name := range names {
			b.Run(fmt.Sprintf("%s/float32/n=%d", name, n), func(b *testing.B) { benchActivate[float32](b, kernels.Activation(act), n) })
			b.Run(fmt.Sprintf("%s/float64/n=%d", name, n), func(b *testing.B) { benchActivate[float64](b, kernels.Activation(act), n) })
		}
	}
}

func BenchmarkActivateTanh(b *testing.B) {
	for _, n := range []int{1 << 12, 1 << 15, 512 * 512} {
		b.Run(fmt.Sprintf("float32/n=%d", n), func(b *testing.B) { benchActivate[float32](b, kernels.Tanh, n) })
		b.Run(fmt.Sprintf("float64/n=%d", n), func(b *testing.B) { benchActivate[float64](b, kernels.Tanh, n) })
	}
}

// TestNrm2Float32: the float32 norm is sqrt(Dot(x, x)) bit for bit (one
// float64 sum of squares in Dot's order, so that Lanczos's norms and dot
// products agree), at lengths around the vector widths, on views at odd
// offsets, and it passes NaN and ±Inf on.
func TestNrm2Float32(t *testing.T) {
	b := cpu.New[float32]()
	for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 199210} {
		all := b.Alloc(n + 3)
		b.Normal(all, uint64(n))
		x := b.View(all, 3, n)
		if got, want := b.Nrm2(x), math.Sqrt(b.Dot(x, x)); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("n=%d: Nrm2 %.17g, sqrt(Dot) %.17g", n, got, want)
		}
		b.Free(all)
	}
	for _, c := range []struct {
		v    float32
		want float64
	}{{float32(math.NaN()), math.NaN()}, {float32(math.Inf(1)), math.Inf(1)}, {float32(math.Inf(-1)), math.Inf(1)}} {
		x := b.Alloc(20)
		b.Fill(x, 1)
		b.Fill(b.View(x, 13, 1), float64(c.v))
		if got := b.Nrm2(x); !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("Nrm2 with %v = %v, want %v", c.v, got, c.want)
		}
		b.Free(x)
	}
}
