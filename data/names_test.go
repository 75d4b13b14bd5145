package data

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/curvprobe/curvprobe/internal/errtest"
)

// Names in the builtin: and synthetic: namespaces that Load does not read
// are errors listing the known names, not a failed stat of a file; a
// folder without data says so in plain words.
func TestLoadUnknownNames(t *testing.T) {
	for _, c := range []struct {
		path string
		want []string
	}{
		{"builtin:bogus", []string{"unknown built-in dataset", `"builtin:bogus"`, "builtin:digits"}},
		{"synthetic:bogus", []string{"unknown synthetic dataset", `"synthetic:bogus"`, "synthetic:gaussian", "synthetic:teacher", "builtin:digits"}},
	} {
		_, err := Load(c.path, "")
		if !errtest.Mentions(t, fmt.Sprintf("Load(%q)", c.path), err, c.want...) {
			continue
		}
		if strings.Contains(err.Error(), "stat") {
			t.Errorf("Load(%q): error %q speaks of a file", c.path, err)
		}
	}
	for _, g := range strings.Split(Generators, ", ") {
		if _, err := Load(g, ""); !errors.Is(err, ErrGenerated) {
			t.Errorf("Load(%q): error %v, want ErrGenerated", g, err)
		}
	}
}

func TestLoadFolderWithoutData(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("no data here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ format, want string }{
		{"", "found no dataset in the folder"},
		{"npz", "found no npz dataset in the folder"},
	} {
		_, err := Load(dir, c.format)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(folder, %q): error %v, want one containing %q", c.format, err, c.want)
		}
	}
}

// A format names how to read a file: given for the embedded digits it is
// a mistake, not ignored.
func TestBuiltinRefusesFormat(t *testing.T) {
	if _, err := Load("builtin:digits", "foo"); err == nil || !strings.Contains(err.Error(), "builtin:digits is embedded") {
		t.Errorf("builtin:digits with format foo: %v", err)
	}
	if d, err := Load("builtin:digits", ""); err != nil || d.N != 1797 {
		t.Errorf("builtin:digits: %v", err)
	}
}
