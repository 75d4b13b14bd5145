package cuda

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Library search. libcuda.so.1 comes with the NVIDIA driver and is found by
// the dynamic loader's usual search; cuBLAS comes with a CUDA toolkit, a
// distribution package or a Python wheel (PyTorch's nvidia-cublas), often
// outside the loader's search, so we also look in the usual places.

// Environment variables naming the libraries explicitly. When set, only
// that path is tried, so a wrong setting fails loudly instead of falling
// back to another copy.
const (
	EnvLibCUDA = "CURVPROBE_LIBCUDA" // path of libcuda.so.1
	EnvCUBLAS  = "CURVPROBE_CUBLAS"  // path of libcublas.so.N
)

// cublasSonames are the cuBLAS major versions we accept, newest first.
var cublasSonames = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}

// searchEnv abstracts the file system and environment of the search so
// that tests can run it against a fake root.
type searchEnv struct {
	root   string                 // prefix of every absolute directory ("" in production)
	getenv func(string) string    // os.Getenv
	glob   func(string) []string  // filepath.Glob, errors ignored
	exists func(path string) bool // the path names a file
}

func osSearchEnv() searchEnv {
	return searchEnv{
		getenv: os.Getenv,
		glob: func(p string) []string {
			m, _ := filepath.Glob(p)
			return m
		},
		exists: func(p string) bool {
			st, err := os.Stat(p)
			return err == nil && !st.IsDir()
		},
	}
}

// libcudaCandidates returns the paths to try for the driver library, in
// order: $CURVPROBE_LIBCUDA alone if set; otherwise the soname (the
// loader's search) and then the driver's usual install locations.
func libcudaCandidates(e searchEnv) []string {
	if p := e.getenv(EnvLibCUDA); p != "" {
		return []string{p}
	}
	c := []string{"libcuda.so.1"}
	for _, d := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib", "/usr/local/nvidia/lib64"} {
		if p := filepath.Join(e.root+d, "libcuda.so.1"); e.exists(p) {
			c = append(c, p)
		}
	}
	return c
}

// cublasCandidates returns the paths to try for cuBLAS, in order:
// $CURVPROBE_CUBLAS alone if set (or override, from Options, before it);
// otherwise the sonames libcublas.so.{13,12,11} (the loader's search:
// LD_LIBRARY_PATH, ld.so.cache), then every existing libcublas.so.{13,12,11}
// in cublasDirs.
func cublasCandidates(e searchEnv, override string) []string {
	if override != "" {
		return []string{override}
	}
	if p := e.getenv(EnvCUBLAS); p != "" {
		return []string{p}
	}
	c := slices.Clone(cublasSonames)
	for _, d := range cublasDirs(e) {
		for _, so := range cublasSonames {
			if p := filepath.Join(d, so); e.exists(p) && !slices.Contains(c, p) {
				c = append(c, p)
			}
		}
	}
	return c
}

// cublasDirs returns the directories where cuBLAS is commonly installed, in
// the order searched: the CUDA toolkit (/usr/local/cuda, then versioned
// /usr/local/cuda-* newest first), the distribution's library directories,
// conda, and the nvidia/*/lib directories of Python wheels (nvidia/cublas/lib
// for CUDA 11-12 wheels, nvidia/cu13/lib for CUDA 13) under every
// dist-packages or site-packages directory found (the system's, the active
// virtual environment's or conda's, the user's, and /opt/*/.venv).
func cublasDirs(e searchEnv) []string {
	r := e.root
	dirs := []string{r + "/usr/local/cuda/lib64", r + "/usr/local/cuda/targets/x86_64-linux/lib"}
	versioned := e.glob(r + "/usr/local/cuda-*/lib64")
	slices.SortFunc(versioned, func(a, b string) int { return compareVersionPaths(b, a) })
	dirs = append(dirs, versioned...)
	dirs = append(dirs, r+"/usr/lib/x86_64-linux-gnu", r+"/usr/lib64", r+"/opt/conda/lib")
	if p := e.getenv("CONDA_PREFIX"); p != "" {
		dirs = append(dirs, filepath.Join(r+p, "lib"))
	}

	var pyPrefixes []string
	for _, p := range []string{"/usr/lib", "/usr/local/lib", "/opt/conda/lib"} {
		pyPrefixes = append(pyPrefixes, r+p)
	}
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := e.getenv(v); p != "" {
			pyPrefixes = append(pyPrefixes, filepath.Join(r+p, "lib"))
		}
	}
	if h := e.getenv("HOME"); h != "" {
		pyPrefixes = append(pyPrefixes, filepath.Join(r+h, ".local/lib"))
	}
	// Virtual environments installed under /opt (/opt/torch/.venv, as on
	// the GPU machines of DESIGN.md) whether or not one is active.
	venvs := e.glob(r + "/opt/*/.venv/lib")
	slices.Sort(venvs)
	pyPrefixes = append(pyPrefixes, venvs...)
	for _, pre := range pyPrefixes {
		for _, pk := range []string{"dist-packages", "site-packages"} {
			for _, sp := range e.glob(filepath.Join(pre, "python3*", pk)) {
				wheel := []string{filepath.Join(sp, "nvidia/cublas/lib")}
				more := e.glob(filepath.Join(sp, "nvidia/cu*/lib"))
				slices.Sort(more)
				slices.Reverse(more) // cu13 before cu12
				wheel = append(wheel, more...)
				dirs = append(dirs, wheel...)
			}
		}
	}
	// Drop duplicates, keeping the first occurrence.
	var out []string
	for _, d := range dirs {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// compareVersionPaths orders paths like /usr/local/cuda-12.4/lib64 by the
// numeric version after "cuda-" (12.10 after 12.9), then lexically.
func compareVersionPaths(a, b string) int {
	va, vb := cudaDirVersion(a), cudaDirVersion(b)
	for i := 0; i < len(va) && i < len(vb); i++ {
		if va[i] != vb[i] {
			return va[i] - vb[i]
		}
	}
	if len(va) != len(vb) {
		return len(va) - len(vb)
	}
	return strings.Compare(a, b)
}

func cudaDirVersion(p string) []int {
	i := strings.LastIndex(p, "cuda-")
	if i < 0 {
		return nil
	}
	s := p[i+len("cuda-"):]
	if j := strings.IndexByte(s, '/'); j >= 0 {
		s = s[:j]
	}
	var v []int
	for _, f := range strings.Split(s, ".") {
		n := 0
		for _, c := range f {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		v = append(v, n)
	}
	return v
}

// cublasLtFor returns the libcublasLt that a cuBLAS at path p needs when p
// is in a directory (wheels keep both side by side and the loader may not
// look there): the same directory and major version, or "" for a soname.
func cublasLtFor(p string) string {
	if !strings.ContainsRune(p, '/') {
		return ""
	}
	dir, base := filepath.Split(p)
	i := strings.Index(base, ".so")
	if !strings.HasPrefix(base, "libcublas") || i < 0 {
		return ""
	}
	return filepath.Join(dir, "libcublasLt"+base[len("libcublas"):])
}
