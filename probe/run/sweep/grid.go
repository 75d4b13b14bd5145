package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/curvprobe/curvprobe/internal/atomicfile"
	"github.com/curvprobe/curvprobe/kernels"
	"github.com/curvprobe/curvprobe/probe/run"
)

// GridFile is the expanded grid written to SWEEP_DIR/sweep.json.
const GridFile = "sweep.json"

// IDLength is the number of hex digits of a run id.
const IDLength = 12

// maxErrors is how many per-run errors Expand reports before summing up.
const maxErrors = 10

// Grid is an expanded sweep: every run with its id and configuration.
type Grid struct {
	Name string `json:"name,omitempty"`
	// Axes are the varied paths, in the sweep file's order.
	Axes []string `json:"axes"`
	// Runs are in grid order: the first axis outermost, the last fastest.
	Runs []Point `json:"runs"`
}

// Point is one run of a grid: a point of its axes.
type Point struct {
	// ID is ConfigID(Config): it depends only on the run's configuration,
	// not on the other runs or the order of the axes.
	ID string `json:"id"`
	// Values holds the run's value of each of Grid.Axes, as compact JSON.
	Values []json.RawMessage `json:"values"`
	Config *run.TrainConfig  `json:"config"`
}

// Label describes the run by its axis values: "optimizer.lr=0.1 seed=2".
func (r *Point) Label(axes []string) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = a + "=" + string(r.Values[i])
	}
	return strings.Join(parts, " ")
}

// GridOptions adjust every run of a grid.
type GridOptions struct {
	// DType, when set, overrides every run's dtype. The dtype is part of a
	// run's configuration and so of its id. A run with no dtype gets
	// float32, as `curvprobe train` does.
	DType kernels.DType
}

// ConfigID returns a run's id: the first IDLength hex digits of the SHA-256
// of the configuration's JSON (encoding/json's, fields in TrainConfig's
// order, the model in its model-file form), which is canonical because
// every configuration is first decoded into a TrainConfig.
func ConfigID(c *run.TrainConfig) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic("sweep: marshalling a TrainConfig: " + err.Error())
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])[:IDLength]
}

// ValidID reports whether id has the form of a run id (ConfigID's): IDLength
// lower-case hex digits. Only such ids name directories under DIR/runs, so an
// id edited into a path ("../x") is never followed.
func ValidID(id string) bool {
	if len(id) != IDLength {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Expand expands the sweep file into its runs, decodes and validates each
// run's configuration and computes its id. Errors name the axis and value,
// or the run and its axis values; two grid points with the same
// configuration are an error.
func Expand(f *File, o GridOptions) (*Grid, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	if !o.DType.Valid() {
		panic("sweep: Expand with an invalid " + o.DType.String())
	}
	base, err := decodeTree(f.Base)
	if err != nil {
		return nil, fmt.Errorf(`field "base": %w`, err)
	}
	if _, err := decodeConfig(base); err != nil {
		return nil, fmt.Errorf(`field "base": %w`, err)
	}
	p := &Grid{Name: f.Name, Axes: make([]string, len(f.Axes))}
	values := make([][]json.RawMessage, len(f.Axes))
	trees := make([][]any, len(f.Axes))
	total := 1
	for i := range f.Axes {
		a := &f.Axes[i]
		p.Axes[i] = a.Path
		if values[i], err = a.Expand(); err != nil {
			return nil, fmt.Errorf("axes[%d] (%s): %w", i, a.Path, err)
		}
		trees[i] = make([]any, len(values[i]))
		for j, v := range values[i] {
			if trees[i][j], err = decodeTree(v); err != nil {
				return nil, fmt.Errorf("axes[%d] (%s) value %s: %w", i, a.Path, v, err)
			}
			// Each value alone on the base must decode: this catches a
			// misspelt path or a value of the wrong type once per axis.
			t, err := setPath(clone(base), a.Path, trees[i][j])
			if err == nil {
				_, err = decodeConfig(t)
			}
			if err != nil {
				return nil, fmt.Errorf("axes[%d] (%s) value %s: %w", i, a.Path, v, err)
			}
		}
		total *= len(values[i])
		if total > MaxRuns {
			return nil, fmt.Errorf("the grid has more than %d runs", MaxRuns)
		}
	}
	var errs []error
	seen := make(map[string]int, total)
	idx := make([]int, len(f.Axes))
	for k := range total {
		t := clone(base)
		r := Point{Values: make([]json.RawMessage, len(f.Axes))}
		for i := range f.Axes {
			r.Values[i] = values[i][idx[i]]
			t, _ = setPath(t, f.Axes[i].Path, clone(trees[i][idx[i]])) // checked above
		}
		if o.DType != kernels.DTypeUnset {
			t.(map[string]any)["dtype"] = o.DType.String()
		}
		cfg, err := decodeConfig(t)
		if err == nil {
			cfg.DType = cfg.DType.Or(kernels.Float32)
			err = cfg.Validate()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("run %d (%s): %w", k, r.Label(p.Axes), err))
		} else {
			r.Config = cfg
			r.ID = ConfigID(cfg)
			if j, dup := seen[r.ID]; dup {
				errs = append(errs, fmt.Errorf("run %d (%s) has the same configuration as run %d (%s)", k, r.Label(p.Axes), j, p.Runs[j].Label(p.Axes)))
			}
			seen[r.ID] = len(p.Runs)
		}
		p.Runs = append(p.Runs, r)
		// Next grid point: the last axis fastest.
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < len(values[i]) {
				break
			}
			idx[i] = 0
		}
	}
	if len(errs) > maxErrors {
		n := len(errs) - maxErrors
		errs = append(errs[:maxErrors], fmt.Errorf("and %d more errors", n))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return p, nil
}

// Lookup returns the run with the given id, or nil.
func (p *Grid) Lookup(id string) *Point {
	for i := range p.Runs {
		if p.Runs[i].ID == id {
			return &p.Runs[i]
		}
	}
	return nil
}

// Write writes the grid as indented JSON to path, atomically (tasks of a
// sharded sweep may write it at the same time).
func (p *Grid) Write(path string) error {
	b, err := indentedJSON(p)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, b)
}

// WriteJSON writes the grid as `curvprobe sweep plan --json` prints it:
// as Write writes DIR/sweep.json.
func (p *Grid) WriteJSON(w io.Writer) error { return writeJSON(w, p) }

// writeJSON writes v as indentedJSON.
func writeJSON(w io.Writer, v any) error {
	b, err := indentedJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// indentedJSON returns v as indented JSON with a final newline: the form
// of sweep.json and of the commands' --json output.
func indentedJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// LoadGrid reads a grid written by Grid.Write.
func LoadGrid(path string) (*Grid, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p Grid
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range p.Runs {
		r := &p.Runs[i]
		if r.Config == nil || len(r.Values) != len(p.Axes) {
			return nil, fmt.Errorf("%s: run %d (%s) is malformed", path, i, r.ID)
		}
	}
	return &p, nil
}

// decodeTree decodes JSON into maps, lists and json.Numbers.
func decodeTree(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeConfig decodes a tree into a TrainConfig, rejecting unknown fields.
func decodeConfig(t any) (*run.TrainConfig, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c run.TrainConfig
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// clone deep-copies a decoded tree.
func clone(t any) any {
	switch v := t.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = clone(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = clone(x)
		}
		return l
	}
	return t
}

// setPath sets the dotted path in tree t to v and returns the tree. Object
// keys match case-insensitively, as encoding/json matches field names, and
// an existing key keeps its spelling; missing objects on the way are
// created; a number picks an existing element of a list.
func setPath(t any, path string, v any) (any, error) {
	segs := strings.Split(path, ".")
	var set func(node any, i int) (any, error)
	set = func(node any, i int) (any, error) {
		if i == len(segs) {
			return v, nil
		}
		seg, at := segs[i], strings.Join(segs[:i], ".")
		if at == "" {
			at = "the configuration"
		}
		switch n := node.(type) {
		case nil:
			if _, err := strconv.Atoi(seg); err == nil {
				return nil, fmt.Errorf("path %s: %s is not set, so it has no element %s", path, at, seg)
			}
			node = map[string]any{}
			return set(node, i)
		case map[string]any:
			key := seg
			for k := range n {
				if strings.EqualFold(k, seg) {
					key = k
					break
				}
			}
			child, err := set(n[key], i+1)
			if err != nil {
				return nil, err
			}
			n[key] = child
			return n, nil
		case []any:
			j, err := strconv.Atoi(seg)
			if err != nil {
				return nil, fmt.Errorf("path %s: %s is a list; want an index, not %q", path, at, seg)
			}
			if j < 0 || j >= len(n) {
				return nil, fmt.Errorf("path %s: index %d out of range (%s has %d elements)", path, j, at, len(n))
			}
			child, err := set(n[j], i+1)
			if err != nil {
				return nil, err
			}
			n[j] = child
			return n, nil
		}
		return nil, fmt.Errorf("path %s: %s is %v, not an object or a list", path, at, node)
	}
	return set(t, 0)
}

// WriteTable writes the grid as `curvprobe sweep plan` prints it: a line per
// run (its index, id, value of each axis and float type), then the count.
func (p *Grid) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tid\t%s\tdtype\n", strings.Join(p.Axes, "\t"))
	for i, r := range p.Runs {
		vals := make([]string, len(r.Values))
		for j, v := range r.Values {
			vals[j] = string(v)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i, r.ID, strings.Join(vals, "\t"), r.Config.DType)
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "%d runs, every configuration valid\n", len(p.Runs))
	return err
}
