package cuda

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeRoot creates the given files (relative paths) under a temporary
// directory and returns a searchEnv rooted there with the given environment.
func fakeRoot(t *testing.T, files []string, env map[string]string) searchEnv {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := osSearchEnv()
	e.root = root
	e.getenv = func(k string) string { return env[k] }
	return e
}

func TestCUBLASCandidates(t *testing.T) {
	e := fakeRoot(t, []string{
		"usr/local/cuda-12.4/lib64/libcublas.so.12",
		"usr/local/cuda-12.10/lib64/libcublas.so.12",
		"usr/local/cuda-11.8/lib64/libcublas.so.11",
		"usr/local/cuda/lib64/libcublas.so.13",
		"usr/lib/x86_64-linux-gnu/libcublas.so.11",
		"usr/lib/python3.11/dist-packages/nvidia/cublas/lib/libcublas.so.12",
		"usr/local/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
		"home/u/.local/lib/python3.10/site-packages/nvidia/cublas/lib/libcublas.so.12",
		"venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12",
		"opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
		"usr/local/cuda-12.4/lib64/libcublas.so", // unversioned: not ours
	}, map[string]string{"HOME": "/home/u", "VIRTUAL_ENV": "/venv"})
	got := cublasCandidates(e, "")
	r := e.root
	want := []string{
		"libcublas.so.13", "libcublas.so.12", "libcublas.so.11",
		r + "/usr/local/cuda/lib64/libcublas.so.13",
		r + "/usr/local/cuda-12.10/lib64/libcublas.so.12", // newest versioned toolkit first
		r + "/usr/local/cuda-12.4/lib64/libcublas.so.12",
		r + "/usr/local/cuda-11.8/lib64/libcublas.so.11",
		r + "/usr/lib/x86_64-linux-gnu/libcublas.so.11",
		r + "/usr/lib/python3.11/dist-packages/nvidia/cublas/lib/libcublas.so.12",
		r + "/usr/local/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
		r + "/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12",
		r + "/home/u/.local/lib/python3.10/site-packages/nvidia/cublas/lib/libcublas.so.12",
		r + "/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13",
	}
	if !slices.Equal(got, want) {
		t.Errorf("candidates:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}

	// An explicit path, from Options or the environment, is the only candidate.
	e.getenv = func(k string) string {
		if k == EnvCUBLAS {
			return "/opt/x/libcublas.so.12"
		}
		return ""
	}
	if got := cublasCandidates(e, ""); !slices.Equal(got, []string{"/opt/x/libcublas.so.12"}) {
		t.Errorf("with %s: %v", EnvCUBLAS, got)
	}
	if got := cublasCandidates(e, "/y/libcublas.so.13"); !slices.Equal(got, []string{"/y/libcublas.so.13"}) {
		t.Errorf("with an override: %v", got)
	}
}

func TestLibcudaCandidates(t *testing.T) {
	e := fakeRoot(t, []string{"usr/lib64/libcuda.so.1", "usr/lib/wsl/lib/libcuda.so.1"}, nil)
	want := []string{"libcuda.so.1", e.root + "/usr/lib64/libcuda.so.1", e.root + "/usr/lib/wsl/lib/libcuda.so.1"}
	if got := libcudaCandidates(e); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	e.getenv = func(k string) string {
		if k == EnvLibCUDA {
			return "/drv/libcuda.so.1"
		}
		return ""
	}
	if got := libcudaCandidates(e); !slices.Equal(got, []string{"/drv/libcuda.so.1"}) {
		t.Errorf("with %s: %v", EnvLibCUDA, got)
	}
}

func TestCompareVersionPaths(t *testing.T) {
	p := []string{"/usr/local/cuda-12.4/lib64", "/usr/local/cuda-12.10/lib64", "/usr/local/cuda-13.0/lib64", "/usr/local/cuda-9.2/lib64", "/usr/local/cuda-12/lib64"}
	slices.SortFunc(p, compareVersionPaths)
	want := []string{"/usr/local/cuda-9.2/lib64", "/usr/local/cuda-12/lib64", "/usr/local/cuda-12.4/lib64", "/usr/local/cuda-12.10/lib64", "/usr/local/cuda-13.0/lib64"}
	if !slices.Equal(p, want) {
		t.Errorf("got %v, want %v", p, want)
	}
}

func TestCublasLtFor(t *testing.T) {
	for in, want := range map[string]string{
		"libcublas.so.12":                    "",
		"/a/b/libcublas.so.12":               "/a/b/libcublasLt.so.12",
		"/a/nvidia/cu13/lib/libcublas.so.13": "/a/nvidia/cu13/lib/libcublasLt.so.13",
		"/a/libfoo.so.1":                     "",
	} {
		if got := cublasLtFor(in); got != want {
			t.Errorf("cublasLtFor(%q) = %q, want %q", in, got, want)
		}
	}
}
