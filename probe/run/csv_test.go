package run

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// csvRows writes recs with WriteCSV and reads the rows back with
// encoding/csv, failing t when either fails.
func csvRows(t *testing.T, recs []Record) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestWriteCSV(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	iters := 17
	recs := []Record{
		{Step: 0, Epoch: 0, Loss: 2.5, LR: 0.02},
		{Step: 10, Epoch: 0.5, Loss: 1.25, LR: 0.02, LambdaMax: p(42.5), LambdaMaxIters: &iters,
			StabilityBound: p(100), Margin: p(57.5), TopK: []float64{42.5, 30}, DensityFile: "density/step_000010.json"},
		{Step: 20, Epoch: 1, Loss: 0.1, LR: 0.01, TopK: []float64{50, 40, 30}, LambdaMin: p(-0.25)},
	}
	rows := csvRows(t, recs)
	wantHeader := []string{"step", "epoch", "loss", "lr", "lambda_max", "lambda_max_iters",
		"stability_bound", "margin", "lambda_min", "top_1", "top_2", "top_3", "density_file"}
	if !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("header\n\t%q\nwant\n\t%q", rows[0], wantHeader)
	}
	want := [][]string{
		{"0", "0", "2.5", "0.02", "", "", "", "", "", "", "", "", ""},
		{"10", "0.5", "1.25", "0.02", "42.5", "17", "100", "57.5", "", "42.5", "30", "", "density/step_000010.json"},
		{"20", "1", "0.1", "0.01", "", "", "", "", "-0.25", "50", "40", "30", ""},
	}
	if len(rows) != 1+len(want) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(want))
	}
	for i, row := range want {
		for j, cell := range row {
			if got := rows[1+i][j]; got != cell {
				t.Errorf("row %d column %s: %q, want %q", i+1, wantHeader[j], got, cell)
			}
		}
	}
}

// TestWriteCSVExact checks that numbers read back bit for bit.
func TestWriteCSVExact(t *testing.T) {
	v := 0.1 + 0.2
	recs := []Record{{Step: 1, Loss: v, LR: 1.0 / 3, GradNorm: &v}}
	rows := csvRows(t, recs)
	for j, name := range rows[0] {
		if name == "step" || name == "epoch" {
			continue
		}
		got, err := strconv.ParseFloat(rows[1][j], 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := map[string]float64{"loss": v, "lr": 1.0 / 3, "grad_norm": v}[name]
		if got != want {
			t.Errorf("%s: read back %v, want %v", name, got, want)
		}
	}
}

func TestExportCSV(t *testing.T) {
	dir, recs := writeSynthRun(t, synthRun{records: 60, probeAt: 2, densities: 3, torn: true})
	path, err := ExportCSV(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "log.csv"); path != want {
		t.Errorf("ExportCSV wrote %s, want %s", path, want)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The torn last line is dropped: one row per whole record.
	if len(rows) != 1+len(recs) {
		t.Fatalf("%d rows, want a header and %d records", len(rows), len(recs))
	}
	col := map[string]int{}
	for j, name := range rows[0] {
		col[name] = j
	}
	for _, name := range []string{"step", "loss", "lr", "lambda_max", "stability_bound", "top_1", "top_3", "lambda_min", "density_file"} {
		if _, ok := col[name]; !ok {
			t.Errorf("header %q has no %s", rows[0], name)
		}
	}
	if _, ok := col["top_4"]; ok {
		t.Errorf("header %q has top_4 for top-3 records", rows[0])
	}
	if _, ok := col["precond_lambda_max"]; ok {
		t.Errorf("header %q has precond_lambda_max, logged by no record", rows[0])
	}
	r := recs[2] // probed
	row := rows[3]
	if got, want := row[col["step"]], strconv.Itoa(r.Step); got != want {
		t.Errorf("step: %q, want %q", got, want)
	}
	if got, want := row[col["lambda_max"]], strconv.FormatFloat(*r.LambdaMax, 'g', -1, 64); got != want {
		t.Errorf("lambda_max: %q, want %q", got, want)
	}
	if got := rows[2][col["lambda_max"]]; got != "" {
		t.Errorf("lambda_max of an unprobed step: %q, want empty", got)
	}

	if _, err := ExportCSV(t.TempDir()); err == nil {
		t.Error("ExportCSV of a directory with no log: no error")
	}
}
