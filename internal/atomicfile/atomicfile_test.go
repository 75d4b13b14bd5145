package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Write replaces a file whole, readable by others (0644 under the usual
// umask 022), and a failed write leaves the old file intact and no
// temporary file behind.
func TestWrite(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	if err := WriteBytes(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, []byte("second")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(f *os.File) error { f.WriteString("partial"); return boom })
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), path) {
		t.Fatalf("failed write returned %v, want boom naming %s", err, path)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "second" {
		t.Fatalf("after a failed write the file holds %q (%v), want the last complete one", b, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != Perm {
		t.Errorf("mode %v (%v), want %v", st.Mode().Perm(), err, Perm)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(ents))
	}
}

// A write into a folder that does not exist fails, naming nothing created.
func TestWriteMissingFolder(t *testing.T) {
	dir := t.TempDir()
	if err := WriteBytes(filepath.Join(dir, "no", "f.json"), []byte("x")); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("folder holds %d entries after a failed write", len(ents))
	}
}

// The temporary file the writer sees is named as TempPattern says, beside
// the target: the pattern probe/run's resume uses to clean up after a
// killed writer.
func TestTempName(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt-0000020.npz")
	re := regexp.MustCompile(`^` + TempPattern(regexp.QuoteMeta("ckpt-0000020.npz")) + `$`)
	err := Write(path, func(f *os.File) error {
		if filepath.Dir(f.Name()) != dir {
			t.Errorf("temporary file %s is not beside %s", f.Name(), path)
		}
		if !re.MatchString(filepath.Base(f.Name())) {
			t.Errorf("temporary file %s does not match %s", f.Name(), re)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"ckpt-0000020.npz.tmp1", ".ckpt-0000020.npz.tmp", ".ckpt-0000020.npz.tmpx"} {
		if re.MatchString(bad) {
			t.Errorf("%s matches %s", bad, re)
		}
	}
}
