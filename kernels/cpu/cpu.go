package cpu

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"

	"github.com/curvprobe/curvprobe/kernels"
)

var (
	_ kernels.Backend[float32] = (*Backend[float32])(nil)
	_ kernels.Backend[float64] = (*Backend[float64])(nil)
)

// Backend is the CPU implementation of kernels.Backend[T]. Its zero value is
// not usable; create one with New. A Backend holds no mutable state, so it may
// be used from several goroutines as long as they write disjoint buffers.
type Backend[T kernels.Float] struct {
	b32 blas.Float32
	b64 blas.Float64
}

// New returns a CPU backend over elements of type T using the BLAS this
// binary was built with (see BLASName).
func New[T kernels.Float]() *Backend[T] {
	b32, b64 := defaultBLAS()
	return &Backend[T]{b32: b32, b64: b64}
}

// Name returns "cpu (" + BLASName() + ")".
func (*Backend[T]) Name() string { return "cpu (" + BLASName() + ")" }

// storage is the memory of an allocation, shared by its views.
type storage[T kernels.Float] struct {
	data  []T
	freed bool
}

// buffer is the CPU kernels.Buffer: n elements of st starting at off.
type buffer[T kernels.Float] struct {
	st     *storage[T]
	off, n int
	view   bool
}

// Len returns the number of elements of b.
func (b *buffer[T]) Len() int { return b.n }

func (b *buffer[T]) slice() []T {
	if b.st.freed {
		panic("kernels: use of freed buffer")
	}
	return b.st.data[b.off : b.off+b.n : b.off+b.n]
}

// buf asserts that b is a CPU buffer of element type T.
func buf[T kernels.Float](b kernels.Buffer) *buffer[T] {
	cb, ok := b.(*buffer[T])
	if !ok || cb == nil {
		panic("kernels: buffer does not belong to this cpu backend")
	}
	return cb
}

// data returns the storage of b, nil for a nil Buffer.
func data[T kernels.Float](b kernels.Buffer) []T {
	if b == nil {
		return nil
	}
	return buf[T](b).slice()
}

// Slice returns the elements of b, a Buffer of a CPU Backend[T], sharing its
// storage: writes through the slice are visible to the backend and vice
// versa. It is meant for tests and other CPU-only code; portable code uses
// Upload and Download. Slice panics if b is not such a buffer or was freed.
func Slice[T kernels.Float](b kernels.Buffer) []T { return buf[T](b).slice() }

// Alloc returns a zeroed buffer of n elements.
func (*Backend[T]) Alloc(n int) kernels.Buffer {
	if n < 0 {
		panic("kernels: negative buffer length")
	}
	return &buffer[T]{st: &storage[T]{data: make([]T, n)}, n: n}
}

// Free releases b; later use of b or its views panics. Free of a view is a
// no-op.
func (*Backend[T]) Free(b kernels.Buffer) {
	cb := buf[T](b)
	if cb.view {
		return
	}
	cb.st.freed = true
	cb.st.data = nil
}

// View returns the n elements of b starting at off, sharing b's storage.
func (*Backend[T]) View(b kernels.Buffer, off, n int) kernels.Buffer {
	cb := buf[T](b)
	if cb.st.freed {
		panic("kernels: use of freed buffer")
	}
	if off < 0 || n < 0 || off+n > cb.n {
		panic("kernels: view out of range")
	}
	return &buffer[T]{st: cb.st, off: cb.off + off, n: n, view: true}
}

// Upload copies src into dst; len(src) must equal dst.Len().
func (*Backend[T]) Upload(dst kernels.Buffer, src []T) {
	d := data[T](dst)
	if len(src) != len(d) {
		panic("kernels: Upload length mismatch")
	}
	copy(d, src)
}

// Download copies src into dst; len(dst) must equal src.Len().
func (*Backend[T]) Download(dst []T, src kernels.Buffer) {
	s := data[T](src)
	if len(dst) != len(s) {
		panic("kernels: Download length mismatch")
	}
	copy(dst, s)
}

// Sync returns nil: CPU operations complete before they return.
func (*Backend[T]) Sync() error { return nil }

// is32 reports whether T is 4 bytes wide (float32 or a type defined on it).
func is32[T kernels.Float]() bool { return unsafe.Sizeof(T(0)) == 4 }

// f32 and f64 reinterpret a []T as the slice type BLAS takes; the caller
// has checked is32. They also serve types defined on float32 and float64.
func f32[T kernels.Float](s []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func f64[T kernels.Float](s []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
