package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Limits on the size of a sweep, to catch a mistyped range before it
// creates a million run directories.
const (
	MaxAxisValues = 10000  // values of one axis
	MaxRuns       = 100000 // runs of the whole grid
)

// File is a sweep file: a base run configuration and the axes that vary it.
// The grid of runs is the Cartesian product of the axes' values, each run
// the base with every axis' path set to one of its values.
type File struct {
	// Name labels the sweep in job names and reports; optional.
	Name string `json:"name,omitempty"`
	// Base is a run configuration (run.TrainConfig's JSON, as written to
	// RUN_DIR/config.json); fields an axis sets may be left out.
	Base json.RawMessage `json:"base"`
	// Axes are the settings varied. Their order fixes the order of the
	// report's columns and of the grid (first axis outermost); it does not
	// change any run's id.
	Axes []Axis `json:"axes"`
}

// Axis is one varied setting: a dotted path into the run configuration and
// exactly one of Values, Range and LogRange.
type Axis struct {
	// Path names a field by its JSON names, dot-separated; a number picks
	// an element of a list: "optimizer.lr", "seed", "batch",
	// "model.layers" (a whole list per value), "model.layers.1" (the
	// first hidden width).
	Path string `json:"path"`
	// Values are the values taken, any JSON (numbers, strings, lists,
	// objects).
	Values []json.RawMessage `json:"values,omitempty"`
	// Range gives evenly spaced numbers.
	Range *Range `json:"range,omitempty"`
	// LogRange gives geometrically spaced numbers.
	LogRange *LogRange `json:"logrange,omitempty"`
}

// Range is start, start+step, ... up to and including stop (when stop is a
// whole number of steps from start, up to a relative rounding of 1e-9 of a
// step). Step may be negative when stop < start. Each value is rounded to
// 12 significant digits, so that a range yields the same numbers, and the
// same run ids, as the literal values (0.1+2*0.1 gives 0.3).
type Range struct {
	Start float64 `json:"start"`
	Stop  float64 `json:"stop"`
	Step  float64 `json:"step"`
}

// LogRange is Num numbers from Start to Stop, both included, with a constant
// ratio: Start·(Stop/Start)^(i/(Num-1)). Start and Stop must be nonzero and
// of one sign; Num 1 gives Start. Values are rounded like Range's.
type LogRange struct {
	Start float64 `json:"start"`
	Stop  float64 `json:"stop"`
	Num   int     `json:"num"`
}

// LoadFile reads and checks a sweep file (JSON).
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := ParseFile(b)
	if err != nil {
		return nil, fmt.Errorf("sweep file %s: %w", path, err)
	}
	return f, nil
}

// ParseFile decodes and checks a sweep file. Unknown fields are errors, and
// every error names the field or axis at fault.
func ParseFile(b []byte) (*File, error) {
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
			return nil, fmt.Errorf("line %d: %w (this version reads JSON sweep files only)", line, err)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, errors.New("the JSON object stops at the end of the file")
		}
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the sweep object")
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	return &f, nil
}

// Check reports a malformed sweep: a missing or non-object base, an axis
// with no path, with not exactly one of values/range/logrange, with no
// values, a bad range, or two axes setting the same field (or one inside
// the other, whose result would depend on their order).
func (f *File) Check() error {
	if t := bytes.TrimSpace(f.Base); len(t) == 0 || t[0] != '{' {
		return errors.New(`field "base": want a run configuration object`)
	}
	for i := range f.Axes {
		a := &f.Axes[i]
		name := fmt.Sprintf("axes[%d]", i)
		if a.Path != "" {
			name = fmt.Sprintf("axes[%d] (%s)", i, a.Path)
		}
		if err := a.check(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for j := range i {
			p, q := f.Axes[j].Path, a.Path
			if p == q || strings.HasPrefix(q, p+".") || strings.HasPrefix(p, q+".") {
				return fmt.Errorf("%s: path %q overlaps axes[%d] path %q", name, q, j, p)
			}
		}
	}
	return nil
}

func (a *Axis) check() error {
	if a.Path == "" {
		return errors.New(`field "path" is required`)
	}
	for _, s := range strings.Split(a.Path, ".") {
		if s == "" {
			return fmt.Errorf("path %q: empty segment", a.Path)
		}
	}
	n := 0
	if a.Values != nil {
		n++
	}
	if a.Range != nil {
		n++
	}
	if a.LogRange != nil {
		n++
	}
	if n != 1 {
		return errors.New(`want exactly one of "values", "range" and "logrange"`)
	}
	_, err := a.Expand()
	return err
}

// Expand returns the axis' values as compact JSON.
func (a *Axis) Expand() ([]json.RawMessage, error) {
	switch {
	case a.Values != nil:
		if len(a.Values) == 0 {
			return nil, errors.New(`field "values": empty list`)
		}
		if len(a.Values) > MaxAxisValues {
			return nil, fmt.Errorf(`field "values": %d values, more than %d`, len(a.Values), MaxAxisValues)
		}
		out := make([]json.RawMessage, len(a.Values))
		for i, v := range a.Values {
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return nil, fmt.Errorf(`field "values"[%d]: %w`, i, err)
			}
			out[i] = buf.Bytes()
		}
		return out, nil
	case a.Range != nil:
		r := a.Range
		if !finite(r.Start) || !finite(r.Stop) || !finite(r.Step) {
			return nil, errors.New(`field "range": start, stop and step must be finite`)
		}
		if r.Step == 0 {
			return nil, errors.New(`field "range": step 0`)
		}
		span := (r.Stop - r.Start) / r.Step
		if span < -1e-9 {
			return nil, fmt.Errorf(`field "range": step %g goes away from stop %g`, r.Step, r.Stop)
		}
		n := int(math.Floor(span+1e-9)) + 1
		if span+1 > MaxAxisValues {
			return nil, fmt.Errorf(`field "range": %.0f values, more than %d`, span+1, MaxAxisValues)
		}
		out := make([]json.RawMessage, n)
		for i := range n {
			out[i] = number(r.Start + float64(i)*r.Step)
		}
		return out, nil
	default:
		r := a.LogRange
		if !finite(r.Start) || !finite(r.Stop) {
			return nil, errors.New(`field "logrange": start and stop must be finite`)
		}
		if r.Start == 0 || r.Stop == 0 || (r.Start < 0) != (r.Stop < 0) {
			return nil, fmt.Errorf(`field "logrange": start %g and stop %g must be nonzero and of one sign`, r.Start, r.Stop)
		}
		if r.Num < 1 || r.Num > MaxAxisValues {
			return nil, fmt.Errorf(`field "logrange": num %d: want 1 to %d`, r.Num, MaxAxisValues)
		}
		out := make([]json.RawMessage, r.Num)
		for i := range r.Num {
			v := r.Start
			if r.Num > 1 {
				v = r.Start * math.Pow(r.Stop/r.Start, float64(i)/float64(r.Num-1))
			}
			out[i] = number(v)
		}
		return out, nil
	}
}

// number is v rounded to 12 significant digits, as JSON.
func number(v float64) json.RawMessage {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	if r == 0 {
		r = 0 // no -0
	}
	b, _ := json.Marshal(r)
	return b
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
