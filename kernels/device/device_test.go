package device

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/kernels/cuda"
)

// Parse reads the device grammar and String writes it back; anything else
// is an error naming the value.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Name
		str  string
	}{{"", Name{}, "auto"}, {"auto", Name{}, "auto"}, {"cpu", Name{Kind: CPU}, "cpu"}, {"cuda", Name{Kind: CUDA}, "cuda"},
		{"gpu", Name{Kind: CUDA}, "cuda"}, {"cuda:0", Name{Kind: CUDA}, "cuda"}, {"cuda:3", Name{Kind: CUDA, Ordinal: 3}, "cuda:3"},
		{"cuda:07", Name{Kind: CUDA, Ordinal: 7}, "cuda:7"}} {
		n, err := Parse(tc.in)
		if err != nil || n != tc.want || n.String() != tc.str {
			t.Errorf("Parse(%q) = %+v (%s), %v; want %+v (%s)", tc.in, n, n, err, tc.want, tc.str)
		}
		if back, err := Parse(n.String()); err != nil || back != n {
			t.Errorf("Parse(%q.String()) = %+v, %v", tc.in, back, err)
		}
	}
	for _, bad := range []string{"cuda:", "cuda:-1", "cuda:+1", "cuda:x", "cuda: 1", "tpu", "CPU ", "cuda:99999999999999999999"} {
		_, err := Parse(bad)
		if want := `device "` + bad + `": want auto, cpu, cuda or cuda:N`; err == nil || err.Error() != want {
			t.Errorf("Parse(%q): %v; want %s", bad, err, want)
		}
	}
}

// The CPU opens silently; without a GPU, auto falls back to the CPU and
// says why on Notes, and cuda is cuda's error; a negative thread count is
// an error.
func TestOpen(t *testing.T) {
	be, err := Open[float64](Name{Kind: CPU}, Options{})
	if err != nil || be == nil {
		t.Fatalf("cpu: %v", err)
	}
	if _, err := Open[float32](Name{Kind: CPU}, Options{Threads: -1}); err == nil || !strings.Contains(err.Error(), "threads -1") {
		t.Errorf("threads -1: %v", err)
	}
	if _, err := cuda.Devices(); err == nil {
		t.Skip("a GPU is present: the fallback is not testable here")
	}
	var notes bytes.Buffer
	be, err = Open[float64](Name{}, Options{Notes: &notes})
	if err != nil || be == nil || !strings.Contains(notes.String(), "device auto: no usable GPU") {
		t.Errorf("auto without a GPU: %v, notes %q", err, notes.String())
	}
	_, err = Open[float32](Name{Kind: CUDA, Ordinal: 1}, Options{TF32: true})
	if err == nil || !errors.Is(err, cuda.ErrNoDevice) {
		t.Errorf("cuda:1 without a GPU: %v", err)
	}
	// The failure is cached: asking again gives the same error.
	_, err2 := Open[float32](Name{Kind: CUDA, Ordinal: 1}, Options{TF32: true})
	if err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second open: %v; first %v", err2, err)
	}
}

// Parse never panics; a name it accepts is written by String in a form
// that parses to the same Name; an error quotes the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "auto", "cpu", "cuda", "gpu", "cuda:0", "cuda:12", "cuda:-1", "cuda:+1", "cuda:", "tpu", "cuda:007"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if n.Ordinal < 0 || n.Kind > CUDA || n.Kind != CUDA && n.Ordinal != 0 {
			t.Fatalf("Parse(%q) = %+v", s, n)
		}
		back, err := Parse(n.String())
		if err != nil || back != n {
			t.Fatalf("Parse(%q) = %+v; its String %q parses to %+v, %v", s, n, n.String(), back, err)
		}
	})
}

// TestWriteList checks the device list: the CPU first, then the GPUs as
// cuda:N or a line saying why there is none.
func TestWriteList(t *testing.T) {
	var b strings.Builder
	if err := WriteList(&b); err != nil {
		t.Skipf("CUDA driver present but failing: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "cpu\t") {
		t.Fatalf("got %q, want a cpu line then the GPUs", b.String())
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "cuda\tnone: ") && !strings.HasPrefix(l, "cuda:") {
			t.Errorf("line %q: want cuda:N or cuda\\tnone: WHY", l)
		}
	}
}
