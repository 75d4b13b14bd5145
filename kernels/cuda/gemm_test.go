package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// rowMajorRef is kernels.Backend's row-major GEMM, written directly.
func rowMajorRef(tA, tB kernels.Trans, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	opA := func(i, l int) float64 {
		if tA {
			return a[l*lda+i]
		}
		return a[i*lda+l]
	}
	opB := func(l, j int) float64 {
		if tB {
			return b[j*ldb+l]
		}
		return b[l*ldb+j]
	}
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				s += opA(i, l) * opB(l, j)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

// TestRowMajorGemm checks the argument mapping handed to cuBLAS: applying
// rowMajorGemm's call to the column-major reference, on the row-major
// buffers, must give the row-major product, for every transpose case,
// padded leading dimensions and non-square shapes.
func TestRowMajorGemm(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, mnk := range [][3]int{{1, 1, 1}, {2, 3, 4}, {4, 3, 2}, {5, 1, 7}, {1, 6, 3}, {7, 5, 1}} {
		m, n, k := mnk[0], mnk[1], mnk[2]
		for _, tA := range []kernels.Trans{kernels.NoTrans, kernels.Transpose} {
			for _, tB := range []kernels.Trans{kernels.NoTrans, kernels.Transpose} {
				for _, pad := range []int{0, 2} {
					ar, ac, br, bc := kernels.GemmShapes(tA, tB, m, n, k)
					lda, ldb, ldc := ac+pad, bc+pad, n+pad
					fill := func(rows, ld int) []float64 {
						v := make([]float64, rows*ld)
						for i := range v {
							v[i] = float64(rnd.IntN(19) - 9) // small integers: exact sums
						}
						return v
					}
					a, b, c := fill(ar, lda), fill(br, ldb), fill(m, ldc)
					want := append([]float64(nil), c...)
					rowMajorRef(tA, tB, m, n, k, 2, a, lda, b, ldb, -3, want, ldc)

					g := rowMajorGemm(tA, tB, m, n, k, lda, ldb, ldc)
					x, y := a, b
					if g.swapped {
						x, y = b, a
					}
					// cuBLAS's leading-dimension rules for the column-major call.
					rowsX, rowsY := g.m, g.k
					if g.opX == cublasOpT {
						rowsX = g.k
					}
					if g.opY == cublasOpT {
						rowsY = g.n
					}
					what := fmt.Sprintf("m=%d n=%d k=%d tA=%v tB=%v pad=%d", m, n, k, tA, tB, pad)
					if g.ldx < max(1, rowsX) || g.ldy < max(1, rowsY) || g.ldc < max(1, g.m) {
						t.Fatalf("%s: invalid leading dimensions %+v", what, g)
					}
					got := append([]float64(nil), c...)
					colGemm(g.opX, g.opY, g.m, g.n, g.k, 2, x, g.ldx, y, g.ldy, -3, got, g.ldc)
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("%s: element %d (row %d, col %d): got %v, want %v (call %+v)", what, i, i/ldc, i%ldc, got[i], want[i], g)
						}
					}
				}
			}
		}
	}
}

func TestLaunchGeometry(t *testing.T) {
	for _, c := range []struct{ cols, want int }{{1, 32}, {10, 32}, {32, 32}, {33, 64}, {100, 128}, {256, 256}, {40000, 256}} {
		if got := rowBlock(c.cols); int(got) != c.want {
			t.Errorf("rowBlock(%d) = %d, want %d", c.cols, got, c.want)
		}
	}
	for _, n := range []int{1, 255, 256, 257, 1 << 20, 1 << 30} {
		g, r := int(elemGrid(n)), int(reduceGrid(n))
		if g < 1 || g > maxGrid || r < 1 || r > maxPartials {
			t.Errorf("n=%d: grids %d, %d out of range", n, g, r)
		}
		if n <= maxGrid*blockSize && g*blockSize < n {
			t.Errorf("n=%d: elemGrid %d does not cover n with one element per thread", n, g)
		}
	}
	var a kargs
	a.i32(-2).idx(-3).f64(1.5).ptr(0x1234)
	if a.n != 4 || uint32(a.vals[0]) != 0xfffffffe || a.vals[0]>>32 != 0 || int64(a.vals[1]) != -3 ||
		math.Float64frombits(a.vals[2]) != 1.5 || a.vals[3] != 0x1234 {
		t.Errorf("kargs = %+v", a.vals[:a.n])
	}
	for i := range a.n {
		if a.ptrs[i] == nil || *(*uint64)(a.ptrs[i]) != a.vals[i] {
			t.Errorf("kargs pointer %d does not point at its value", i)
		}
	}
}
