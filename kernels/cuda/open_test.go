package cuda

import (
	"errors"
	"strings"
	"testing"
)

// TestOpenWithoutGPU checks, on a machine where no device opens, that Open
// and Devices fail softly: an error wrapping ErrNoDevice that says what was
// missing. On a machine with a device it checks nothing.
func TestOpenWithoutGPU(t *testing.T) {
	d, err := Open(Options{})
	if err == nil {
		d.Close()
		t.Skip("a CUDA device opened: nothing to check")
	}
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open: %v does not wrap ErrNoDevice", err)
	}
	msg := err.Error()
	reasons := []string{"CUDA driver library not found", "cuInit failed", "no CUDA device", "cuBLAS not found", "PTX not built"}
	if !containsAny(msg, reasons) {
		t.Errorf("Open: %q names none of the expected reasons %q", msg, reasons)
	}
	t.Logf("Open: %v", err)
	if _, err := Devices(); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Devices: %v does not wrap ErrNoDevice", err)
	}
	// An out-of-range ordinal is also "no device", if the driver loads.
	if _, err := Open(Options{Ordinal: 1 << 20}); !errors.Is(err, ErrNoDevice) {
		t.Errorf("Open(ordinal 1<<20): %v", err)
	}
}

// TestLibraryNotFound checks the messages for libraries that do not load.
func TestLibraryNotFound(t *testing.T) {
	_, err := openDriver([]string{"/nonexistent/libcuda.so.1"})
	if err == nil || !strings.Contains(err.Error(), "CUDA driver library not found") || !strings.Contains(err.Error(), "/nonexistent/libcuda.so.1") {
		t.Errorf("openDriver: %v", err)
	}
	_, err = openCUBLAS([]string{"/nonexistent/libcublas.so.12"})
	if err == nil || !strings.Contains(err.Error(), "cuBLAS not found") || !strings.Contains(err.Error(), EnvCUBLAS) {
		t.Errorf("openCUBLAS: %v", err)
	}
}

// TestCUBLASLoads loads whatever cuBLAS this machine has (none is fine):
// the binding and version query work without a GPU.
func TestCUBLASLoads(t *testing.T) {
	b, err := openCUBLAS(cublasCandidates(osSearchEnv(), ""))
	if err != nil {
		t.Skipf("no cuBLAS here: %v", err)
	}
	if !strings.Contains(b.version, ".") {
		t.Errorf("cuBLAS version %q", b.version)
	}
	t.Logf("cuBLAS %s from %s", b.version, b.path)
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func TestErrorMessages(t *testing.T) {
	e := &Error{Op: "cuMemAlloc_v2", Code: 2, Desc: "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"}
	if got := e.Error(); got != "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory" {
		t.Errorf("Error() = %q", got)
	}
	if err := cublasError("cublasSgemm_v2", 13); err == nil || !strings.Contains(err.Error(), "CUBLAS_STATUS_EXECUTION_FAILED (13)") {
		t.Errorf("cublasError: %v", err)
	}
	if cublasError("x", 0) != nil {
		t.Error("cublasError(success) != nil")
	}
	i := DeviceInfo{Name: "GPU", TotalMem: 80 << 30, Major: 9, SMs: 132, DriverVersion: 13000, CUBLASVersion: "13.0.0"}
	if s := i.String(); !strings.Contains(s, "GPU, 80.0 GiB, compute capability 9.0, 132 SMs, CUDA driver 13.0, cuBLAS 13.0.0") {
		t.Errorf("DeviceInfo.String() = %q", s)
	}
}
