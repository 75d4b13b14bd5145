package models

import (
	"archive/zip"
	"fmt"
	"io"
	"os"

	"github.com/curvprobe/curvprobe/internal/torchfile"
	"github.com/curvprobe/curvprobe/kernels"
)

// WeightsFile is a weights file opened once: its format told from its
// content and its directory (an NPZ's zip directory, a safetensors header,
// a torch.save archive's pickle) read, so that InferSpec and Load both read
// from it: a model read from the weights' shapes, then its parameters,
// cost one opening of the file. Close releases it.
type WeightsFile struct {
	path   string
	format string
	f      *os.File
	zr     *zip.Reader     // "npz"
	tf     *torchfile.File // "safetensors", "torch"
}

// OpenWeights opens the weights file at path (LoadWeights' formats) and
// reads its directory. Errors name the file.
func OpenWeights(path string) (*WeightsFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights %s: %w", path, err)
	}
	w := &WeightsFile{path: path, f: f}
	if err := w.open(); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// open tells w's format and reads its directory.
func (w *WeightsFile) open() error {
	path := w.path
	st, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("weights %s: %w", path, err)
	}
	var head [16]byte
	n, _ := io.ReadFull(w.f, head[:])
	var names []string
	if n >= 4 && string(head[:4]) == "PK\x03\x04" {
		if w.zr, err = zip.NewReader(w.f, st.Size()); err != nil {
			return fmt.Errorf("weights %s: %w", path, err)
		}
		for _, zf := range w.zr.File {
			names = append(names, zf.Name)
		}
	}
	switch torchfile.Detect(head[:n], names) {
	case torchfile.Zip:
		w.format = "npz"
		return nil
	case torchfile.Safetensors:
		w.format = "safetensors"
	case torchfile.TorchZip:
		w.format = "torch"
	case torchfile.TorchLegacy:
		return fmt.Errorf("weights %s: a legacy torch.save file (a bare pickle, _use_new_zipfile_serialization=False): save it again with torch.save's default zip format, or with safetensors", path)
	default:
		return fmt.Errorf("weights %s: neither NPZ, safetensors nor a torch.save archive (starts %q)", path, head[:n])
	}
	w.zr = nil
	if w.tf, err = torchfile.OpenReader(w.f, st.Size(), path); err != nil {
		return fmt.Errorf("weights %w", err)
	}
	return nil
}

// Format returns the file's format: "npz", "safetensors" or "torch"
// (WeightsFormat).
func (w *WeightsFile) Format() string { return w.format }

// Path returns the path the file was opened from.
func (w *WeightsFile) Path() string { return w.path }

// InferSpec returns the Spec of the network whose weights w holds
// (the package's InferSpec).
func (w *WeightsFile) InferSpec(act kernels.Activation, loss Loss) (Spec, error) {
	path := w.path
	var widths []int
	var bias []bool
	var keys []string
	var err error
	if w.zr != nil {
		widths, bias, keys, err = npzWidths(w.zr, path)
	} else {
		widths, bias, keys, err = fileWidths(w.tf)
	}
	if err != nil {
		return Spec{}, err
	}
	for l := 1; l < len(bias); l++ {
		if bias[l] != bias[0] {
			return Spec{}, fmt.Errorf("weights %s: layer %d (%s) has %s, layer 0 (%s) %s: biases must be on every layer or none",
				path, l, keys[l], hasBias(bias[l]), keys[0], hasBias(bias[0]))
		}
	}
	spec := Spec{Layers: widths, Activation: act, Loss: loss, Bias: bias[0]}
	if err := spec.Validate(); err != nil {
		return Spec{}, fmt.Errorf("weights %s: %w", path, err)
	}
	return spec, nil
}

// Load reads the weights of spec from w and returns the flat parameter
// vector (LoadWeights).
func (w *WeightsFile) Load(spec Spec) ([]float64, error) {
	if w.zr != nil {
		return loadNPZ(w.zr, w.path, spec)
	}
	return torchWeights(w.tf, spec)
}

// Close closes the file.
func (w *WeightsFile) Close() error { return w.f.Close() }
