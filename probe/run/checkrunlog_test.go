package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRunLog checks each way a run directory can lack its log, and
// that each error names the path at fault.
func TestCheckRunLog(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope")
	for _, c := range []struct{ dir, want string }{
		{missing, "run directory " + missing + " does not exist"},
		{file, file + " is not a run directory"},
		{dir, "no training log " + filepath.Join(dir, "log.jsonl") + " in run directory " + dir},
	} {
		if err := CheckRunLog(c.dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.dir, err, c.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "log.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckRunLog(dir); err != nil {
		t.Errorf("with a log: %v", err)
	}
}
