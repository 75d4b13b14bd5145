package device

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// TestRecoverGPU checks that a CUDA panic becomes the error, out of memory
// with its remedy, and that any other panic goes on.
func TestRecoverGPU(t *testing.T) {
	run := func(p any) (err error) {
		defer RecoverGPU(&err)
		panic(p)
	}
	oom := fmt.Errorf("plan: %w", &cuda.Error{Op: "cuMemAlloc_v2", Code: 2, Desc: "CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"})
	err := run(oom)
	if want := "GPU: plan: cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory (out of GPU memory: try a smaller --batch"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("out of memory: got %v, want %q...", err, want)
	}
	var ce *cuda.Error
	if !errors.As(err, &ce) {
		t.Errorf("out of memory: %v does not wrap *cuda.Error", err)
	}
	if err := run(&cuda.Error{Op: "kernel softmax_ce_f32", Code: 700, Desc: "illegal address"}); err == nil || err.Error() != "GPU: cuda: kernel softmax_ce_f32: illegal address" {
		t.Errorf("kernel failure: got %v", err)
	}
	defer func() {
		if p := recover(); p != "bug" {
			t.Errorf("other panic: recovered %v, want it to go on as \"bug\"", p)
		}
	}()
	run("bug")
}
