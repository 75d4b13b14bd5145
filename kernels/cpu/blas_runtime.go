//go:build !openblas

package cpu

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// EnvBLAS names the environment variable that chooses the BLAS of a binary
// built without -tags openblas: unset or empty, OpenBLAS is looked for and
// loaded at run time (see BLASName); "gonum" uses gonum's pure-Go BLAS;
// "absent" behaves as a machine without OpenBLAS does, searching nothing and
// reporting it as not found (CI runs the newcomer's tests so); any other
// value is the path of the OpenBLAS library to load.
const EnvBLAS = "CURVPROBE_BLAS"

// notFound is why gonum's BLAS is used on a machine without OpenBLAS.
const notFound = "no OpenBLAS found: install libopenblas0 (Debian) for ~10x faster products"

// BLASName names the BLAS this binary's CPU backend uses. Without the
// openblas build tag that is OpenBLAS's shared library when one is found
// (libopenblas.so.0 through the loader's search, then Debian's and the usual
// install directories), bound at run time with purego so that plain and
// CGO_ENABLED=0 builds use it too; otherwise gonum's pure-Go BLAS, with the
// reason.
func BLASName() string {
	rt := loadOpenBLAS()
	if rt.err != nil {
		return "gonum (pure Go; " + rt.err.Error() + ")"
	}
	return fmt.Sprintf("OpenBLAS (%s, loaded at run time; %d threads)", rt.desc, Threads())
}

// setBLASThreads gives OpenBLAS n threads, if it is in use.
func setBLASThreads(n int) {
	if rt := loadOpenBLAS(); rt.err == nil && rt.impl.setThreads != nil {
		rt.impl.setThreads(int32(n))
	}
}

func defaultBLAS() (blas.Float32, blas.Float64) {
	if rt := loadOpenBLAS(); rt.err == nil {
		return rt.impl, rt.impl
	}
	return gonum.Implementation{}, gonum.Implementation{}
}

// openBLAS is gonum's BLAS with the level-3 products replaced by
// OpenBLAS's cblas_sgemm and cblas_dgemm, where the time goes. Level 1 stays
// gonum's: it is memory-bound and vectorised there already.
type openBLAS struct {
	gonum.Implementation
	sgemm      cblasGemm[float32]
	dgemm      cblasGemm[float64]
	setThreads func(int32) // openblas_set_num_threads; nil if absent
}

// CBLAS enumerations (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

func cblasOp(t blas.Transpose) int32 {
	if t == blas.NoTrans {
		return cblasNoTrans
	}
	return cblasTrans
}

// fitsInt32 reports whether every value fits OpenBLAS's 32-bit integers.
func fitsInt32(v ...int) bool {
	for _, x := range v {
		if x > math.MaxInt32 {
			return false
		}
	}
	return true
}

// cblasGemm is the signature of cblas_sgemm (F = float32) and cblas_dgemm.
type cblasGemm[F float32 | float64] func(order, tA, tB, m, n, k int32, alpha F, a unsafe.Pointer, lda int32, b unsafe.Pointer, ldb int32, beta F, c unsafe.Pointer, ldc int32)

// gemm calls cblas in row-major order, or fallback (gonum's) for empty
// products and shapes past 32-bit integers. The checks of gonum's gemm run
// first, so misuse panics with gonum's messages, never in C.
func gemm[F float32 | float64](cblas cblasGemm[F], fallback func(tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int),
	tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if m == 0 || n == 0 || k == 0 || !fitsInt32(m, n, k, lda, ldb, ldc) {
		fallback(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	cblas(cblasRowMajor, cblasOp(tA), cblasOp(tB), int32(m), int32(n), int32(k), alpha,
		unsafe.Pointer(&a[0]), int32(lda), unsafe.Pointer(&b[0]), int32(ldb), beta, unsafe.Pointer(&c[0]), int32(ldc))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

// Sgemm is cblas_sgemm, row-major.
func (o *openBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(o.sgemm, o.Implementation.Sgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is cblas_dgemm, row-major.
func (o *openBLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemm(o.dgemm, o.Implementation.Dgemm, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics, as gonum does, unless the row-major operands hold their
// matrices: C code must never read or write past a Go slice.
func checkGemm(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	switch {
	case m < 0 || n < 0 || k < 0:
		panic("blas: negative dimension")
	case lda < max(1, ac), ldb < max(1, bc), ldc < max(1, n):
		panic("blas: bad leading dimension")
	case la < (ar-1)*lda+ac, lb < (br-1)*ldb+bc, lc < (m-1)*ldc+n:
		panic("blas: insufficient matrix slice length")
	}
}

// runtimeBLAS is the outcome of looking for OpenBLAS, once per process.
type runtimeBLAS struct {
	impl     *openBLAS
	desc     string // library and configuration, for BLASName
	corename string // OpenBLAS's kernel class (openblas_get_corename), "" if unknown
	err      error  // why gonum is used instead
}

var (
	rtOnce sync.Once
	rt     runtimeBLAS
)

func loadOpenBLAS() *runtimeBLAS {
	rtOnce.Do(func() {
		rt = findOpenBLAS(os.Getenv(EnvBLAS))
		if rt.err == nil && rt.impl.setThreads != nil {
			rt.impl.setThreads(int32(Threads()))
			blasCount.Store(int64(Threads()))
			blasNow.Store(int64(Threads()))
		}
	})
	return &rt
}

// openBLASCandidates returns the libraries to try, in order: the sonames
// (the loader's search: LD_LIBRARY_PATH, ld.so.cache), then Debian's and
// Fedora's OpenBLAS variants and /opt/OpenBLAS, as found on disk.
func openBLASCandidates() []string {
	c := []string{"libopenblas.so.0", "libopenblas.so"}
	for _, pat := range []string{
		"/usr/lib/*-linux-gnu/openblas*/libopenblas.so.0",
		"/usr/lib/*-linux-gnu/libopenblas*.so.0",
		"/usr/lib64/libopenblas*.so.0",
		"/usr/local/lib/libopenblas*.so.0",
		"/opt/OpenBLAS/lib/libopenblas.so.0",
	} {
		m, _ := filepath.Glob(pat)
		c = append(c, m...)
	}
	return c
}

// findOpenBLAS loads the BLAS that env (the value of EnvBLAS) asks for.
func findOpenBLAS(env string) runtimeBLAS {
	switch {
	case env == "gonum":
		return runtimeBLAS{err: fmt.Errorf("%s=gonum", EnvBLAS)}
	case env == "absent":
		return runtimeBLAS{err: errors.New(notFound)}
	case env != "":
		o, desc, core, err := openOpenBLAS(env)
		if err != nil {
			return runtimeBLAS{err: fmt.Errorf("%s: %v", EnvBLAS, err)}
		}
		return runtimeBLAS{impl: o, desc: desc, corename: core}
	}
	var errs []string
	for _, p := range openBLASCandidates() {
		o, desc, core, err := openOpenBLAS(p)
		if err == nil {
			return runtimeBLAS{impl: o, desc: desc, corename: core}
		}
		if !strings.Contains(err.Error(), "cannot open") && !strings.Contains(err.Error(), "No such file") {
			errs = append(errs, err.Error()) // found but unusable: worth saying
		}
	}
	msg := notFound
	if len(errs) > 0 {
		msg += "; " + strings.Join(errs, "; ")
	}
	return runtimeBLAS{err: errors.New(msg)}
}

// openOpenBLAS loads the library at path (a soname or a file) and binds its
// CBLAS products. It returns the library's description for BLASName and
// its kernel class (openblas_get_corename). The handle is kept for the life
// of the process.
func openOpenBLAS(path string) (_ *openBLAS, desc, corename string, _ error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %v", path, err)
	}
	o := &openBLAS{}
	for name, fptr := range map[string]any{"cblas_sgemm": &o.sgemm, "cblas_dgemm": &o.dgemm} {
		sym, err := purego.Dlsym(h, name)
		if err != nil || sym == 0 {
			purego.Dlclose(h)
			return nil, "", "", fmt.Errorf("%s has no %s", path, name)
		}
		purego.RegisterFunc(fptr, sym)
	}
	desc = filepath.Base(path)
	if sym, err := purego.Dlsym(h, "openblas_get_config"); err == nil && sym != 0 {
		var config func() *byte
		purego.RegisterFunc(&config, sym)
		if s := goString(config()); s != "" {
			desc += ": " + s
		}
	}
	if sym, err := purego.Dlsym(h, "openblas_set_num_threads"); err == nil && sym != 0 {
		purego.RegisterFunc(&o.setThreads, sym)
	}
	if sym, err := purego.Dlsym(h, "openblas_get_corename"); err == nil && sym != 0 {
		var core func() *byte
		purego.RegisterFunc(&core, sym)
		corename = goString(core())
	}
	if note := coreNote(corename); note != "" {
		desc += "; " + note
	}
	return o, desc, corename, nil
}

// goString copies the NUL-terminated C string at p.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	var b []byte
	for q := unsafe.Pointer(p); *(*byte)(q) != 0 && len(b) < 1<<12; q = unsafe.Add(q, 1) {
		b = append(b, *(*byte)(q))
	}
	return strings.TrimSpace(string(b))
}
