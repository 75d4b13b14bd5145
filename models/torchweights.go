package models

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/internal/atomicfile"
	"github.com/curvprobe/curvprobe/internal/torchfile"
	"github.com/curvprobe/curvprobe/kernels"
)

// WeightsFormat names the format of a weights file, told from its content
// (not its name): "npz", "safetensors" or "torch" (torch.save's zip
// archive). Errors name the file.
func WeightsFormat(path string) (string, error) {
	w, err := OpenWeights(path)
	if err != nil {
		return "", err
	}
	defer w.Close()
	return w.Format(), nil
}

// torchLayer is one nn.Linear's parameters in a state_dict: its module path
// (the key less ".weight"), its index in the nn.Sequential, its weight
// [out, in] and its bias [out] (nil when the layer has none).
type torchLayer struct {
	module       string
	index        int
	weight, bias *torchfile.Tensor
}

func (l torchLayer) key(suffix string) string {
	if l.module == "" {
		return suffix
	}
	return l.module + "." + suffix
}

// torchLayers maps a state_dict's keys to Linear layers in order: keys
// PREFIX.N.weight and PREFIX.N.bias, PREFIX common to all (model., net.,
// or nothing), N the layer's index in the nn.Sequential (0, 2, 4, ...
// with activations between); a lone Linear's weight and bias are one
// layer. Anything else is an error naming the key.
func torchLayers(f *torchfile.File) ([]torchLayer, error) {
	var layers []torchLayer
	at := map[string]int{}
	for _, t := range f.Tensors {
		module, param := "", t.Name
		if i := strings.LastIndexByte(t.Name, '.'); i >= 0 {
			module, param = t.Name[:i], t.Name[i+1:]
		}
		if param != "weight" && param != "bias" {
			return nil, fmt.Errorf("key %s (shape %v) is not a Linear layer's weight or bias: only an nn.Sequential of Linear layers and activations is read", t.Name, t.Shape)
		}
		i, seen := at[module]
		if !seen {
			i = len(layers)
			at[module] = i
			layers = append(layers, torchLayer{module: module})
		}
		if param == "weight" {
			layers[i].weight = t
		} else {
			layers[i].bias = t
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("no tensors")
	}
	// The index is the module path's last component, the rest a prefix
	// shared by all layers.
	prefix := ""
	for k := range layers {
		l := &layers[k]
		pre, idx := "", l.module
		if i := strings.LastIndexByte(l.module, '.'); i >= 0 {
			pre, idx = l.module[:i], l.module[i+1:]
		}
		n, err := strconv.Atoi(idx)
		if err != nil || n < 0 {
			if len(layers) == 1 {
				break // a lone Linear: its module name does not matter
			}
			return nil, fmt.Errorf("key %s: not an nn.Sequential layer (want PREFIX.N.weight, N the layer's index)", l.key("weight"))
		}
		if k == 0 {
			prefix = pre
		} else if pre != prefix {
			return nil, fmt.Errorf("keys %s and %s: the layers have different prefixes %q and %q (one nn.Sequential expected)",
				layers[0].key("weight"), l.key("weight"), prefix, pre)
		}
		l.index = n
	}
	slices.SortStableFunc(layers, func(a, b torchLayer) int { return a.index - b.index })
	for _, l := range layers {
		if l.weight == nil {
			return nil, fmt.Errorf("key %s (shape %v) has no weight %s beside it", l.key("bias"), l.bias.Shape, l.key("weight"))
		}
		if len(l.weight.Shape) != 2 {
			return nil, fmt.Errorf("key %s has shape %v: not a Linear layer's weight [out, in] (only an nn.Sequential of Linear layers and activations is read)", l.key("weight"), l.weight.Shape)
		}
	}
	return layers, nil
}

// layerKeys lists the weight keys of layers, for errors.
func layerKeys(layers []torchLayer) string {
	keys := make([]string, len(layers))
	for i, l := range layers {
		keys[i] = fmt.Sprintf("%s %v", l.key("weight"), l.weight.Shape)
	}
	return strings.Join(keys, ", ")
}

// torchWeights reads the state_dict of an nn.Sequential of Linear layers
// (safetensors or torch.save) in f for spec: weights [out, in] transposed
// to our [in, out], any float dtype widened. Errors name the file (f.Path)
// and the key and shape that do not fit.
func torchWeights(f *torchfile.File, spec Spec) ([]float64, error) {
	path := f.Path
	layers, err := torchLayers(f)
	if err != nil {
		return nil, fmt.Errorf("weights %s: %w", path, err)
	}
	if len(layers) != spec.NumLayers() {
		return nil, fmt.Errorf("weights %s: %d Linear layers (%s) for a %s model of %d layers",
			path, len(layers), layerKeys(layers), spec.Arch(), spec.NumLayers())
	}
	// Every shape is checked before the parameters are allocated.
	for l, tl := range layers {
		in, out := spec.Layers[l], spec.Layers[l+1]
		if s := tl.weight.Shape; s[0] != out || s[1] != in {
			hint := ""
			if s[0] == in && s[1] == out {
				hint = "; it looks transposed (nn.Linear stores [out, in])"
			}
			return nil, fmt.Errorf("weights %s: key %s has shape %v, want [%d %d] ([out, in]) for layer %d of layers %v%s",
				path, tl.key("weight"), s, out, in, l, spec.Layers, hint)
		}
		switch {
		case spec.Bias && tl.bias == nil:
			return nil, fmt.Errorf("weights %s: layer %d has no bias %s, but the model has biases (bias: true)", path, l, tl.key("bias"))
		case !spec.Bias && tl.bias != nil:
			return nil, fmt.Errorf("weights %s: key %s (shape %v): the model has no biases (bias: false)", path, tl.key("bias"), tl.bias.Shape)
		case tl.bias != nil && (len(tl.bias.Shape) != 1 || tl.bias.Shape[0] != out):
			return nil, fmt.Errorf("weights %s: key %s has shape %v, want [%d] for layer %d of layers %v", path, tl.key("bias"), tl.bias.Shape, out, l, spec.Layers)
		}
		for _, t := range []*torchfile.Tensor{tl.weight, tl.bias} {
			if t != nil && !t.DType.IsFloat() {
				return nil, fmt.Errorf("weights %s: key %s has dtype %s, want F64, F32, F16 or BF16", path, t.Name, t.DType)
			}
		}
	}
	flat := make([]float64, spec.NumParams())
	var scratch []float64
	for _, b := range spec.Blocks() {
		tl := layers[b.Layer]
		dst := flat[b.Offset : b.Offset+b.Size()]
		t := tl.bias
		if !b.Bias {
			t = tl.weight
			scratch = slices.Grow(scratch[:0], b.Size())[:b.Size()]
			dst = scratch
		}
		if _, err := t.Floats(dst); err != nil {
			return nil, fmt.Errorf("weights %w", err)
		}
		for i, v := range dst {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("weights %s: key %s element %d is %v", path, t.Name, i, v)
			}
		}
		if !b.Bias { // [out, in] to [in, out]
			w := flat[b.Offset : b.Offset+b.Size()]
			for o := 0; o < b.Cols; o++ {
				for i := 0; i < b.Rows; i++ {
					w[i*b.Cols+o] = scratch[o*b.Rows+i]
				}
			}
		}
	}
	return flat, nil
}

// InferSpec returns the Spec of the network whose weights are in path,
// widths and biases read from the weights' shapes, with the activation
// and loss given (they are not in the file). It reads safetensors and
// torch.save state_dicts (an nn.Sequential of Linear layers) and our NPZ
// (W0 b0 W1 b1 ...). Errors name the file and the key whose shape breaks
// the chain of widths. To read the weights too, use OpenWeights: the file
// is then opened once.
func InferSpec(path string, act kernels.Activation, loss Loss) (Spec, error) {
	w, err := OpenWeights(path)
	if err != nil {
		return Spec{}, err
	}
	defer w.Close()
	return w.InferSpec(act, loss)
}

func hasBias(b bool) string {
	if b {
		return "a bias"
	}
	return "no bias"
}

// fileWidths reads the widths of the state_dict's Linear layers in f:
// each layer's in is the previous one's out. Errors name f.Path.
func fileWidths(f *torchfile.File) (widths []int, bias []bool, keys []string, err error) {
	path := f.Path
	layers, err := torchLayers(f)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("weights %s: %w", path, err)
	}
	for l, tl := range layers {
		out, in := tl.weight.Shape[0], tl.weight.Shape[1]
		if l == 0 {
			widths = append(widths, in)
		} else if in != widths[l] {
			return nil, nil, nil, fmt.Errorf("weights %s: key %s has shape %v: its %d inputs do not match the %d outputs of %s %v",
				path, tl.key("weight"), tl.weight.Shape, in, widths[l], layers[l-1].key("weight"), layers[l-1].weight.Shape)
		}
		if tl.bias != nil && (len(tl.bias.Shape) != 1 || tl.bias.Shape[0] != out) {
			return nil, nil, nil, fmt.Errorf("weights %s: key %s has shape %v, want [%d] (the outputs of %s %v)",
				path, tl.key("bias"), tl.bias.Shape, out, tl.key("weight"), tl.weight.Shape)
		}
		widths = append(widths, out)
		bias = append(bias, tl.bias != nil)
		keys = append(keys, tl.key("weight"))
	}
	return widths, bias, keys, nil
}

// npzWidths reads the widths of the weights NPZ zr, read from path, from
// its arrays' headers: W0 [in, out], W1, ... up to the first missing index.
func npzWidths(zr *zip.Reader, path string) (widths []int, bias []bool, keys []string, err error) {
	shape := func(name string) ([]int, bool, error) {
		i := slices.IndexFunc(zr.File, func(zf *zip.File) bool { return zf.Name == name+".npy" })
		if i < 0 {
			return nil, false, nil
		}
		m, err := openNPY(zr.File[i])
		if err != nil {
			return nil, true, fmt.Errorf("weights %s: array %s: %w", path, name, err)
		}
		m.Close()
		return m.hdr.Descr.Shape, true, nil
	}
	for l := 0; ; l++ {
		w := fmt.Sprintf("W%d", l)
		s, ok, err := shape(w)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			break
		}
		if len(s) != 2 {
			return nil, nil, nil, fmt.Errorf("weights %s: array %s has shape %v, want [in, out]", path, w, s)
		}
		if l == 0 {
			widths = append(widths, s[0])
		} else if s[0] != widths[l] {
			return nil, nil, nil, fmt.Errorf("weights %s: array %s has shape %v: its %d inputs do not match the %d outputs of W%d", path, w, s, s[0], widths[l], l-1)
		}
		widths = append(widths, s[1])
		_, hb, err := shape(fmt.Sprintf("b%d", l))
		if err != nil {
			return nil, nil, nil, err
		}
		bias = append(bias, hb)
		keys = append(keys, w)
	}
	if len(keys) == 0 {
		return nil, nil, nil, fmt.Errorf("weights %s: no array W0", path)
	}
	return widths, bias, keys, nil
}

// SaveSafetensors writes the flat parameters of spec as a safetensors file
// in PyTorch's layout, atomically: the state_dict of nn.Sequential(Linear,
// act, Linear, ..., Linear), keys 0.weight [out, in], 0.bias [out],
// 2.weight, ..., float64, with the model file's JSON in the metadata under
// "curvprobe.model". safetensors.torch.load_file reads it, and
// model.load_state_dict takes what it returns.
func SaveSafetensors(path string, spec Spec, params []float64) error {
	if len(params) != spec.NumParams() {
		return fmt.Errorf("weights %s: %d values for a model of %d parameters", path, len(params), spec.NumParams())
	}
	return atomicfile.Write(path, func(f *os.File) error { return writeSafetensors(f, spec, params) })
}

// writeSafetensors writes SaveSafetensors' file to w.
func writeSafetensors(w io.Writer, spec Spec, params []float64) error {
	model, err := spec.MarshalJSON()
	if err != nil {
		return err
	}
	var arrays []torchfile.Array
	for _, b := range spec.Blocks() {
		vals := params[b.Offset : b.Offset+b.Size()]
		key := fmt.Sprintf("%d.", 2*b.Layer)
		if b.Bias {
			arrays = append(arrays, torchfile.Array{Name: key + "bias", Shape: []int{b.Cols}, Values: vals})
			continue
		}
		// Our [in, out] written as [out, in], without a copy.
		arrays = append(arrays, torchfile.Array{Name: key + "weight", Shape: []int{b.Cols, b.Rows}, Values: vals, Transposed: true})
	}
	meta := map[string]string{"format": "pt", "curvprobe.model": string(model)}
	return torchfile.WriteSafetensors(w, arrays, torchfile.F64, meta)
}
