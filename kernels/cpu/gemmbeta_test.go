package cpu

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/curvprobe/curvprobe/kernels"
)

// betaSpy32 is a float32 BLAS that records the beta of each Sgemm.
type betaSpy32 struct {
	blas.Float32
	betas []float32
}

func (s *betaSpy32) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s.betas = append(s.betas, beta)
	s.Float32.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// TestGemmBetaZeroClears checks that a GEMM with beta = 0 that goes to the
// BLAS zeroes C itself and passes beta = 1 (OpenBLAS's own beta = 0 pass is
// slower than the runtime's clear), with the bits of the BLAS's own beta =
// 0 product, NaN in C's old values and padding past n left as they were.
func TestGemmBetaZeroClears(t *testing.T) {
	be := New[float32]()
	spy := &betaSpy32{Float32: be.b32}
	be.b32 = spy
	for _, s := range [][3]int{{64, 64, 64}, {37, 33, 65}, {512, 40, 300}} {
		for _, tr := range [][2]kernels.Trans{{false, false}, {true, false}, {false, true}, {true, true}} {
			m, n, k := s[0], s[1], s[2]
			what := fmt.Sprintf("%dx%d by %d, tA %v tB %v", m, n, k, tr[0], tr[1])
			ldc := n + 3
			a, b, c := be.Alloc(m*k), be.Alloc(k*n), be.Alloc(m*ldc)
			be.Normal(a, 1)
			be.Normal(b, 2)
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			cs := Slice[float32](c)
			for i := range cs {
				cs[i] = float32(math.NaN())
			}
			spy.betas = nil
			be.Gemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
			if len(spy.betas) != 1 || spy.betas[0] != 1 {
				t.Fatalf("%s: the BLAS got beta %v, want one call with 1", what, spy.betas)
			}
			want := make([]float32, m*ldc)
			for i := range want {
				want[i] = float32(math.NaN())
			}
			spy.Float32.Sgemm(blasTrans(tr[0]), blasTrans(tr[1]), m, n, k, 1, Slice[float32](a), lda, Slice[float32](b), ldb, 0, want, ldc)
			for i := range cs {
				if j := i % ldc; j >= n {
					if !math.IsNaN(float64(cs[i])) {
						t.Fatalf("%s: padding element %d written", what, i)
					}
					continue
				}
				if math.Float32bits(cs[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s: element %d is %v, the BLAS's beta = 0 gives %v", what, i, cs[i], want[i])
				}
			}
		}
	}
}
