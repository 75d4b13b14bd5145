package data

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/curvprobe/curvprobe/internal/npytest"
)

func TestLoadNPZCorrupt(t *testing.T) {
	x := make([][3]float32, 3000) // larger than one zip read
	for i := range x {
		x[i] = [3]float32{float32(i), 1, -2}
	}
	good := writeNPZ(t, "d.npz", map[string]any{"x.npy": x, "y.npy": make([]int64, len(x))})
	if _, err := LoadNPZ(good); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	npytest.CheckCorrupt(t, good, "d.npz", []string{"x", "y"},
		func(p string) error { _, err := LoadNPZ(p); return err },
		func(p, array string) []string { return []string{p, fmt.Sprintf("array %q", array)} })
}

func TestLoadNPYCorrupt(t *testing.T) {
	good := writeNPZ(t, "d.npz", map[string]any{"x.npy": [4][2]float64{{1, 2}, {3, 4}, {5, 6}, {7, 8}}, "y.npy": []int64{0, 1, 0, 1}})
	_, members := npytest.Members(t, good)
	dir := t.TempDir()
	yPath := writeFile(t, filepath.Join(dir, "y.npy"), members["y.npy"])
	if _, err := LoadNPY(writeFile(t, filepath.Join(dir, "x.npy"), members["x.npy"]), yPath); err != nil {
		t.Fatalf("valid files: %v", err)
	}
	for _, c := range npytest.Corruptions {
		t.Run(c.Name, func(t *testing.T) {
			xPath := writeFile(t, filepath.Join(t.TempDir(), "x.npy"), c.F(members["x.npy"]))
			err := npytest.NoPanic(t, func() error { _, err := LoadNPY(xPath, yPath); return err })
			npytest.CheckNamed(t, err, xPath)
		})
	}
}
