package cuda

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// A CPU emulation of the device for machines without a GPU: the real
// launchers and the real kernels/cuda/*.cu, compiled as host C++ with
// testdata/emu (one host thread per CUDA thread, barriers for
// __syncthreads), behind a Go fake of the driver (host memory) and of
// cuBLAS (reference loops). It checks the kernels' logic, indexing,
// aliasing and the Go side's argument passing; it does not check PTX
// compilation, the real driver or cuBLAS, or GPU memory semantics.

var emu struct {
	once   sync.Once
	lib    uintptr
	launch func(fn uintptr, n int32, kinds *byte, params unsafe.Pointer, gx, bx, by uint32, threads int32) int32
	err    error
}

// barrierKernels use __syncthreads and need one host thread per CUDA thread.
var barrierKernels = []string{"col_sum", "softmax_ce", "softmax_hvp", "squared_error", "count_correct", "dot", "sumsq", "sum_partials"}

func buildEmulator() error {
	if _, err := os.Stat("testdata/emu/emu.cpp"); err != nil {
		return fmt.Errorf("sources not in the working directory (run from kernels/cuda): %w", err)
	}
	cxx, err := exec.LookPath("g++")
	if err != nil {
		return fmt.Errorf("g++ not found: %w", err)
	}
	args := []string{"-std=c++20", "-O1", "-ffp-contract=off", "-fPIC", "-shared", "-pthread", "-w",
		"-Itestdata/emu", "-include", "testdata/emu/emu.h", "-x", "c++"}
	for _, m := range modules {
		args = append(args, m+".cu")
	}
	args = append(args, "-x", "none", "testdata/emu/emu.cpp")
	lib, err := emulatorLib(cxx, args)
	if err != nil {
		return err
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return err
	}
	emu.lib = h
	return bind(h, &emu.launch, "emu_launch")
}

// emulatorLib returns the emulator library built by cxx with args: from
// the user's cache when one was built from the same sources, compiler and
// arguments (the build takes most of this package's test time), else
// built now, into the cache where there is one. A build goes to a
// temporary file renamed into place, so concurrent test processes share
// the cache safely.
func emulatorLib(cxx string, args []string) (string, error) {
	h := sha256.New()
	ver, _ := exec.Command(cxx, "--version").Output()
	fmt.Fprintf(h, "%s\x00%s\x00%q\x00", cxx, ver, args)
	srcs, _ := filepath.Glob("testdata/emu/*")
	for _, m := range modules {
		srcs = append(srcs, m+".cu")
	}
	cuh, _ := filepath.Glob("*.cuh")
	for _, f := range append(srcs, cuh...) {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	dir, err := os.UserCacheDir()
	if err == nil {
		dir = filepath.Join(dir, "curvprobe-emu")
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		if dir, err = os.MkdirTemp("", "curvprobe-emu"); err != nil {
			return "", err
		}
	}
	lib := filepath.Join(dir, fmt.Sprintf("libemu-%x.so", h.Sum(nil)[:12]))
	if _, err := os.Stat(lib); err == nil {
		return lib, nil
	}
	tmp := fmt.Sprintf("%s.tmp%d", lib, os.Getpid())
	if out, err := exec.Command(cxx, append(args, "-o", tmp)...).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building the emulator: %v\n%s", err, out)
	}
	return lib, os.Rename(tmp, lib)
}

// fakeMem is "device" memory: Go byte slices that the emulated kernels
// address directly (Go's heap does not move).
type fakeMem struct {
	mu     sync.Mutex
	blocks map[uintptr][]byte
}

func (m *fakeMem) alloc(n uint64) uintptr {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := make([]byte, n)
	p := uintptr(unsafe.Pointer(&b[0]))
	m.blocks[p] = b
	return p
}

func (m *fakeMem) free(p uintptr) cuResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blocks[p]; !ok {
		return 1 // CUDA_ERROR_INVALID_VALUE
	}
	delete(m.blocks, p)
	return 0
}

// bytes returns the n bytes at device address p, panicking if they are not
// inside one allocation.
func (m *fakeMem) bytes(p uintptr, n uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	for base, b := range m.blocks {
		if p >= base && p < base+uintptr(len(b)) {
			off := p - base
			if uint64(off)+n > uint64(len(b)) {
				panic(fmt.Sprintf("emu: access of %d bytes at offset %d of a %d-byte allocation", n, off, len(b)))
			}
			return b[off : uint64(off)+n]
		}
	}
	panic(fmt.Sprintf("emu: address %#x is not device memory", p))
}

// rest returns the elements of type E from p to the end of its allocation.
func rest[E float32 | float64](m *fakeMem, p uintptr) []E {
	m.mu.Lock()
	var b []byte
	for base, blk := range m.blocks {
		if p >= base && p < base+uintptr(len(blk)) {
			b = blk[p-base:]
		}
	}
	m.mu.Unlock()
	if b == nil {
		panic(fmt.Sprintf("emu: address %#x is not device memory", p))
	}
	var e E
	return unsafe.Slice((*E)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(e)))
}

// OpenEmulated returns a Device on the CPU emulation, skipping t where it
// cannot be built (no g++). Grids are capped at gridLimit blocks (0: none)
// for the life of the test.
func OpenEmulated(t testing.TB, synchronous bool, gridLimit int) *Device {
	t.Helper()
	emu.once.Do(func() { emu.err = buildEmulator() })
	if emu.err != nil {
		t.Skipf("no CPU emulation: %v", emu.err)
	}
	old := testGridLimit
	testGridLimit = gridLimit
	t.Cleanup(func() { testGridLimit = old })

	mem := &fakeMem{blocks: map[uintptr][]byte{}}
	threaded := map[uintptr]bool{}
	drv := &driverAPI{path: "emulated"}
	drv.cuCtxSetCurrent = func(uintptr) cuResult { return 0 }
	drv.cuCtxSynchronize = func() cuResult { return 0 }
	drv.cuStreamSynchronize = func(uintptr) cuResult { return 0 }
	drv.cuEventRecord = func(uintptr, uintptr) cuResult { return 0 }
	drv.cuEventSynchronize = func(uintptr) cuResult { return 0 }
	drv.cuEventElapsedTime = func(ms *float32, _, _ uintptr) cuResult { *ms = 1e-3; return 0 }
	drv.cuGetErrorName = func(cuResult, **byte) cuResult { return 1 }
	drv.cuGetErrorString = func(cuResult, **byte) cuResult { return 1 }
	drv.cuMemGetInfo = func(free, total *uint64) cuResult { *free, *total = 1<<30, 1<<30; return 0 }
	drv.cuMemAlloc = func(p *uintptr, n uint64) cuResult { *p = mem.alloc(n); return 0 }
	drv.cuMemFree = mem.free
	drv.cuMemsetD8Async = func(p uintptr, v uint8, n uint64, _ uintptr) cuResult {
		b := mem.bytes(p, n)
		for i := range b {
			b[i] = v
		}
		return 0
	}
	drv.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, _ uintptr) cuResult {
		copy(mem.bytes(dst, n), unsafe.Slice((*byte)(src), n))
		return 0
	}
	drv.cuMemcpyDtoHAsync = func(dst unsafe.Pointer, src uintptr, n uint64, _ uintptr) cuResult {
		copy(unsafe.Slice((*byte)(dst), n), mem.bytes(src, n))
		return 0
	}
	drv.cuMemcpyDtoDAsync = func(dst, src uintptr, n uint64, _ uintptr) cuResult {
		if dst < src+uintptr(n) && src < dst+uintptr(n) {
			panic("emu: cuMemcpyDtoDAsync of overlapping ranges")
		}
		copy(mem.bytes(dst, n), mem.bytes(src, n))
		return 0
	}
	drv.cuLaunchKernel = func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, _ uintptr, params, extra unsafe.Pointer) cuResult {
		if gy != 1 || gz != 1 || bz != 1 || shmem != 0 || extra != nil || gx == 0 || bx*by > 1024 {
			return 1
		}
		a := (*kargs)(unsafe.Add(params, -int(unsafe.Offsetof(kargs{}.ptrs))))
		if unsafe.Pointer(&a.ptrs[0]) != params {
			panic("emu: kernel parameters are not a kargs")
		}
		th := int32(0)
		if threaded[f] {
			th = 1
		}
		return cuResult(emu.launch(f, int32(a.n), &a.kinds[0], params, gx, bx, by, th))
	}

	d := &Device{drv: drv, blas: fakeCUBLAS(mem), sync: synchronous, ctx: 1, stream: 1, handle: 1,
		info:  DeviceInfo{Name: "CPU emulation", CUBLASVersion: "emulated"},
		stats: map[string]*KernelStat{}}
	sym := func(name string) uintptr {
		s, err := purego.Dlsym(emu.lib, name)
		if err != nil || s == 0 {
			t.Fatalf("emulator lacks %s: %v", name, err)
		}
		for _, b := range barrierKernels {
			if strings.TrimSuffix(strings.TrimSuffix(name, "_f32"), "_f64") == b {
				threaded[s] = true
			}
		}
		return s
	}
	for k := range numKernels {
		for p := range 2 {
			d.fns[p][k] = sym(kernelName(k, p))
		}
	}
	d.sumPartials = sym(sumPartialsName)
	d.scratch = mem.alloc((maxPartials + 2) * 8)
	return d
}

// fakeCUBLAS implements the cuBLAS calls on fakeMem with reference loops
// (accumulating in float64, then rounding, within cuBLAS's accuracy).
func fakeCUBLAS(mem *fakeMem) *cublasAPI {
	b := &cublasAPI{path: "emulated", version: "emulated"}
	b.sgemm = func(_ uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, bb uintptr, ldb int32, beta *float32, c uintptr, ldc int32) cublasStatus {
		colGemm(int(ta), int(tb), int(m), int(n), int(k), float64(*alpha), rest[float32](mem, a), int(lda), rest[float32](mem, bb), int(ldb), float64(*beta), rest[float32](mem, c), int(ldc))
		return 0
	}
	b.dgemm = func(_ uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, bb uintptr, ldb int32, beta *float64, c uintptr, ldc int32) cublasStatus {
		colGemm(int(ta), int(tb), int(m), int(n), int(k), *alpha, rest[float64](mem, a), int(lda), rest[float64](mem, bb), int(ldb), *beta, rest[float64](mem, c), int(ldc))
		return 0
	}
	b.saxpy = func(_ uintptr, n int32, alpha *float32, x uintptr, incx int32, y uintptr, incy int32) cublasStatus {
		xs, ys := rest[float32](mem, x), rest[float32](mem, y)
		for i := range int(n) {
			ys[i] = *alpha*xs[i] + ys[i]
		}
		return 0
	}
	b.daxpy = func(_ uintptr, n int32, alpha *float64, x uintptr, incx int32, y uintptr, incy int32) cublasStatus {
		xs, ys := rest[float64](mem, x), rest[float64](mem, y)
		for i := range int(n) {
			ys[i] = *alpha*xs[i] + ys[i]
		}
		return 0
	}
	b.sscal = func(_ uintptr, n int32, alpha *float32, x uintptr, incx int32) cublasStatus {
		xs := rest[float32](mem, x)
		for i := range int(n) {
			xs[i] *= *alpha
		}
		return 0
	}
	b.dscal = func(_ uintptr, n int32, alpha *float64, x uintptr, incx int32) cublasStatus {
		xs := rest[float64](mem, x)
		for i := range int(n) {
			xs[i] *= *alpha
		}
		return 0
	}
	b.dnrm2 = func(_ uintptr, n int32, x uintptr, incx int32, r *float64) cublasStatus {
		xs := rest[float64](mem, x)
		scale, ssq := 0.0, 1.0
		for _, v := range xs[:n] {
			if a := math.Abs(v); a > 0 {
				if scale < a {
					ssq = 1 + ssq*(scale/a)*(scale/a)
					scale = a
				} else {
					ssq += (a / scale) * (a / scale)
				}
			}
		}
		*r = scale * math.Sqrt(ssq)
		return 0
	}
	return b
}

// colGemm is the reference column-major GEMM of cuBLAS/BLAS on T slices
// (the emulated device's sgemm and dgemm, and TestRowMajorGemm's stand-in
// for cuBLAS): C = alpha*op(X)*op(Y) + beta*C, op(X) m×k, op(Y) k×n,
// element (i, j) of a column-major matrix M with leading dimension ld at
// M[i + j*ld], summed in float64 and rounded once to T.
func colGemm[T float32 | float64](opX, opY, m, n, k int, alpha float64, x []T, ldx int, y []T, ldy int, beta float64, c []T, ldc int) {
	at := func(mat []T, ld, op, i, j int) float64 {
		if op == cublasOpT {
			i, j = j, i
		}
		return float64(mat[i+j*ld])
	}
	for j := range n {
		for i := range m {
			var s float64
			for l := range k {
				s += at(x, ldx, opX, i, l) * at(y, ldy, opY, l, j)
			}
			if beta == 0 {
				c[i+j*ldc] = T(alpha * s)
			} else {
				c[i+j*ldc] = T(alpha*s + beta*float64(c[i+j*ldc]))
			}
		}
	}
}

// TestEmulatedDevice checks the Device's own paths on the emulation:
// Synchronous launches with their statistics, Time, MemInfo, Close twice
// and use after Close.
func TestEmulatedDevice(t *testing.T) {
	d := OpenEmulated(t, true, 2)
	b, err := New[float64](d)
	if err != nil {
		t.Fatal(err)
	}
	x := b.Alloc(1000)
	el, err := d.Time(func() { b.Fill(x, 2) })
	if err != nil || el <= 0 {
		t.Errorf("Time = %v, %v", el, err)
	}
	if got := b.Dot(x, x); got != 4000 {
		t.Errorf("Dot = %v, want 4000", got)
	}
	stats := d.KernelStats()
	names := map[string]int{}
	for _, s := range stats {
		names[s.Name] = s.Calls
	}
	if names["fill_f64"] != 1 || names["dot_f64"] != 1 || names[sumPartialsName] != 1 {
		t.Errorf("KernelStats = %+v", stats)
	}
	if free, total, err := d.MemInfo(); err != nil || free == 0 || total == 0 {
		t.Errorf("MemInfo = %d, %d, %v", free, total, err)
	}
	b.Free(x)
	// Close releases through the fake driver: give it the calls it needs.
	d.drv.cuModuleUnload = func(uintptr) cuResult { return 0 }
	d.drv.cuEventDestroy = func(uintptr) cuResult { return 0 }
	d.drv.cuStreamDestroy = func(uintptr) cuResult { return 0 }
	d.drv.cuDevicePrimaryCtxRelease = func(int32) cuResult { return 0 }
	d.blas.destroy = func(uintptr) cublasStatus { return 0 }
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := New[float32](d); err == nil {
		t.Error("New on a closed Device: no error")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "kernels:") {
				t.Errorf("use after Close: recovered %v", r)
			}
		}()
		d.Sync()
	}()
}
