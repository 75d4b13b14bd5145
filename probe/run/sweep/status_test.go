package sweep

import (
	"path/filepath"
	"strings"
	"testing"
)

// A directory without sweep.json is an error naming the file.
func TestProgressNoPlan(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadProgress(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, GridFile)) {
		t.Errorf("error %v, want one naming %s", err, filepath.Join(dir, GridFile))
	}
}
