package data

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
)

//go:embed builtin/digits.csv.gz
var digitsCSV []byte

// Digits returns scikit-learn's 8x8 handwritten digits (1797 samples, 64
// features with values 0-16, 10 classes), embedded in the binary so that
// demos and tests need no files. See builtin/README.md for its source.
func Digits() (*Dataset, error) {
	zr, err := gzip.NewReader(bytes.NewReader(digitsCSV))
	if err != nil {
		return nil, fmt.Errorf("data: built-in digits: %w", err)
	}
	d, err := readCSV(zr, "builtin:digits", CSVOptions{})
	if err != nil {
		return nil, err
	}
	d.Name = "digits"
	return d, nil
}
