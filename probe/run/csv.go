package run

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/internal/atomicfile"
)

// WriteCSV writes records as CSV: a header naming every field that appears
// in any of them, in Record's field order and with Record's JSON names, then
// one row per record with empty cells where a field is absent. A list field
// is spread over numbered columns: top_k becomes top_1 .. top_K for the
// longest list, and a per-layer list layer_x becomes layer_x_0 ..
// layer_x_{L-1}, numbered by layer as the layers are (W0, b0, ...). Numbers are written in the shortest form that reads back
// exactly.
func WriteCSV(w io.Writer, recs []Record) error {
	cols := csvColumns(recs)
	cw := csv.NewWriter(w)
	row := make([]string, 0, len(cols))
	for _, c := range cols {
		row = append(row, c.name)
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for i := range recs {
		v := reflect.ValueOf(&recs[i]).Elem()
		row = row[:0]
		for _, c := range cols {
			row = append(row, c.cell(v.Field(c.field)))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ExportCSV reads dir/log.jsonl and writes it as CSV (WriteCSV) to
// dir/log.csv, returning that path.
func ExportCSV(dir string) (string, error) {
	recs, err := ReadLog(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		return "", fmt.Errorf("csv: %w", err)
	}
	path := filepath.Join(dir, "log.csv")
	if err := atomicfile.Write(path, func(f *os.File) error { return WriteCSV(f, recs) }); err != nil {
		return "", fmt.Errorf("csv %s: %w", path, err)
	}
	return path, nil
}

// csvColumn is one CSV column: a field of Record, and for a list field the
// element index.
type csvColumn struct {
	name  string
	field int
	elem  int // -1 for scalar fields
}

// csvColumns lists the columns of recs: the fields of Record that JSON
// would write for at least one record.
func csvColumns(recs []Record) []csvColumn {
	t := reflect.TypeFor[Record]()
	var cols []csvColumn
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		omitEmpty := strings.Contains(","+opts+",", ",omitempty,")
		if sf.Type.Kind() == reflect.Slice {
			n := 0
			for j := range recs {
				n = max(n, reflect.ValueOf(&recs[j]).Elem().Field(i).Len())
			}
			prefix, first := strings.TrimSuffix(name, "_k"), 1
			if strings.HasPrefix(name, "layer_") {
				prefix, first = name, 0
			}
			for k := range n {
				cols = append(cols, csvColumn{name: prefix + "_" + strconv.Itoa(k+first), field: i, elem: k})
			}
			continue
		}
		present := !omitEmpty
		for j := 0; j < len(recs) && !present; j++ {
			present = !reflect.ValueOf(&recs[j]).Elem().Field(i).IsZero()
		}
		if present {
			cols = append(cols, csvColumn{name: name, field: i, elem: -1})
		}
	}
	return cols
}

// cell formats the column's part of field value v for the CSV; absent
// values are empty.
func (c csvColumn) cell(v reflect.Value) string {
	if c.elem >= 0 {
		if c.elem >= v.Len() {
			return ""
		}
		v = v.Index(c.elem)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	// Anything else a later Record may grow: its JSON.
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return ""
	}
	return string(b)
}
