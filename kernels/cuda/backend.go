package cuda

import (
	"fmt"
	"unsafe"

	"github.com/curvprobe/curvprobe/kernels"
)

var (
	_ kernels.Backend[float32] = (*Backend[float32])(nil)
	_ kernels.Backend[float64] = (*Backend[float64])(nil)
)

// Backend is the CUDA implementation of kernels.Backend[T]: buffers live in
// device memory, BLAS is cuBLAS, everything else is the kernels of
// kernels/cuda/*.cu. Work is queued in order on the device's stream;
// methods that return a value (Dot, Nrm2, the losses, CountCorrect) and
// Download wait for it. Errors of the device (a failed launch, a lost
// context) are sticky and reported by Sync; reductions return NaN once the
// device has failed. Create one with New.
type Backend[T kernels.Float] struct {
	dev  *Device
	prec int // 0 float32, 1 float64
	fns  *[numKernels]uintptr
	name string
}

// New returns a backend over elements of type T on dev. Backends of both
// element types may share a Device.
func New[T kernels.Float](dev *Device) (*Backend[T], error) {
	if dev == nil {
		return nil, fmt.Errorf("cuda: New: nil Device")
	}
	dev.mu.Lock()
	closed := dev.closed
	dev.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("cuda: New: Device is closed")
	}
	p := 1
	if unsafe.Sizeof(T(0)) == 4 {
		p = 0
	}
	return &Backend[T]{
		dev:  dev,
		prec: p,
		fns:  &dev.fns[p],
		name: fmt.Sprintf("cuda (%s, cuBLAS %s)", dev.info.Name, dev.info.CUBLASVersion),
	}, nil
}

// Name returns "cuda (DEVICE, cuBLAS VERSION)".
func (bk *Backend[T]) Name() string { return bk.name }

// Device returns the backend's device.
func (bk *Backend[T]) Device() *Device { return bk.dev }

// elemSize is the size of T in bytes.
func elemSize[T kernels.Float]() uintptr { return unsafe.Sizeof(T(0)) }

// allocation is device memory shared by a buffer and its views.
type allocation struct {
	ptr   uintptr // 0 for an empty allocation
	freed bool
}

// buffer is the CUDA kernels.Buffer: n elements of a starting at element
// off, owned by the backend that allocated it.
type buffer[T kernels.Float] struct {
	a      *allocation
	off, n int
	view   bool
	owner  *Backend[T]
}

// Len returns the number of elements of b.
func (b *buffer[T]) Len() int { return b.n }

// buf asserts that b is a buffer of bk, or nil for a nil Buffer.
func (bk *Backend[T]) buf(b kernels.Buffer) *buffer[T] {
	if b == nil {
		return nil
	}
	cb, ok := b.(*buffer[T])
	if !ok || cb == nil || cb.owner != bk {
		panic("kernels: buffer does not belong to this cuda backend")
	}
	if cb.a.freed {
		panic("kernels: use of freed buffer")
	}
	return cb
}

// ptr returns the device address of b's first element, 0 for a nil
// Buffer.
func (bk *Backend[T]) ptr(b kernels.Buffer) uintptr {
	cb := bk.buf(b)
	if cb == nil || cb.a.ptr == 0 {
		return 0
	}
	return cb.a.ptr + uintptr(cb.off)*elemSize[T]()
}

// length returns b.Len(), 0 for a nil Buffer, checking ownership.
func (bk *Backend[T]) length(b kernels.Buffer) int {
	if cb := bk.buf(b); cb != nil {
		return cb.n
	}
	return 0
}

// Alloc returns a zeroed buffer of n elements in device memory. It panics
// with an error wrapping *Error if the device is out of memory.
func (bk *Backend[T]) Alloc(n int) kernels.Buffer {
	if n < 0 {
		panic("kernels: negative buffer length")
	}
	a := &allocation{}
	if n > 0 {
		bytes := uint64(n) * uint64(elemSize[T]())
		var err error
		bk.dev.do(func() {
			if err = bk.dev.drv.error("cuMemAlloc_v2", bk.dev.drv.cuMemAlloc(&a.ptr, bytes)); err != nil {
				return
			}
			bk.dev.check("cuMemsetD8Async", bk.dev.drv.cuMemsetD8Async(a.ptr, 0, bytes, bk.dev.stream))
		})
		if err != nil {
			panic(fmt.Errorf("kernels: cuda Alloc(%d) of %d bytes: %w", n, bytes, err))
		}
	}
	return &buffer[T]{a: a, n: n, owner: bk}
}

// Free releases b's device memory after the work queued so far; later use
// of b or its views panics. Free of a view, or of a freed buffer, is a
// no-op.
func (bk *Backend[T]) Free(b kernels.Buffer) {
	cb, ok := b.(*buffer[T])
	if !ok || cb == nil || cb.owner != bk {
		panic("kernels: buffer does not belong to this cuda backend")
	}
	if cb.view || cb.a.freed {
		return
	}
	cb.a.freed = true
	if cb.a.ptr == 0 {
		return
	}
	p := cb.a.ptr
	cb.a.ptr = 0
	bk.dev.do(func() {
		// Kernels queued on the stream may still use the memory.
		bk.dev.check("cuStreamSynchronize", bk.dev.drv.cuStreamSynchronize(bk.dev.stream))
		bk.dev.check("cuMemFree_v2", bk.dev.drv.cuMemFree(p))
	})
}

// View returns the n elements of b starting at off, sharing b's memory.
func (bk *Backend[T]) View(b kernels.Buffer, off, n int) kernels.Buffer {
	cb := bk.buf(b)
	if cb == nil {
		panic("kernels: buffer does not belong to this cuda backend")
	}
	if off < 0 || n < 0 || off+n > cb.n {
		panic("kernels: view out of range")
	}
	return &buffer[T]{a: cb.a, off: cb.off + off, n: n, view: true, owner: bk}
}

// Upload copies src into dst; len(src) must equal dst.Len(). It returns
// when src may be reused.
func (bk *Backend[T]) Upload(dst kernels.Buffer, src []T) {
	p := bk.ptr(dst)
	if len(src) != bk.length(dst) {
		panic("kernels: Upload length mismatch")
	}
	if len(src) == 0 {
		return
	}
	d := bk.dev
	d.do(func() {
		if d.check("cuMemcpyHtoDAsync_v2", d.drv.cuMemcpyHtoDAsync(p, unsafe.Pointer(&src[0]), uint64(len(src))*uint64(elemSize[T]()), d.stream)) {
			d.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
		}
	})
}

// Download copies src into dst after the work queued so far; len(dst) must
// equal src.Len().
func (bk *Backend[T]) Download(dst []T, src kernels.Buffer) {
	p := bk.ptr(src)
	if len(dst) != bk.length(src) {
		panic("kernels: Download length mismatch")
	}
	if len(dst) == 0 {
		return
	}
	d := bk.dev
	d.do(func() {
		if d.check("cuMemcpyDtoHAsync_v2", d.drv.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), p, uint64(len(dst))*uint64(elemSize[T]()), d.stream)) {
			d.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream))
		}
	})
}

// Sync waits for all queued work and returns the device's first error.
func (bk *Backend[T]) Sync() error { return bk.dev.Sync() }

// run launches kernel k (this backend's precision) over grid×1 blocks of
// bx×by threads with arguments a.
func (bk *Backend[T]) run(k kernelID, grid, bx, by uint32, a *kargs) {
	d := bk.dev
	d.do(func() { d.launch(bk.fns[k], kernelName(k, bk.prec), grid, bx, by, a) })
}

// runReduce runs the reduction kernel k and returns its sum and flag.
func (bk *Backend[T]) runReduce(k kernelID, grid, block uint32, a *kargs, withFlag bool) (sum float64, flagged bool) {
	d := bk.dev
	d.do(func() { sum, flagged = d.reduce(bk.fns[k], kernelName(k, bk.prec), grid, block, a, withFlag) })
	return sum, flagged
}
