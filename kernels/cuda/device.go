package cuda

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// ErrNoDevice reports that no usable CUDA device could be opened. Open and
// Devices wrap it with the reason: the driver library or cuBLAS not found,
// cuInit failed, no device, the PTX not built or not loadable.
var ErrNoDevice = errors.New("cuda: no usable CUDA device")

// EnvSync, when set to 1, turns on Options.Synchronous in every Open.
const EnvSync = "CURVPROBE_CUDA_SYNC"

// Options configure Open. The zero value opens device 0 for normal use.
type Options struct {
	// Ordinal is the device index, as in nvidia-smi's default order.
	Ordinal int
	// Synchronous makes every kernel launch wait for the kernel to finish
	// and check its status, so that an error names the kernel that failed,
	// and times each kernel with CUDA events (see Device.KernelStats). For
	// debugging: it serialises the host and the GPU. Also set by
	// CURVPROBE_CUDA_SYNC=1.
	Synchronous bool
	// TF32 lets cuBLAS use TF32 tensor cores for float32 GEMMs
	// (CUBLAS_TF32_TENSOR_OP_MATH): faster on Ampere and later, with
	// products rounded to 10 mantissa bits (relative error ~1e-3), so off by
	// default (CUBLAS_DEFAULT_MATH, full float32).
	TF32 bool
	// CUBLASPath, if set, is the only cuBLAS library tried (like
	// CURVPROBE_CUBLAS). It applies to the first Open of the process that
	// loads cuBLAS; the library stays loaded.
	CUBLASPath string
}

// DeviceInfo describes a CUDA device and the libraries that drive it.
type DeviceInfo struct {
	Ordinal       int
	Name          string // e.g. "NVIDIA H100 80GB HBM3"
	TotalMem      uint64 // bytes
	Major, Minor  int    // compute capability
	SMs           int    // multiprocessors
	DriverVersion int    // CUDA version the driver supports, e.g. 13000 for 13.0
	LibCUDA       string // the driver library loaded
	CUBLASVersion string // "MAJOR.MINOR.PATCH"; "" when cuBLAS was not found
	CUBLASPath    string // the cuBLAS library loaded, or why none was
}

// Driver returns DriverVersion as "MAJOR.MINOR".
func (i DeviceInfo) Driver() string {
	return fmt.Sprintf("%d.%d", i.DriverVersion/1000, i.DriverVersion%1000/10)
}

// String returns a one-line description for `curvprobe devices`.
func (i DeviceInfo) String() string {
	bl := "cuBLAS not found"
	if i.CUBLASVersion != "" {
		bl = "cuBLAS " + i.CUBLASVersion
	}
	return fmt.Sprintf("cuda:%d %s, %.1f GiB, compute capability %d.%d, %d SMs, CUDA driver %s, %s",
		i.Ordinal, i.Name, float64(i.TotalMem)/(1<<30), i.Major, i.Minor, i.SMs, i.Driver(), bl)
}

// Device is an open CUDA device: its primary context, one stream on which
// all work is queued in order, a cuBLAS handle bound to that stream, the
// loaded kernels and a scratch area for reductions. Backends (New) share
// it. A Device is safe for concurrent use: calls are serialised, and each
// runs on a thread locked for its duration with the context made current
// (see do), so callers need no thread discipline of their own.
type Device struct {
	drv  *driverAPI
	blas *cublasAPI
	info DeviceInfo
	sync bool // Options.Synchronous

	mu          sync.Mutex // guards everything below and every CUDA call
	closed      bool
	dev         int32
	ctx         uintptr
	stream      uintptr
	handle      uintptr // cuBLAS
	mods        []uintptr
	fns         [2][numKernels]uintptr
	sumPartials uintptr
	scratch     uintptr    // maxPartials partial sums, then the result pair
	ev          [4]uintptr // launch start/stop (Synchronous), Time start/stop
	err         error      // the first error, sticky
	stats       map[string]*KernelStat
}

// KernelStat is the count and total GPU time of one kernel's launches,
// recorded in Synchronous mode.
type KernelStat struct {
	Name  string
	Calls int
	Time  time.Duration
}

// Open opens a CUDA device: it loads libcuda.so.1 and cuBLAS, initialises
// the driver, retains the device's primary context and loads the embedded
// kernels. Without a usable device it returns an error wrapping ErrNoDevice
// that names the reason. Nothing is loaded before the first call.
func Open(o Options) (*Device, error) {
	drv, err := loadDriver()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	info, err := deviceInfo(drv, o.Ordinal)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	blas, err := loadCUBLAS(o.CUBLASPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	info.CUBLASVersion, info.CUBLASPath = blas.version, blas.path
	ptx := make([][]byte, len(modules))
	for i, m := range modules {
		if ptx[i], err = ptxSource(m); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
		}
	}
	d := &Device{drv: drv, blas: blas, info: info, sync: o.Synchronous || os.Getenv(EnvSync) == "1"}
	if err := d.init(o, ptx); err != nil {
		d.release()
		return nil, fmt.Errorf("%w: %s: %w", ErrNoDevice, info.Name, err)
	}
	return d, nil
}

// deviceInfo queries device ordinal (without creating a context).
func deviceInfo(drv *driverAPI, ordinal int) (DeviceInfo, error) {
	info := DeviceInfo{Ordinal: ordinal, LibCUDA: drv.path}
	var n, v int32
	if err := drv.error("cuDeviceGetCount", drv.cuDeviceGetCount(&n)); err != nil {
		return info, err
	}
	if n == 0 {
		return info, errors.New("no CUDA device (cuDeviceGetCount = 0)")
	}
	if ordinal < 0 || ordinal >= int(n) {
		return info, fmt.Errorf("device ordinal %d out of range (%d devices)", ordinal, n)
	}
	var dev int32
	if err := drv.error("cuDeviceGet", drv.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return info, err
	}
	var name [256]byte
	if err := drv.error("cuDeviceGetName", drv.cuDeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
		return info, err
	}
	info.Name = goString(&name[0])
	if err := drv.error("cuDeviceTotalMem_v2", drv.cuDeviceTotalMem(&info.TotalMem, dev)); err != nil {
		return info, err
	}
	for _, a := range []struct {
		attr int32
		dst  *int
	}{{attrComputeCapMajor, &info.Major}, {attrComputeCapMinor, &info.Minor}, {attrMultiprocessorCount, &info.SMs}} {
		if err := drv.error("cuDeviceGetAttribute", drv.cuDeviceGetAttribute(&v, a.attr, dev)); err != nil {
			return info, err
		}
		*a.dst = int(v)
	}
	if err := drv.error("cuDriverGetVersion", drv.cuDriverGetVersion(&v)); err != nil {
		return info, err
	}
	info.DriverVersion = int(v)
	return info, nil
}

// Devices lists the CUDA devices with their driver and cuBLAS versions,
// for `curvprobe devices`. It creates no context. Without a driver or a
// device it returns an error wrapping ErrNoDevice; a missing cuBLAS is
// reported in each DeviceInfo.CUBLASPath instead.
func Devices() ([]DeviceInfo, error) {
	drv, err := loadDriver()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	var n int32
	if err := drv.error("cuDeviceGetCount", drv.cuDeviceGetCount(&n)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no CUDA device (cuDeviceGetCount = 0)", ErrNoDevice)
	}
	blas, blasErr := loadCUBLAS("")
	var out []DeviceInfo
	for i := range int(n) {
		info, err := deviceInfo(drv, i)
		if err != nil {
			return out, fmt.Errorf("device %d: %w", i, err)
		}
		if blasErr != nil {
			info.CUBLASPath = blasErr.Error()
		} else {
			info.CUBLASVersion, info.CUBLASPath = blas.version, blas.path
		}
		out = append(out, info)
	}
	return out, nil
}

// init creates the context, stream, cuBLAS handle, modules, events and
// scratch of d. On error the caller releases what was made.
func (d *Device) init(o Options, ptx [][]byte) error {
	drv := d.drv
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := drv.error("cuDeviceGet", drv.cuDeviceGet(&d.dev, int32(o.Ordinal))); err != nil {
		return err
	}
	if err := drv.error("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(&d.ctx, d.dev)); err != nil {
		return err
	}
	if err := drv.error("cuCtxSetCurrent", drv.cuCtxSetCurrent(d.ctx)); err != nil {
		return err
	}
	// A blocking stream (flags 0): it also orders with the legacy default
	// stream, though every operation of ours names it explicitly.
	if err := drv.error("cuStreamCreate", drv.cuStreamCreate(&d.stream, 0)); err != nil {
		return err
	}
	b := d.blas
	if err := cublasError("cublasCreate_v2", b.create(&d.handle)); err != nil {
		return err
	}
	mode := int32(cublasDefaultMath)
	if o.TF32 {
		mode = cublasTF32TensorMath
	}
	for _, c := range []struct {
		op string
		st cublasStatus
	}{
		{"cublasSetStream_v2", b.setStream(d.handle, d.stream)},
		{"cublasSetMathMode", b.setMathMode(d.handle, mode)},
		{"cublasSetPointerMode_v2", b.setPointerMode(d.handle, cublasPointerModeHost)},
	} {
		if err := cublasError(c.op, c.st); err != nil {
			return err
		}
	}
	mods := map[string]uintptr{}
	for i, m := range modules {
		var h uintptr
		if err := drv.error("cuModuleLoadData("+m+".ptx)", drv.cuModuleLoadData(&h, unsafe.Pointer(&ptx[i][0]))); err != nil {
			return err
		}
		d.mods = append(d.mods, h)
		mods[m] = h
	}
	for k := range numKernels {
		for p := range 2 {
			name := kernelName(k, p)
			if err := drv.error("cuModuleGetFunction("+name+")", drv.cuModuleGetFunction(&d.fns[p][k], mods[kernelTable[k].module], name)); err != nil {
				return fmt.Errorf("%w (stale PTX? run make ptx)", err)
			}
		}
	}
	if err := drv.error("cuModuleGetFunction("+sumPartialsName+")", drv.cuModuleGetFunction(&d.sumPartials, mods["reduce"], sumPartialsName)); err != nil {
		return err
	}
	for i := range d.ev {
		if err := drv.error("cuEventCreate", drv.cuEventCreate(&d.ev[i], 0)); err != nil {
			return err
		}
	}
	if err := drv.error("cuMemAlloc_v2(scratch)", drv.cuMemAlloc(&d.scratch, (maxPartials+2)*8)); err != nil {
		return err
	}
	d.stats = map[string]*KernelStat{}
	return nil
}

// release frees what init made and marks d closed.
func (d *Device) release() {
	drv := d.drv
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if d.ctx == 0 {
		d.closed = true
		return
	}
	drv.cuCtxSetCurrent(d.ctx)
	if d.stream != 0 {
		drv.cuStreamSynchronize(d.stream)
	}
	if d.scratch != 0 {
		drv.cuMemFree(d.scratch)
	}
	for _, e := range d.ev {
		if e != 0 {
			drv.cuEventDestroy(e)
		}
	}
	if d.handle != 0 {
		d.blas.destroy(d.handle)
	}
	for _, m := range d.mods {
		drv.cuModuleUnload(m)
	}
	if d.stream != 0 {
		drv.cuStreamDestroy(d.stream)
	}
	drv.cuDevicePrimaryCtxRelease(d.dev)
	// Field by field: the caller may hold d.mu.
	d.closed = true
	d.ctx, d.stream, d.handle, d.scratch, d.sumPartials = 0, 0, 0, 0, 0
	d.mods, d.fns, d.ev = nil, [2][numKernels]uintptr{}, [4]uintptr{}
}

// Close waits for queued work and releases the device's resources. Buffers
// of its backends become invalid. Close returns the device's first error,
// if any; closing twice is a no-op.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	err := d.err
	d.release()
	return err
}

// Info describes the device.
func (d *Device) Info() DeviceInfo { return d.info }

// Err returns the device's first error, if any, without waiting.
func (d *Device) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Sync waits for all queued work and returns the device's first error.
// Errors are sticky: after a kernel fails, the context is unusable.
func (d *Device) Sync() error {
	d.do(func() {
		d.check("cuCtxSynchronize", d.drv.cuCtxSynchronize())
	})
	return d.Err()
}

// MemInfo returns the device's free and total memory in bytes.
func (d *Device) MemInfo() (free, total uint64, err error) {
	d.do(func() {
		err = d.drv.error("cuMemGetInfo_v2", d.drv.cuMemGetInfo(&free, &total))
	})
	return free, total, err
}

// KernelStats returns the launches and GPU time of each kernel so far, by
// decreasing time; empty unless the device is Synchronous.
func (d *Device) KernelStats() []KernelStat {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []KernelStat
	for _, s := range d.stats {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b KernelStat) int { return int(b.Time - a.Time) })
	return out
}

// Time returns the GPU time between the work queued before f and the work
// f queued, measured with CUDA events on the device's stream. It waits for
// that work. Time is not reentrant.
func (d *Device) Time(f func()) (time.Duration, error) {
	d.do(func() { d.check("cuEventRecord", d.drv.cuEventRecord(d.ev[2], d.stream)) })
	f()
	var ms float32
	d.do(func() {
		if d.check("cuEventRecord", d.drv.cuEventRecord(d.ev[3], d.stream)) &&
			d.check("cuEventSynchronize", d.drv.cuEventSynchronize(d.ev[3])) {
			d.check("cuEventElapsedTime", d.drv.cuEventElapsedTime(&ms, d.ev[2], d.ev[3]))
		}
	})
	return time.Duration(float64(ms) * float64(time.Millisecond)), d.Err()
}

// do runs f with the device's mutex held, on an OS thread locked for the
// duration with the device's context current. Every CUDA call goes through
// do: the context is per thread in the driver API and Go moves goroutines
// between threads, so the thread is pinned and the context made current
// (a cheap thread-local store) for each call, rather than handing work to
// a dedicated thread, which would cost two thread wake-ups per call.
func (d *Device) do(f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		panic("kernels: use of a closed cuda Device")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !d.check("cuCtxSetCurrent", d.drv.cuCtxSetCurrent(d.ctx)) {
		return
	}
	f()
}

// fail records err as the device's error unless one is already recorded.
// The caller holds mu.
func (d *Device) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// check records a failed driver call and reports whether r is success.
func (d *Device) check(op string, r cuResult) bool {
	if r == cudaSuccess {
		return true
	}
	d.fail(d.drv.error(op, r))
	return false
}

// checkBLAS records a failed cuBLAS call and reports whether s is success.
func (d *Device) checkBLAS(op string, s cublasStatus) bool {
	if s == 0 {
		return true
	}
	d.fail(cublasError(op, s))
	return false
}
