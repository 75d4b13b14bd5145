//go:build !openblas

package cpu

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// runtimeOpenBLAS returns the OpenBLAS found at run time, skipping the test
// when there is none, unless REQUIRE_OPENBLAS=1 (CI, which installs it).
// CURVPROBE_BLAS=absent makes it behave as on a machine without OpenBLAS.
func runtimeOpenBLAS(t *testing.T) *openBLAS {
	t.Helper()
	env := ""
	if os.Getenv(EnvBLAS) == "absent" {
		env = "absent"
	}
	r := findOpenBLAS(env)
	if r.err != nil {
		if os.Getenv("REQUIRE_OPENBLAS") == "1" {
			t.Fatalf("REQUIRE_OPENBLAS=1 but %v", r.err)
		}
		t.Skip(r.err)
	}
	return r.impl
}

// CURVPROBE_BLAS=absent is what a machine without OpenBLAS reports, word for
// word, whatever is installed: the newcomer's tests in CI depend on it.
func TestBLASAbsent(t *testing.T) {
	r := findOpenBLAS("absent")
	if r.impl != nil || r.err == nil || r.err.Error() != notFound {
		t.Fatalf("absent: impl %v, err %v; want none and %q", r.impl, r.err, notFound)
	}
	if r := findOpenBLAS("gonum"); r.impl != nil || !strings.Contains(r.err.Error(), "gonum") {
		t.Fatalf("gonum: impl %v, err %v", r.impl, r.err)
	}
}

// OpenBLAS's products, bound at run time, equal gonum's on every transpose
// pair, with leading dimensions wider than the rows, awkward sizes, and
// beta 0 (C not read: NaN there must not leak) or not.
func TestRuntimeOpenBLASGemm(t *testing.T) {
	o := runtimeOpenBLAS(t)
	g := gonum.Implementation{}
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{1, 1, 1}, {7, 5, 3}, {33, 65, 17}, {130, 1, 257}, {64, 96, 128}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, beta := range []float64{0, 0.75} {
					ar, ac := m, k
					if tA == blas.Trans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB == blas.Trans {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+3, bc+1, n+2
					a := randSlice(r, (ar-1)*lda+ac)
					b := randSlice(r, (br-1)*ldb+bc)
					c0 := randSlice(r, (m-1)*ldc+n)
					if beta == 0 {
						for i := range c0 {
							c0[i] = math.NaN()
						}
					}
					want, got := append([]float64(nil), c0...), append([]float64(nil), c0...)
					g.Dgemm(tA, tB, m, n, k, 1.25, a, lda, b, ldb, beta, want, ldc)
					o.Dgemm(tA, tB, m, n, k, 1.25, a, lda, b, ldb, beta, got, ldc)
					compare(t, "Dgemm", sh, got, want, 1e-13)

					a32, b32, c32 := to32(a), to32(b), to32(c0)
					want32, got32 := append([]float32(nil), c32...), append([]float32(nil), c32...)
					g.Sgemm(tA, tB, m, n, k, 1.25, a32, lda, b32, ldb, float32(beta), want32, ldc)
					o.Sgemm(tA, tB, m, n, k, 1.25, a32, lda, b32, ldb, float32(beta), got32, ldc)
					compare(t, "Sgemm", sh, to64(got32), to64(want32), 1e-5)
				}
			}
		}
	}
}

// C must never read or write past a Go slice: short operands panic before
// the call, as gonum's do.
func TestRuntimeOpenBLASChecks(t *testing.T) {
	o := runtimeOpenBLAS(t)
	a, b, c := make([]float64, 12), make([]float64, 12), make([]float64, 12)
	o.Dgemm(blas.NoTrans, blas.NoTrans, 4, 3, 3, 1, a, 3, b, 3, 0, c, 3) // fits exactly
	for _, f := range []func(){
		func() { o.Dgemm(blas.NoTrans, blas.NoTrans, 4, 4, 3, 1, a, 3, b, 4, 0, c, 4) },
		func() { o.Dgemm(blas.NoTrans, blas.NoTrans, 4, 3, 3, 1, a[:11], 3, b, 3, 0, c, 3) },
		func() { o.Dgemm(blas.NoTrans, blas.NoTrans, 4, 3, 3, 1, a, 2, b, 3, 0, c, 3) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a Dgemm on a short slice or bad leading dimension did not panic")
				}
			}()
			f()
		}()
	}
}

// CURVPROBE_BLAS chooses: "gonum" turns OpenBLAS off, a path that cannot be
// loaded says so.
func TestRuntimeBLASChoice(t *testing.T) {
	if r := findOpenBLAS("gonum"); r.err == nil || r.impl != nil {
		t.Errorf(`findOpenBLAS("gonum") = %+v`, r)
	}
	r := findOpenBLAS("/nonexistent/libopenblas.so.0")
	if r.err == nil || !strings.Contains(r.err.Error(), "/nonexistent/libopenblas.so.0") || !strings.Contains(r.err.Error(), EnvBLAS) {
		t.Errorf("a missing library: %v", r.err)
	}
	// A library without CBLAS products (libc) is refused by name.
	if r := findOpenBLAS("libc.so.6"); r.err == nil || !strings.Contains(r.err.Error(), "cblas_sgemm") && !strings.Contains(r.err.Error(), "cblas_dgemm") {
		t.Errorf("libc as BLAS: %v", r.err)
	}
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.NormFloat64()
	}
	return s
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

func compare(t *testing.T, name string, sh [3]int, got, want []float64, tol float64) {
	t.Helper()
	scale := 0.0
	for _, w := range want {
		if !math.IsNaN(w) {
			scale = math.Max(scale, math.Abs(w))
		}
	}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol*scale {
			t.Fatalf("%s %v: element %d = %g, gonum %g", name, sh, i, got[i], want[i])
		}
	}
}
