package cuda

import (
	"math"
	"time"
	"unsafe"
)

// Launch geometry. Elementwise kernels are grid-stride loops, so any grid
// covers any length; grids are capped where more blocks stop helping.
// Reduction grids depend only on n, never on the device, so that sums are
// added in the same order on every GPU and every run.
const (
	blockSize   = 256  // threads per block of 1-D kernels; MAX_BLOCK in common.cuh
	maxGrid     = 4096 // blocks of elementwise kernels (1M threads)
	maxPartials = 1024 // blocks of reductions: partial sums in the scratch area
	maxRowGrid  = 65535
)

// testGridLimit, when positive, caps every grid: the tests' CPU emulation
// of the kernels runs fewer blocks (grid-stride loops keep the results
// exact; reductions are then summed in another order).
var testGridLimit = 0

func capGrid(g int) uint32 {
	if testGridLimit > 0 {
		g = min(g, testGridLimit)
	}
	return uint32(g)
}

// elemGrid returns the blocks for an elementwise kernel over n > 0 elements.
func elemGrid(n int) uint32 { return capGrid(min((n+blockSize-1)/blockSize, maxGrid)) }

// reduceGrid returns the blocks of a reduction over n > 0 elements.
func reduceGrid(n int) uint32 { return capGrid(min((n+blockSize-1)/blockSize, maxPartials)) }

// rowGrid returns the blocks of a one-block-per-row kernel over rows > 0
// rows, at most limit.
func rowGrid(rows, limit int) uint32 { return capGrid(min(rows, limit)) }

// rowBlock returns the threads per block of a one-block-per-row kernel:
// the power of two in [32, blockSize] nearest above cols.
func rowBlock(cols int) uint32 {
	b := 32
	for b < cols && b < blockSize {
		b *= 2
	}
	return uint32(b)
}

// kargs holds a kernel's arguments for cuLaunchKernel: vals holds each
// value in an 8-byte slot (a 4-byte int in its low half, little-endian) and
// ptrs[i] points at vals[i]. The driver copies the values at launch. kinds
// records each argument's C type class ('p' 8-byte integer or pointer, 'i'
// int, 'd' double) for the tests' CPU emulation.
type kargs struct {
	n     int
	vals  [14]uint64
	ptrs  [14]unsafe.Pointer
	kinds [14]byte
}

func (a *kargs) add(v uint64, kind byte) *kargs {
	a.vals[a.n] = v
	a.ptrs[a.n] = unsafe.Pointer(&a.vals[a.n])
	a.kinds[a.n] = kind
	a.n++
	return a
}

// u64 adds an unsigned long long.
func (a *kargs) u64(v uint64) *kargs { return a.add(v, 'p') }

// ptr adds a device pointer (T*); 0 is NULL.
func (a *kargs) ptr(p uintptr) *kargs { return a.add(uint64(p), 'p') }

// idx adds an idx_t (long long).
func (a *kargs) idx(v int) *kargs { return a.add(uint64(int64(v)), 'p') }

// i32 adds an int.
func (a *kargs) i32(v int32) *kargs { return a.add(uint64(uint32(v)), 'i') }

// f64 adds a double.
func (a *kargs) f64(v float64) *kargs { return a.add(math.Float64bits(v), 'd') }

// launch queues fn on the device's stream with grid×1 blocks of bx×by
// threads. In Synchronous mode it waits for the kernel, records its time
// and attributes any error to it. The caller holds the device (do).
func (d *Device) launch(fn uintptr, name string, grid, bx, by uint32, a *kargs) {
	if d.sync {
		d.check("cuEventRecord", d.drv.cuEventRecord(d.ev[0], d.stream))
	}
	if r := d.drv.cuLaunchKernel(fn, grid, 1, 1, bx, by, 1, 0, d.stream, unsafe.Pointer(&a.ptrs[0]), nil); r != cudaSuccess {
		d.fail(d.drv.error("launch "+name, r))
		return
	}
	if !d.sync {
		return
	}
	d.check("cuEventRecord", d.drv.cuEventRecord(d.ev[1], d.stream))
	if r := d.drv.cuEventSynchronize(d.ev[1]); r != cudaSuccess {
		d.fail(d.drv.error("kernel "+name, r))
		return
	}
	var ms float32
	d.check("cuEventElapsedTime", d.drv.cuEventElapsedTime(&ms, d.ev[0], d.ev[1]))
	s := d.stats[name]
	if s == nil {
		s = &KernelStat{Name: name}
		d.stats[name] = s
	}
	s.Calls++
	s.Time += time.Duration(float64(ms) * float64(time.Millisecond))
}

// reduce runs the partial-sum kernel fn on grid blocks of block threads,
// appending to a the partial-sum array (and, with flag, the flag word) as
// its last arguments, adds the partials with sum_partials and copies the
// result back. It returns the sum and whether a kernel set the flag; the
// sum is NaN if the device has failed. The caller holds the device (do).
func (d *Device) reduce(fn uintptr, name string, grid, block uint32, a *kargs, withFlag bool) (sum float64, flagged bool) {
	partial := d.scratch
	result := d.scratch + maxPartials*8
	a.ptr(partial)
	if withFlag {
		d.check("cuMemsetD8Async", d.drv.cuMemsetD8Async(result+8, 0, 8, d.stream))
		a.ptr(result + 8)
	}
	d.launch(fn, name, grid, block, 1, a)
	var b kargs
	b.ptr(partial).i32(int32(grid)).ptr(result)
	d.launch(d.sumPartials, sumPartialsName, 1, blockSize, 1, &b)
	var host [2]float64
	if !d.check("cuMemcpyDtoHAsync_v2", d.drv.cuMemcpyDtoHAsync(unsafe.Pointer(&host[0]), result, 16, d.stream)) ||
		!d.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream)) || d.err != nil {
		return math.NaN(), false
	}
	return host[0], withFlag && host[1] != 0
}
