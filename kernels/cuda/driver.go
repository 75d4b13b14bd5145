package cuda

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// cuResult is the driver API's CUresult.
type cuResult int32

const cudaSuccess cuResult = 0

// CUdevice_attribute values (cuda.h).
const (
	attrMultiprocessorCount = 16
	attrComputeCapMajor     = 75
	attrComputeCapMinor     = 76
)

// driverAPI holds the libcuda.so.1 entry points curvprobe uses, bound with
// purego. Versioned symbols are the ones cuda.h maps the plain names to
// (cuMemAlloc -> cuMemAlloc_v2, ...); the legacy-default-stream variants,
// not the per-thread (_ptds/_ptsz) ones.
type driverAPI struct {
	path string

	cuInit                    func(flags uint32) cuResult
	cuDriverGetVersion        func(v *int32) cuResult
	cuDeviceGetCount          func(n *int32) cuResult
	cuDeviceGet               func(dev *int32, ordinal int32) cuResult
	cuDeviceGetName           func(name *byte, n int32, dev int32) cuResult
	cuDeviceTotalMem          func(bytes *uint64, dev int32) cuResult
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) cuResult
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) cuResult
	cuDevicePrimaryCtxRelease func(dev int32) cuResult
	cuCtxSetCurrent           func(ctx uintptr) cuResult
	cuCtxSynchronize          func() cuResult
	cuMemAlloc                func(p *uintptr, bytes uint64) cuResult
	cuMemGetInfo              func(free, total *uint64) cuResult
	cuMemFree                 func(p uintptr) cuResult
	cuMemcpyHtoDAsync         func(dst uintptr, src unsafe.Pointer, bytes uint64, stream uintptr) cuResult
	cuMemcpyDtoHAsync         func(dst unsafe.Pointer, src uintptr, bytes uint64, stream uintptr) cuResult
	cuMemcpyDtoDAsync         func(dst, src uintptr, bytes uint64, stream uintptr) cuResult
	cuMemsetD8Async           func(p uintptr, v uint8, n uint64, stream uintptr) cuResult
	cuMemsetD32Async          func(p uintptr, v uint32, n uint64, stream uintptr) cuResult
	cuModuleLoadData          func(m *uintptr, image unsafe.Pointer) cuResult
	cuModuleUnload            func(m uintptr) cuResult
	cuModuleGetFunction       func(f *uintptr, m uintptr, name string) cuResult
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) cuResult
	cuStreamCreate            func(s *uintptr, flags uint32) cuResult
	cuStreamDestroy           func(s uintptr) cuResult
	cuStreamSynchronize       func(s uintptr) cuResult
	cuEventCreate             func(e *uintptr, flags uint32) cuResult
	cuEventDestroy            func(e uintptr) cuResult
	cuEventRecord             func(e, s uintptr) cuResult
	cuEventSynchronize        func(e uintptr) cuResult
	cuEventElapsedTime        func(ms *float32, start, end uintptr) cuResult
	cuGetErrorName            func(r cuResult, s **byte) cuResult
	cuGetErrorString          func(r cuResult, s **byte) cuResult
}

// The driver library is loaded at most once per process, on first use
// (never in init), and kept loaded.
var driver struct {
	once sync.Once
	api  *driverAPI
	err  error
}

// loadDriver loads libcuda and calls cuInit(0). Its error names what is
// missing; it does not wrap ErrNoDevice (Open does).
func loadDriver() (*driverAPI, error) {
	driver.once.Do(func() {
		driver.api, driver.err = openDriver(libcudaCandidates(osSearchEnv()))
	})
	return driver.api, driver.err
}

func openDriver(candidates []string) (*driverAPI, error) {
	h, path, err := dlopenFirst(candidates)
	if err != nil {
		return nil, fmt.Errorf("CUDA driver library not found (is the NVIDIA driver installed? set %s to its path): %w", EnvLibCUDA, err)
	}
	d := &driverAPI{path: path}
	syms := []struct {
		fn    any
		names []string // first found wins
	}{
		{&d.cuInit, []string{"cuInit"}},
		{&d.cuDriverGetVersion, []string{"cuDriverGetVersion"}},
		{&d.cuDeviceGetCount, []string{"cuDeviceGetCount"}},
		{&d.cuDeviceGet, []string{"cuDeviceGet"}},
		{&d.cuDeviceGetName, []string{"cuDeviceGetName"}},
		{&d.cuDeviceTotalMem, []string{"cuDeviceTotalMem_v2"}},
		{&d.cuDeviceGetAttribute, []string{"cuDeviceGetAttribute"}},
		{&d.cuDevicePrimaryCtxRetain, []string{"cuDevicePrimaryCtxRetain"}},
		{&d.cuDevicePrimaryCtxRelease, []string{"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}},
		{&d.cuCtxSetCurrent, []string{"cuCtxSetCurrent"}},
		{&d.cuCtxSynchronize, []string{"cuCtxSynchronize"}},
		{&d.cuMemAlloc, []string{"cuMemAlloc_v2"}},
		{&d.cuMemGetInfo, []string{"cuMemGetInfo_v2"}},
		{&d.cuMemFree, []string{"cuMemFree_v2"}},
		{&d.cuMemcpyHtoDAsync, []string{"cuMemcpyHtoDAsync_v2"}},
		{&d.cuMemcpyDtoHAsync, []string{"cuMemcpyDtoHAsync_v2"}},
		{&d.cuMemcpyDtoDAsync, []string{"cuMemcpyDtoDAsync_v2"}},
		{&d.cuMemsetD8Async, []string{"cuMemsetD8Async"}},
		{&d.cuMemsetD32Async, []string{"cuMemsetD32Async"}},
		{&d.cuModuleLoadData, []string{"cuModuleLoadData"}},
		{&d.cuModuleUnload, []string{"cuModuleUnload"}},
		{&d.cuModuleGetFunction, []string{"cuModuleGetFunction"}},
		{&d.cuLaunchKernel, []string{"cuLaunchKernel"}},
		{&d.cuStreamCreate, []string{"cuStreamCreate"}},
		{&d.cuStreamDestroy, []string{"cuStreamDestroy_v2", "cuStreamDestroy"}},
		{&d.cuStreamSynchronize, []string{"cuStreamSynchronize"}},
		{&d.cuEventCreate, []string{"cuEventCreate"}},
		{&d.cuEventDestroy, []string{"cuEventDestroy_v2", "cuEventDestroy"}},
		{&d.cuEventRecord, []string{"cuEventRecord"}},
		{&d.cuEventSynchronize, []string{"cuEventSynchronize"}},
		{&d.cuEventElapsedTime, []string{"cuEventElapsedTime"}},
		{&d.cuGetErrorName, []string{"cuGetErrorName"}},
		{&d.cuGetErrorString, []string{"cuGetErrorString"}},
	}
	for _, s := range syms {
		if err := bind(h, s.fn, s.names...); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if r := d.cuInit(0); r != cudaSuccess {
		return nil, fmt.Errorf("cuInit failed (%s): %s", path, d.describe(r))
	}
	return d, nil
}

// dlopenFirst opens the first candidate that loads, RTLD_NOW|RTLD_GLOBAL.
// Its error lists every candidate with the loader's message.
func dlopenFirst(candidates []string) (handle uintptr, path string, err error) {
	var msgs []string
	for _, c := range candidates {
		h, err := purego.Dlopen(c, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return h, c, nil
		}
		msgs = append(msgs, fmt.Sprintf("%s: %v", c, err))
	}
	return 0, "", errors.New("tried " + strings.Join(msgs, "; "))
}

// bind sets *fptr to the first of names that h exports.
func bind(h uintptr, fptr any, names ...string) error {
	for _, n := range names {
		if sym, err := purego.Dlsym(h, n); err == nil && sym != 0 {
			purego.RegisterFunc(fptr, sym)
			return nil
		}
	}
	return fmt.Errorf("symbol %s not found", strings.Join(names, " or "))
}

// describe returns "CUDA_ERROR_X (code): message" for r.
func (d *driverAPI) describe(r cuResult) string {
	var name, msg *byte
	n, m := "CUDA_ERROR_UNKNOWN_CODE", ""
	if d.cuGetErrorName(r, &name) == cudaSuccess && name != nil {
		n = goString(name)
	}
	if d.cuGetErrorString(r, &msg) == cudaSuccess && msg != nil {
		m = ": " + goString(msg)
	}
	return fmt.Sprintf("%s (%d)%s", n, int(r), m)
}

// goString copies the NUL-terminated C string at p (owned by the library).
func goString(p *byte) string {
	var b []byte
	for q := p; *q != 0; q = (*byte)(unsafe.Add(unsafe.Pointer(q), 1)) {
		b = append(b, *q)
	}
	return string(b)
}

// Error is a failed CUDA driver or cuBLAS call.
type Error struct {
	Op   string // the call or kernel, e.g. "cuMemAlloc_v2" or "kernel softmax_ce_f32"
	Code int    // CUresult or cublasStatus_t
	Desc string // "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"
}

// Error returns "cuda: OP: DESC".
func (e *Error) Error() string { return "cuda: " + e.Op + ": " + e.Desc }

// error returns nil for success and an *Error otherwise.
func (d *driverAPI) error(op string, r cuResult) error {
	if r == cudaSuccess {
		return nil
	}
	return &Error{Op: op, Code: int(r), Desc: d.describe(r)}
}
