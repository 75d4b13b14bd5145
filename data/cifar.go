package data

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// CIFAR-10 binary records: one label byte then 32×32 red, green and blue
// planes (CHW, each row-major).
const (
	cifarSide   = 32
	cifarD      = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarD
)

// LoadCIFAR reads CIFAR-10 binary batch files (data_batch_1.bin ...,
// test_batch.bin; gzip'd or raw), concatenated in the order given. Each
// 3073-byte record is a label byte then the image in CHW order, which X
// keeps (D = 3072), scaled to [0, 1]. A file whose length is not a whole
// number of records is an error naming the truncated record.
func LoadCIFAR(paths ...string) (*Dataset, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("data: LoadCIFAR: no batch files given")
	}
	d := &Dataset{D: cifarD, Classes: 10, Source: strings.Join(paths, " + "), ClassNames: slices.Clone(cifarClassNames)}
	d.Name = stem(paths[0])
	if len(paths) > 1 {
		d.Name = filepath.Base(filepath.Dir(paths[0]))
	}
	for _, p := range paths {
		r, closeFn, err := openMaybeGzip(p)
		if err != nil {
			return nil, err
		}
		buf, err := io.ReadAll(r)
		closeFn()
		if err != nil {
			return nil, fmt.Errorf("data: %s: %v", p, err)
		}
		if err := cifarSize(p, int64(len(buf))); err != nil {
			return nil, err
		}
		d.X = slices.Grow(d.X, len(buf)/cifarRecord*cifarD)
		for k := 0; k < len(buf); k += cifarRecord {
			rec := buf[k : k+cifarRecord]
			if err := cifarLabel(p, k/cifarRecord, rec[0]); err != nil {
				return nil, err
			}
			d.Labels = append(d.Labels, int(rec[0]))
			for _, b := range rec[1:] {
				d.X = append(d.X, float64(b)/255)
			}
		}
	}
	d.N = len(d.Labels)
	return d, nil
}

// cifarSize checks that a CIFAR batch file p of size bytes holds a whole,
// positive number of records.
func cifarSize(p string, size int64) error {
	if size == 0 {
		return fmt.Errorf("data: %s: empty CIFAR batch file", p)
	}
	if rem := size % cifarRecord; rem != 0 {
		return fmt.Errorf("data: %s: truncated CIFAR record %d: %d of %d bytes (file size %d)",
			p, size/cifarRecord, rem, cifarRecord, size)
	}
	return nil
}

// cifarLabel checks the label byte b of record k of the CIFAR batch file p.
func cifarLabel(p string, k int, b byte) error {
	if b > 9 {
		return fmt.Errorf("data: %s: record %d: label %d outside 0-9", p, k, b)
	}
	return nil
}

// cifarClassNames are the CIFAR-10 class names in label order, as in
// batches.meta.txt.
var cifarClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
