package kernels

import (
	"strings"
	"testing"
)

// mustPanic checks that f panics with a "kernels:" message.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if s, ok := recover().(string); !ok || !strings.HasPrefix(s, "kernels:") {
			t.Errorf("%s: recovered %v, want a kernels: panic", what, s)
		}
	}()
	f()
}

func TestCheckMatrix(t *testing.T) {
	checkMatrix("A", 6, 2, 3, 3) // exact fit
	checkMatrix("A", 5, 2, 2, 3) // last row unpadded
	checkMatrix("A", 0, 0, 3, 3)
	mustPanic(t, "short", func() { checkMatrix("A", 5, 2, 3, 3) })
	mustPanic(t, "small ld", func() { checkMatrix("A", 100, 2, 3, 2) })
	mustPanic(t, "ld 0", func() { checkMatrix("A", 100, 0, 0, 0) })
}

// CheckGemm checks each operand in its stored shape: transposed A is k×m.
func TestCheckGemm(t *testing.T) {
	if ar, ac, br, bc := GemmShapes(Transpose, NoTrans, 2, 3, 4); ar != 4 || ac != 2 || br != 4 || bc != 3 {
		t.Errorf("GemmShapes(T, N, 2, 3, 4) = %d×%d, %d×%d; want 4×2, 4×3", ar, ac, br, bc)
	}
	CheckGemm(Transpose, Transpose, 2, 3, 4, 8, 2, 12, 4, 6, 3)
	mustPanic(t, "negative", func() { CheckGemm(NoTrans, NoTrans, -1, 3, 4, 8, 4, 12, 3, 6, 3) })
	mustPanic(t, "A as if untransposed", func() { CheckGemm(Transpose, NoTrans, 2, 3, 4, 8, 4, 12, 3, 6, 3) })
	mustPanic(t, "short C", func() { CheckGemm(NoTrans, NoTrans, 2, 3, 4, 8, 4, 12, 3, 5, 3) })
}
