// Package device chooses and opens the compute backend a command runs on:
// it parses the device grammar (auto, cpu, cuda, gpu, cuda:N), opens a GPU
// once per process and set of options (runs in one process, such as sweep
// workers, share it), and instantiates the backend of a float type on it.
// The CPU backend needs no opening; auto takes the first GPU when a driver
// and a device are found and otherwise falls back to the CPU, saying why.
//
// Options are plain values: TF32 and Sync go to cuda.Open (which also
// honours CURVPROBE_CUDA_SYNC, the one place the variable is read), Threads
// to the CPU backend. Nothing happens at init; nothing prints except to the
// Notes writer a caller gives.
package device
