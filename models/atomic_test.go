package models

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// WriteAtomic replaces a file whole, readable by others as the logs beside
// it are (0644 under the usual umask 022), and a failed write leaves the old
// file and no temporary behind.
func TestWriteAtomic(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.json")
	write := func(s string) func(*os.File) error {
		return func(f *os.File) error { _, err := f.WriteString(s); return err }
	}
	if err := WriteAtomic(path, write("first")); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, write("second")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := WriteAtomic(path, func(f *os.File) error { f.WriteString("partial"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write returned %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "second" {
		t.Fatalf("after a failed write the file holds %q (%v), want the last complete one", b, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644", st.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(ents))
	}
}
