package data

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/curvprobe/curvprobe/internal/npytest"
)

// A gzip'd IDX file is read to its end, so that its checksum is checked: a
// corrupt file is an error even when the pixels it needs decode (found by
// FuzzLoadIDX).
func TestIDXCorruptGzip(t *testing.T) {
	im := gz(t, idxBytes(idxImagesMagic, []uint32{2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7}))
	lb := writeIDXLabels(t, []byte{1, 0})
	if _, err := LoadIDX(writeFile(t, filepath.Join(t.TempDir(), "t10k-images-idx3-ubyte.gz"), im), lb); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for name, b := range map[string][]byte{
		"bad CRC":        append(slices.Clone(im[:len(im)-8]), 0, 0, 0, 0, 16+8, 0, 0, 0),
		"bad length":     append(slices.Clone(im[:len(im)-4]), 99, 0, 0, 0),
		"truncated tail": im[:len(im)-3],
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "t10k-images-idx3-ubyte.gz"), b)
			_, err := LoadIDX(p, lb)
			npytest.CheckNamed(t, err, p, "gzip")
		})
	}
}
