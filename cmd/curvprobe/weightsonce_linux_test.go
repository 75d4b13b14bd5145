package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/curvprobe/curvprobe/models"
)

// `spectrum --weights F --act A --loss L` (no --model) reads the widths
// from F and then its parameters: F is opened once, not once to infer the
// model and again (with its headers) to load it. Counted by inotify's
// IN_OPEN events on F, for our NPZ and for safetensors.
func TestWeightsOpenedOnce(t *testing.T) {
	model, npz, dataPath := taylorFiles(t)
	spec, err := models.LoadSpec(model)
	if err != nil {
		t.Fatal(err)
	}
	params, err := models.LoadWeights(npz, spec)
	if err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(t.TempDir(), "w.safetensors")
	if err := models.SaveSafetensors(st, spec, params); err != nil {
		t.Fatal(err)
	}
	for _, weights := range []string{npz, st} {
		t.Run(filepath.Ext(weights), func(t *testing.T) {
			opens := countOpens(t, weights, func() {
				var stdout, stderr bytes.Buffer
				args := []string{"spectrum", "--weights", weights, "--act", "tanh", "--loss", "mse", "--data", dataPath, "--device", "cpu", "--quiet"}
				if err := execute(context.Background(), args, &stdout, &stderr); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, stderr.String())
				}
			})
			if opens != 1 {
				t.Errorf("%s opened %d times, want once", filepath.Base(weights), opens)
			}
		})
	}
}

// countOpens returns the number of times path is opened while f runs. It
// watches closes too: inotify merges an event with an identical one not
// yet read, so only alternating opens and closes are counted one by one
// (curvprobe closes each file before it opens the next).
func countOpens(t *testing.T, path string, f func()) int {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Skipf("inotify: %v", err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, path, syscall.IN_OPEN|syscall.IN_CLOSE_NOWRITE); err != nil {
		t.Skipf("inotify watch: %v", err)
	}
	f()
	n := 0
	buf := make([]byte, 1<<16)
	for {
		m, err := syscall.Read(fd, buf)
		if err != nil || m <= 0 {
			return n
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= m; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			if mask&syscall.IN_OPEN != 0 {
				n++
			}
			off += syscall.SizeofInotifyEvent + int(binary.NativeEndian.Uint32(buf[off+12:]))
		}
	}
}
