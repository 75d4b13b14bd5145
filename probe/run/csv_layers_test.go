package run

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Per-layer lists are spread over columns numbered by layer from 0
// (layer_lambda_max_0 is layer 0's), in Record's field order, with bools
// and ints as such; top_k keeps its 1-based top_1, top_2.
func TestWriteCSVLayerColumns(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	recs := []Record{
		{Step: 0, Loss: 1, LR: 0.1, LambdaMax: p(3), TopK: []float64{3, 2},
			LayerLambdaMax: []float64{2.5, 0.5}, LayerLambdaMaxConverged: []bool{true, false}, LayerLambdaMaxIters: []int{12, 200}},
		{Step: 1, Loss: 0.5, LR: 0.1},
	}
	rows := csvRows(t, recs)
	want := [][]string{
		{"step", "epoch", "loss", "lr", "lambda_max", "top_1", "top_2",
			"layer_lambda_max_0", "layer_lambda_max_1", "layer_lambda_max_converged_0", "layer_lambda_max_converged_1",
			"layer_lambda_max_iters_0", "layer_lambda_max_iters_1"},
		{"0", "0", "1", "0.1", "3", "3", "2", "2.5", "0.5", "true", "false", "12", "200"},
		{"1", "0", "0.5", "0.1", "", "", "", "", "", "", "", "", ""},
	}
	if !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("csv\n\t%q\nwant\n\t%q", rows, want)
	}
}

// Any log line ReadLog accepts becomes CSV that encoding/csv reads back
// with one cell per header column in every row; each per-layer list of n
// values has exactly the columns <name>_0 .. <name>_{n-1}, whose cells
// give back the list (floats bit for bit).
func FuzzLogCSV(f *testing.F) {
	for _, s := range []string{
		`{"step":0,"epoch":0,"loss":1,"lr":0.1,"lambda_max":3,"layer_lambda_max":[2.5,0.5,1e-300],"layer_lambda_max_converged":[true,false,true],"layer_lambda_max_iters":[1,2,3]}`,
		`{"step":3,"loss":1,"lr":0.1,"top_k":[1,2],"layer_lambda_max":[-0.1]}`,
		`{"step":1,"loss":0.5,"lr":0.1,"layer_lambda_max_iters":[7,8]}`,
		`{"step":1,"loss":0.5,"lr":0.1,"layer_lambda_max":[]}`,
		`{"step":1,"loss":0.5,"lr":0.1,"layer_lambda_max":[0.1,0.2,0.30000000000000004,5e-324,1.7976931348623157e308]}`,
		`{"step":2,"loss":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.ContainsAny(b, "\n\r") {
			return // one record per line
		}
		recs, err := readLog(bytes.NewReader(append(b, '\n')), "log.jsonl")
		if err != nil || len(recs) == 0 {
			return
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, recs); err != nil {
			// Only what JSON cannot hold fails, and ReadLog never gives it.
			t.Fatalf("WriteCSV of a record ReadLog accepted: %v", err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("csv does not read back: %v\n%s", err, buf.String())
		}
		if len(rows) != 1+len(recs) {
			t.Fatalf("%d rows for %d records", len(rows), len(recs))
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			if _, dup := col[name]; dup {
				t.Fatalf("column %q twice in %q", name, rows[0])
			}
			col[name] = i
		}
		r := recs[0]
		lists := map[string][]string{}
		for _, v := range r.LayerLambdaMax {
			lists["layer_lambda_max"] = append(lists["layer_lambda_max"], strconv.FormatFloat(v, 'g', -1, 64))
		}
		for _, v := range r.LayerLambdaMaxConverged {
			lists["layer_lambda_max_converged"] = append(lists["layer_lambda_max_converged"], strconv.FormatBool(v))
		}
		for _, v := range r.LayerLambdaMaxIters {
			lists["layer_lambda_max_iters"] = append(lists["layer_lambda_max_iters"], strconv.Itoa(v))
		}
		for name, want := range lists {
			for l, cell := range want {
				i, ok := col[fmt.Sprint(name, "_", l)]
				if !ok {
					t.Fatalf("no column %s_%d in %q", name, l, rows[0])
				}
				if rows[1][i] != cell {
					t.Fatalf("%s_%d is %q, want %q", name, l, rows[1][i], cell)
				}
			}
			if _, ok := col[fmt.Sprint(name, "_", len(want))]; ok {
				t.Fatalf("column %s_%d for a list of %d", name, len(want), len(want))
			}
		}
		for i, v := range r.LayerLambdaMax {
			got, err := strconv.ParseFloat(rows[1][col[fmt.Sprint("layer_lambda_max_", i)]], 64)
			if err != nil || math.Float64bits(got) != math.Float64bits(v) {
				t.Fatalf("layer_lambda_max_%d reads back as %v (%v), want %v", i, got, err, v)
			}
		}
		for name := range col {
			if strings.HasPrefix(name, "layer_") && lists[name[:strings.LastIndex(name, "_")]] == nil {
				t.Fatalf("column %s without a list", name)
			}
		}
	})
}
