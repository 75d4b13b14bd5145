package cpu

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/curvprobe/curvprobe/kernels"
)

// DotMany and AxpyMany equal the Dot and Axpy calls they replace bit for
// bit, for every count of vectors, lengths around the block size, any
// thread count, and leave their other inputs as they were.
func TestDotManyAxpyManyEqualLoops(t *testing.T) {
	testMany[float32](t)
	testMany[float64](t)
}

func testMany[T kernels.Float](t *testing.T) {
	be := New[T]()
	r := rand.New(rand.NewPCG(3, 4))
	randBuf := func(n int, scale float64) (kernels.Buffer, []T) {
		h := make([]T, n)
		for i := range h {
			h[i] = T(r.NormFloat64() * scale)
		}
		b := be.Alloc(n)
		be.Upload(b, h)
		return b, h
	}
	for _, n := range []int{0, 1, 7, axpyBlock - 1, axpyBlock + 1, 3*axpyBlock + 5, 70001} {
		x, xh := randBuf(n, 1e3)
		var q []kernels.Buffer
		var qh [][]T
		for m := 0; m <= 9; m++ {
			if m > 0 {
				v, vh := randBuf(n, 1)
				q, qh = append(q, v), append(qh, vh)
			}
			alpha := make([]float64, m)
			for i := range alpha {
				alpha[i] = r.NormFloat64()
			}
			want := be.Alloc(n)
			be.Copy(want, x)
			for i := range q {
				be.Axpy(alpha[i], q[i], want)
			}
			wh := make([]T, n)
			be.Download(wh, want)
			for _, procs := range []int{1, 2, 3} {
				old := runtime.GOMAXPROCS(procs)
				dots := make([]float64, m)
				be.DotMany(dots, q, x)
				y := be.Alloc(n)
				be.Copy(y, x)
				be.AxpyMany(alpha, q, y)
				runtime.GOMAXPROCS(old)
				for i := range q {
					if d := be.Dot(q[i], x); dots[i] != d {
						t.Fatalf("%s n=%d m=%d procs=%d: DotMany[%d] = %v, Dot = %v", kernels.DTypeName[T](), n, m, procs, i, dots[i], d)
					}
				}
				yh := make([]T, n)
				be.Download(yh, y)
				for j := range yh {
					if yh[j] != wh[j] {
						t.Fatalf("%s n=%d m=%d procs=%d: AxpyMany y[%d] = %v, Axpy loop %v", kernels.DTypeName[T](), n, m, procs, j, yh[j], wh[j])
					}
				}
				be.Free(y)
			}
			be.Free(want)
		}
		// Inputs are untouched.
		after := make([]T, n)
		be.Download(after, x)
		for j := range after {
			if after[j] != xh[j] {
				t.Fatalf("x[%d] changed", j)
			}
		}
		for i := range q {
			be.Download(after, q[i])
			for j := range after {
				if after[j] != qh[i][j] {
					t.Fatalf("q[%d][%d] changed", i, j)
				}
			}
		}
	}
}

// Gram-Schmidt against 40 vectors of a 784x200x200x10 MLP's size: the
// loops of Dot and Axpy against DotMany and AxpyMany.
func BenchmarkGramSchmidt40(b *testing.B) {
	be := New[float32]()
	const n = 199210
	x := be.Alloc(n)
	be.Normal(x, 1)
	q := make([]kernels.Buffer, 40)
	for i := range q {
		q[i] = be.Alloc(n)
		be.Normal(q[i], uint64(i+2))
	}
	c := make([]float64, len(q))
	b.Run("loops", func(b *testing.B) {
		for range b.N {
			for i := range q {
				c[i] = be.Dot(q[i], x)
			}
			for i := range q {
				be.Axpy(-1e-3*c[i], q[i], x)
			}
		}
	})
	b.Run("many", func(b *testing.B) {
		for range b.N {
			be.DotMany(c, q, x)
			for i := range c {
				c[i] *= -1e-3
			}
			be.AxpyMany(c, q, x)
		}
	})
}
