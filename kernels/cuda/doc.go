// Package cuda is the NVIDIA GPU backend of curvprobe: kernels.Backend[T]
// for float32 and float64 on the CUDA driver API and cuBLAS, both loaded at
// run time with purego, so that one binary (cgo or not) runs on CPU-only
// and GPU machines and needs no CUDA to build (DESIGN.md).
//
// Use:
//
//	dev, err := cuda.Open(cuda.Options{})   // errors.Is(err, cuda.ErrNoDevice) without a GPU
//	if err != nil { ... fall back to kernels/cpu ... }
//	defer dev.Close()
//	be, err := cuda.New[float32](dev)       // a kernels.Backend[float32]
//
// Nothing happens at package initialisation. Open loads libcuda.so.1 (or
// $CURVPROBE_LIBCUDA) and cuBLAS (libcublas.so.13, .12, .11 through the
// loader, or $CURVPROBE_CUBLAS, or the CUDA toolkit, distribution and
// Python-wheel directories: see cublasDirs), calls cuInit, retains the
// device's primary context, creates one stream and a cuBLAS handle bound
// to it, and JIT-loads the embedded PTX. Without a usable device it
// returns an error wrapping ErrNoDevice that names the reason.
//
// Invariants:
//
//   - Memory: every Buffer is device memory owned by the Backend that
//     allocated it (views share it; Free of a view is a no-op; a buffer of
//     another backend panics "kernels: ..."). Data crosses only through
//     Upload and Download.
//   - Ordering: all work is queued in order on the device's stream; Upload,
//     Download, Free and the methods returning values wait for it. So a
//     Backend behaves sequentially, like the CPU one.
//   - Threads: a Device serialises its calls and runs each on an OS thread
//     locked for the call with the context made current, so it may be used
//     from any goroutine (Device.do).
//   - Errors: argument errors panic as in kernels/cpu. Device errors (a
//     failed launch, an illegal address) are recorded, sticky, and returned
//     by Sync and Close; reductions return NaN once the device has failed.
//     Options.Synchronous (or CURVPROBE_CUDA_SYNC=1) waits for every kernel
//     so that an error names it, and times each (Device.KernelStats).
//   - Precision: the kernels (kernels/cuda/*.cu, one file per family, each
//     kernel's doc comment showing the Go reference loop of kernels/cpu)
//     evaluate elementwise results in double and round once to T, and
//     accumulate every reduction (Dot, Nrm2, losses, column sums) in double,
//     in an order fixed by the length alone, so results are reproducible.
//     They are compiled to PTX for compute_70 with -fmad=false
//     -prec-div=true -prec-sqrt=true. GEMM, Axpy and Scale are cuBLAS
//     (CUBLAS_DEFAULT_MATH: full float32, no TF32 unless Options.TF32).
//   - Random fills reproduce kernels.RademacherAt exactly and
//     kernels.NormalAt to a few float64 ulps (CUDA's log and cos).
//
// Generated code: `make ptx` runs genptx.sh, which compiles each NAME.cu
// to ptx/NAME.ptx with a header recording the SHA-256 of its sources;
// TestPTXUpToDate fails on stale PTX. See README.md for the GPU checks.
package cuda
