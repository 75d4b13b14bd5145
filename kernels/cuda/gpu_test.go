package cuda_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/kernels/cpu"
	"github.com/curvprobe/curvprobe/kernels/cuda"
	"github.com/curvprobe/curvprobe/kernels/kerneltest"
	"github.com/curvprobe/curvprobe/models"
)

// The tests here need a CUDA device. Without one they skip, unless
// REQUIRE_GPU=1 (the GPU session), where they fail.

var shared struct {
	once sync.Once
	dev  *cuda.Device
	err  error
}

// device returns the device shared by the tests (the PTX is JIT-compiled
// once), skipping or failing t without one.
func device(t testing.TB) *cuda.Device {
	t.Helper()
	shared.once.Do(func() { shared.dev, shared.err = cuda.Open(cuda.Options{}) })
	if shared.err != nil {
		if os.Getenv("REQUIRE_GPU") == "1" {
			t.Fatalf("REQUIRE_GPU=1 but no device: %v", shared.err)
		}
		t.Skipf("no CUDA device: %v", shared.err)
	}
	return shared.dev
}

func newBackend[T kernels.Float](t testing.TB, dev *cuda.Device) *cuda.Backend[T] {
	t.Helper()
	b, err := cuda.New[T](dev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDevices(t *testing.T) {
	dev := device(t)
	t.Logf("opened %s", dev.Info())
	infos, err := cuda.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range infos {
		t.Logf("%s (libcuda %s, cuBLAS %s)", i, i.LibCUDA, i.CUBLASPath)
		if i.Name == "" || i.TotalMem == 0 || i.Major < 7 || i.SMs == 0 || i.DriverVersion < 11000 || i.CUBLASVersion == "" {
			t.Errorf("implausible DeviceInfo %+v", i)
		}
	}
	free, total, err := dev.MemInfo()
	if err != nil || free == 0 || free > total {
		t.Errorf("MemInfo = %d, %d, %v", free, total, err)
	}
}

func TestConformance(t *testing.T) {
	dev := device(t)
	t.Run("float32", func(t *testing.T) {
		kerneltest.Run[float32](t, func() kernels.Backend[float32] { return newBackend[float32](t, dev) })
	})
	t.Run("float64", func(t *testing.T) {
		kerneltest.Run[float64](t, func() kernels.Backend[float64] { return newBackend[float64](t, dev) })
	})
	if err := dev.Sync(); err != nil {
		t.Fatalf("device error after the suite: %v", err)
	}
}

// TestConformanceSynchronous runs a part of the suite with every launch
// synchronised and timed, and checks that the timings were recorded.
func TestConformanceSynchronous(t *testing.T) {
	device(t)
	dev, err := cuda.Open(cuda.Options{Synchronous: true})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	kerneltest.Run[float32](t, func() kernels.Backend[float32] { return newBackend[float32](t, dev) })
	stats := dev.KernelStats()
	if len(stats) < 10 {
		t.Errorf("KernelStats has %d kernels", len(stats))
	}
	for i, s := range stats {
		if i < 8 {
			t.Logf("%-24s %7d calls %12v", s.Name, s.Calls, s.Time)
		}
	}
	if err := dev.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func mustPanic(t *testing.T, what, prefix string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		if !strings.HasPrefix(fmt.Sprint(r), prefix) {
			t.Errorf("%s: panic %q, want prefix %q", what, fmt.Sprint(r), prefix)
		}
	}()
	f()
}

// TestBuffers checks ownership, freeing, views and partial-overlap copies
// on the device.
func TestBuffers(t *testing.T) {
	dev := device(t)
	b32, other := newBackend[float32](t, dev), newBackend[float32](t, dev)
	c := cpu.New[float32]()
	x := b32.Alloc(10)
	mustPanic(t, "cpu buffer", "kernels:", func() { b32.Fill(c.Alloc(10), 1) })
	mustPanic(t, "other backend's buffer", "kernels:", func() { other.Fill(x, 1) })
	mustPanic(t, "view out of range", "kernels:", func() { b32.View(x, 5, 6) })
	v := b32.View(x, 2, 5)
	b32.Free(v) // no-op
	b32.Fill(x, 2)
	b32.Free(x)
	b32.Free(x) // no-op
	mustPanic(t, "use after free", "kernels:", func() { b32.Fill(x, 1) })
	mustPanic(t, "view after free", "kernels:", func() { b32.Fill(v, 1) })

	// Copy between overlapping views of one allocation.
	y := b32.Alloc(10)
	defer b32.Free(y)
	src := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	b32.Upload(y, src)
	b32.Copy(b32.View(y, 2, 6), b32.View(y, 0, 6))
	got := make([]float32, 10)
	b32.Download(got, y)
	want := []float32{0, 1, 0, 1, 2, 3, 4, 5, 8, 9}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("overlapping Copy: got %v, want %v", got, want)
		}
	}

	// Invalid labels panic as on the CPU.
	z, l := b32.Alloc(6), b32.Alloc(2)
	b32.Upload(l, []float32{1, 3})
	mustPanic(t, "SoftmaxCE label 3 of 3", "kernels: label out of range", func() { b32.SoftmaxCE(z, l, nil, nil, 2, 3, 1) })
	b32.Upload(l, []float32{1, 0.5})
	mustPanic(t, "CountCorrect label 0.5", "kernels: label out of range", func() { b32.CountCorrect(z, l, 2, 3) })
	b32.Free(z)
	b32.Free(l)
	if err := b32.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestPlanAgainstCPU builds the same small MLPs on the CPU and the GPU and
// compares loss, accuracy, gradient and Hessian-vector product, for every
// activation and both losses, over several batches (the last one short).
// Tolerances are normwise relative: 1e-12 for float64 (both sides are
// float64 with float64 reductions; GEMM order differs) and 1e-5 for
// float32 (a few float32 roundings, 6e-8 each, in sums of a few hundred
// terms, plus cancellation in the HVP's terms).
func TestPlanAgainstCPU(t *testing.T) {
	dev := device(t)
	t.Run("float64", func(t *testing.T) { planAgainstCPU[float64](t, dev, 1e-12) })
	t.Run("float32", func(t *testing.T) { planAgainstCPU[float32](t, dev, 1e-5) })
}

func planAgainstCPU[T kernels.Float](t *testing.T, dev *cuda.Device, tol float64) {
	gpu := newBackend[T](t, dev)
	cpuB := cpu.New[T]()
	acts := []kernels.Activation{kernels.ReLU, kernels.Tanh, kernels.Sigmoid, kernels.Gelu, kernels.Softplus, kernels.Linear}
	for _, act := range acts {
		for _, loss := range []models.Loss{models.CrossEntropy, models.MSE} {
			spec := models.Spec{Layers: []int{13, 33, 17, 5}, Activation: act, Loss: loss, Bias: true}
			t.Run(fmt.Sprintf("%s/%s", models.ActivationName(act), loss), func(t *testing.T) {
				planCase(t, spec, cpuB, gpu, tol)
			})
		}
	}
}

// lcg is a small deterministic generator for the test data.
type lcg uint64

func (s *lcg) next() uint64 {
	*s = *s*6364136223846793005 + 1442695040888963407
	return uint64(*s)
}

func (s *lcg) intn(n int) int { return int(s.next()>>33) % n }

func (s *lcg) normal() float64 {
	u1 := (float64(s.next()>>11) + 0.5) / (1 << 53)
	u2 := float64(s.next()>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// reporter is the part of *testing.T that planCase uses.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Logf(format string, args ...any)
}

func planCase[T kernels.Float](t reporter, spec models.Spec, cb, gb kernels.Backend[T], tol float64) {
	const n, batch = 300, 128
	rng := lcg(42)
	np := spec.NumParams()
	params := make([]float64, np)
	for i := range params {
		params[i] = 0.3 * rng.normal()
	}
	x := make([]float64, n*spec.Inputs())
	for i := range x {
		x[i] = rng.normal()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = rng.intn(spec.Outputs())
	}
	var targets []float64
	if spec.Loss == models.MSE {
		targets = make([]float64, n*spec.Outputs())
		for i := range targets {
			targets[i] = rng.normal()
		}
	}
	v := make([]T, np)
	for i := range v {
		v[i] = T(rng.normal())
	}
	type result struct {
		ev        models.Eval
		grad, hvp []float64
	}
	run := func(be kernels.Backend[T]) result {
		p, err := models.Build[T](be, spec, models.Settings{Batch: batch})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetParams(params); err != nil {
			t.Fatal(err)
		}
		d, err := p.NewData(x, n, labels, targets)
		if err != nil {
			t.Fatal(err)
		}
		defer p.FreeData(d)
		g, vb, hv := be.Alloc(np), be.Alloc(np), be.Alloc(np)
		defer func() { be.Free(g); be.Free(vb); be.Free(hv) }()
		ev, err := p.Gradient(context.Background(), g, d)
		if err != nil {
			t.Fatal(err)
		}
		be.Upload(vb, v)
		if err := p.HVP(context.Background(), hv, vb, d); err != nil {
			t.Fatal(err)
		}
		if err := be.Sync(); err != nil {
			t.Fatal(err)
		}
		return result{ev, models.Download(be, g), models.Download(be, hv)}
	}
	c, g := run(cb), run(gb)
	if e := math.Abs(g.ev.Loss-c.ev.Loss) / math.Abs(c.ev.Loss); !(e <= tol) {
		t.Errorf("loss: gpu %.17g, cpu %.17g, relative error %.3g > %.3g", g.ev.Loss, c.ev.Loss, e, tol)
	}
	if spec.Loss == models.CrossEntropy && g.ev.Accuracy != c.ev.Accuracy {
		// Argmax ties could differ only through rounding; report it.
		t.Logf("accuracy: gpu %v, cpu %v", g.ev.Accuracy, c.ev.Accuracy)
	}
	for _, vec := range []struct {
		name     string
		got, ref []float64
	}{{"gradient", g.grad, c.grad}, {"HVP", g.hvp, c.hvp}} {
		var num, den, worst float64
		at := 0
		for i := range vec.ref {
			d := vec.got[i] - vec.ref[i]
			num += d * d
			den += vec.ref[i] * vec.ref[i]
			if math.Abs(d) > worst || math.IsNaN(d) {
				worst, at = math.Abs(d), i
			}
		}
		if e := math.Sqrt(num / den); !(e <= tol) {
			t.Errorf("%s: normwise relative error %.3g > %.3g; worst element %d: gpu %.17g, cpu %.17g",
				vec.name, e, tol, at, vec.got[at], vec.ref[at])
		}
	}
}

// TestPlanHarness runs the GPU-vs-CPU comparison with the CPU on both
// sides (no GPU needed): the harness itself must pass with zero error and
// fail when one side is perturbed.
func TestPlanHarness(t *testing.T) {
	spec := models.Spec{Layers: []int{13, 33, 17, 5}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	planCase[float64](t, spec, cpu.New[float64](), cpu.New[float64](), 0)
	rec := &recorder{}
	planCase[float64](rec, spec, cpu.New[float64](), perturbed{cpu.New[float64]()}, 1e-12)
	if len(rec.errs) != 3 { // loss, gradient, HVP
		t.Errorf("perturbed backend: %d errors, want 3: %q", len(rec.errs), rec.errs)
	}
}

// recorder is a reporter that keeps the errors.
type recorder struct{ errs []string }

func (*recorder) Helper()                     {}
func (*recorder) Logf(string, ...any)         {}
func (r *recorder) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

// perturbed is a CPU backend whose activations are off by one part in 1e9.
type perturbed struct{ *cpu.Backend[float64] }

func (p perturbed) Activate(act kernels.Activation, z, a, d1, d2 kernels.Buffer) {
	p.Backend.Activate(act, z, a, d1, d2)
	p.Backend.Scale(1+1e-9, a)
}

// BenchmarkHVP times one exact HVP of a 784-512-512-10 tanh MLP on a batch
// of 512 in float32 (the bench hvp configuration), and the GEMM ceiling.
func BenchmarkHVP(b *testing.B) {
	dev := device(b)
	be := newBackend[float32](b, dev)
	spec := models.Spec{Layers: []int{784, 512, 512, 10}, Activation: kernels.Tanh, Loss: models.CrossEntropy, Bias: true}
	p, err := models.Build[float32](be, spec, models.Settings{Batch: 512})
	if err != nil {
		b.Fatal(err)
	}
	p.Init(1)
	const n = 512
	rng := lcg(7)
	x := make([]float64, n*784)
	for i := range x {
		x[i] = rng.normal()
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 10
	}
	d, err := p.NewData(x, n, labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	v, hv := be.Alloc(p.NumParams()), be.Alloc(p.NumParams())
	be.Normal(v, 3)
	op := p.CurvatureOperator(d, models.Hessian)
	defer op.Close()
	ctx := context.Background()
	if err := op.Apply(ctx, hv, v); err != nil { // warm-up, fills the cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := op.Apply(ctx, hv, v); err != nil {
			b.Fatal(err)
		}
	}
	if err := be.Sync(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLaunch measures the host cost of one small kernel launch
// (thread pinning, context, purego call), synchronised every 100 launches.
func BenchmarkLaunch(b *testing.B) {
	dev := device(b)
	be := newBackend[float32](b, dev)
	x := be.Alloc(1024)
	defer be.Free(x)
	b.ResetTimer()
	for i := range b.N {
		be.Fill(x, 1)
		if i%100 == 99 {
			be.Sync()
		}
	}
	be.Sync()
}

// TestEmulated runs the conformance suite and the GPU-vs-CPU comparison on
// the CPU emulation of the device (emu_test.go): the real launchers and
// kernels, without a GPU. Grids are capped at 3 blocks to keep the
// one-thread-per-CUDA-thread emulation tolerable. Set CURVPROBE_EMULATE=1
// to run it; `-run 'TestEmulated/float64/SoftmaxCE'` picks one kernel.
func TestEmulated(t *testing.T) {
	if os.Getenv("CURVPROBE_EMULATE") != "1" {
		t.Skip("slow (about 5 minutes): set CURVPROBE_EMULATE=1")
	}
	dev := cuda.OpenEmulated(t, false, 3)
	t.Run("float32", func(t *testing.T) {
		kerneltest.Run[float32](t, func() kernels.Backend[float32] { return newBackend[float32](t, dev) })
	})
	t.Run("float64", func(t *testing.T) {
		kerneltest.Run[float64](t, func() kernels.Backend[float64] { return newBackend[float64](t, dev) })
	})
	t.Run("Plan/float64", func(t *testing.T) { planAgainstCPU[float64](t, dev, 1e-12) })
	t.Run("Plan/float32", func(t *testing.T) { planAgainstCPU[float32](t, dev, 1e-5) })
	if err := dev.Sync(); err != nil {
		t.Fatal(err)
	}
}
