package cuda

import (
	"fmt"
	"sync"

	"github.com/ebitengine/purego"
)

// cublasStatus is cuBLAS's cublasStatus_t.
type cublasStatus int32

// cuBLAS enums (cublas_api.h, library_types.h).
const (
	cublasOpN = 0 // CUBLAS_OP_N
	cublasOpT = 1 // CUBLAS_OP_T

	cublasDefaultMath    = 0 // CUBLAS_DEFAULT_MATH
	cublasTF32TensorMath = 3 // CUBLAS_TF32_TENSOR_OP_MATH

	cublasPointerModeHost = 0 // CUBLAS_POINTER_MODE_HOST

	propMajor = 0 // MAJOR_VERSION
	propMinor = 1 // MINOR_VERSION
	propPatch = 2 // PATCH_LEVEL
)

// cublasAPI holds the cuBLAS v2 entry points curvprobe uses. Scalars are
// passed by host pointer (CUBLAS_POINTER_MODE_HOST), so results such as
// nrm2's are written to Go memory before the call returns.
type cublasAPI struct {
	path    string
	version string // "MAJOR.MINOR.PATCH"

	create         func(h *uintptr) cublasStatus
	destroy        func(h uintptr) cublasStatus
	setStream      func(h, stream uintptr) cublasStatus
	getVersion     func(h uintptr, v *int32) cublasStatus
	getProperty    func(t int32, v *int32) cublasStatus
	setMathMode    func(h uintptr, mode int32) cublasStatus
	setPointerMode func(h uintptr, mode int32) cublasStatus

	sgemm func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) cublasStatus
	dgemm func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, b uintptr, ldb int32, beta *float64, c uintptr, ldc int32) cublasStatus
	saxpy func(h uintptr, n int32, alpha *float32, x uintptr, incx int32, y uintptr, incy int32) cublasStatus
	daxpy func(h uintptr, n int32, alpha *float64, x uintptr, incx int32, y uintptr, incy int32) cublasStatus
	sscal func(h uintptr, n int32, alpha *float32, x uintptr, incx int32) cublasStatus
	dscal func(h uintptr, n int32, alpha *float64, x uintptr, incx int32) cublasStatus
	dnrm2 func(h uintptr, n int32, x uintptr, incx int32, result *float64) cublasStatus
}

// cuBLAS is loaded at most once per process and kept loaded; override is
// Options.CUBLASPath of the first Open that gets this far.
var cublasLib struct {
	once sync.Once
	api  *cublasAPI
	err  error
}

func loadCUBLAS(override string) (*cublasAPI, error) {
	cublasLib.once.Do(func() {
		cublasLib.api, cublasLib.err = openCUBLAS(cublasCandidates(osSearchEnv(), override))
	})
	return cublasLib.api, cublasLib.err
}

func openCUBLAS(candidates []string) (*cublasAPI, error) {
	// Wheels keep libcublasLt beside libcublas where the loader may not
	// look; load it first so that libcublas's dependency resolves.
	for _, c := range candidates {
		if lt := cublasLtFor(c); lt != "" {
			_, _ = purego.Dlopen(lt, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		}
	}
	h, path, err := dlopenFirst(candidates)
	if err != nil {
		return nil, fmt.Errorf("cuBLAS not found (set %s to the path of libcublas.so.N): %w", EnvCUBLAS, err)
	}
	b := &cublasAPI{path: path}
	syms := []struct {
		fn   any
		name string
	}{
		{&b.create, "cublasCreate_v2"},
		{&b.destroy, "cublasDestroy_v2"},
		{&b.setStream, "cublasSetStream_v2"},
		{&b.getVersion, "cublasGetVersion_v2"},
		{&b.getProperty, "cublasGetProperty"},
		{&b.setMathMode, "cublasSetMathMode"},
		{&b.setPointerMode, "cublasSetPointerMode_v2"},
		{&b.sgemm, "cublasSgemm_v2"},
		{&b.dgemm, "cublasDgemm_v2"},
		{&b.saxpy, "cublasSaxpy_v2"},
		{&b.daxpy, "cublasDaxpy_v2"},
		{&b.sscal, "cublasSscal_v2"},
		{&b.dscal, "cublasDscal_v2"},
		{&b.dnrm2, "cublasDnrm2_v2"},
	}
	for _, s := range syms {
		if err := bind(h, s.fn, s.name); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	var v [3]int32
	for i, p := range []int32{propMajor, propMinor, propPatch} {
		if st := b.getProperty(p, &v[i]); st != 0 {
			return nil, fmt.Errorf("%s: cublasGetProperty: %s", path, cublasStatusName(st))
		}
	}
	b.version = fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
	return b, nil
}

// cublasStatusName returns the name of a cublasStatus_t.
func cublasStatusName(s cublasStatus) string {
	names := map[cublasStatus]string{
		0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
		7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
		13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
		16: "CUBLAS_STATUS_LICENSE_ERROR",
	}
	n, ok := names[s]
	if !ok {
		n = "CUBLAS_STATUS_UNKNOWN"
	}
	return fmt.Sprintf("%s (%d)", n, int(s))
}

// cublasError returns nil for success and an *Error otherwise.
func cublasError(op string, s cublasStatus) error {
	if s == 0 {
		return nil
	}
	return &Error{Op: op, Code: int(s), Desc: cublasStatusName(s)}
}
