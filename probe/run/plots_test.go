package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// synthRun describes a synthetic run directory for the plot tests.
type synthRun struct {
	records   int  // logged steps, 10 apart
	probeAt   int  // probe every probeAt-th record (0: never)
	adam      bool // log preconditioned sharpness with an Adam bound
	schedule  bool // halve the learning rate halfway
	densities int  // records with a density file, spread over the probes
	torn      bool // end the log with a half-written line
}

// synthRecords makes a gradient-descent run at the edge of stability: the
// loss falls with bumps, λmax rises to 2/η and hovers there (Cohen et al.
// 2021).
func synthRecords(s synthRun) []Record {
	p := func(v float64) *float64 { return &v }
	var recs []Record
	probes := 0
	for i := range s.records {
		step := 10 * i
		lr := 0.02
		if s.schedule && i >= s.records/2 {
			lr = 0.01
		}
		bound := 2 / lr
		if s.adam {
			bound = (2 + 2*0.9) / ((1 - 0.9) * lr)
		}
		t := float64(step)
		loss := 0.05 + 2*math.Exp(-t/150)*(1+0.15*math.Sin(t/17)) + 0.03*math.Max(0, math.Sin(t/40))
		r := Record{Step: step, Epoch: t / 5, Loss: loss, LR: lr, GradNorm: p(0.5 * loss)}
		if s.probeAt > 0 && i%s.probeAt == 0 {
			sharp := bound * (1 - 0.8*math.Exp(-t/120)) * (1 + 0.04*math.Sin(t/13))
			r.TrainLoss = p(loss * 0.98)
			r.TestLoss = p(loss*1.1 + 0.05)
			r.TrainAcc = p(1 - loss/3)
			r.TestAcc = p(0.95 - loss/3)
			r.ProbeLoss = p(loss)
			if s.adam {
				r.LambdaMax = p(7 * sharp)
				r.PrecondLambdaMax = p(sharp)
			} else {
				r.LambdaMax = p(sharp)
			}
			r.StabilityBound = p(bound)
			r.Margin = p(bound - sharp)
			if probes%3 == 0 {
				r.TopK = []float64{sharp, 0.7 * sharp, 0.4 * sharp}
				r.LambdaMin = p(-0.05 * sharp)
				r.Trace = p(3 * sharp)
			}
			if s.densities > 0 && probes%3 == 1 && probes/3 < s.densities {
				r.DensityFile = fmt.Sprintf("density/step_%06d.json", step)
			}
			probes++
		}
		recs = append(recs, r)
	}
	return recs
}

// synthDensity is a plausible SLQ density: a spike at 0 and a bulk out to
// lambda.
func synthDensity(lambda float64) *DensityReport {
	d := &DensityReport{Probes: 10, Steps: 80, Sigma: 0.01 * 1.1 * lambda}
	for i := range 200 {
		x := -0.1*lambda + 1.2*lambda*float64(i)/199
		y := 5*math.Exp(-x*x/(2*d.Sigma*d.Sigma)) + 0.02*math.Exp(-(x-0.8*lambda)*(x-0.8*lambda)/(0.01*lambda*lambda))/lambda
		d.Grid = append(d.Grid, x)
		d.Density = append(d.Density, y)
	}
	return d
}

// writeSynthRun writes a run directory for s into a fresh temporary
// directory and returns it with the records logged.
func writeSynthRun(t *testing.T, s synthRun) (string, []Record) {
	t.Helper()
	dir := t.TempDir()
	recs := synthRecords(s)
	var buf bytes.Buffer
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
		if recs[i].DensityFile == "" {
			continue
		}
		path := filepath.Join(dir, recs[i].DensityFile)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err = json.Marshal(synthDensity(*recs[i].LambdaMax))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if s.torn {
		buf.WriteString(`{"step":600,"epoch":120,"lo`)
	}
	if err := os.WriteFile(filepath.Join(dir, "log.jsonl"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, recs
}

// checkFigures checks that paths are exactly dir/plots/NAME.FMT for the
// names and formats, and that each is a well-formed image.
func checkFigures(t *testing.T, dir string, paths []string, names, formats []string) {
	t.Helper()
	var want []string
	for _, n := range names {
		for _, f := range formats {
			want = append(want, filepath.Join(dir, "plots", n+"."+f))
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(paths))
	if !slices.Equal(got, want) {
		t.Fatalf("PlotRun wrote\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(path) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			// At least 6 inches wide at 96 dpi: a figure, not a thumbnail.
			if sz := img.Bounds().Size(); sz.X < 600 || sz.Y < 400 {
				t.Errorf("%s: %v pixels, want at least 600x400", path, sz)
			}
		case ".svg":
			if !bytes.HasPrefix(b, []byte("<?xml")) && !bytes.HasPrefix(b, []byte("<svg")) {
				t.Errorf("%s: does not start as SVG: %.40q", path, b)
			}
			if !bytes.Contains(b, []byte("</svg>")) {
				t.Errorf("%s: no closing </svg>", path)
			}
		}
	}
}

func TestPlotRun(t *testing.T) {
	dir, _ := writeSynthRun(t, synthRun{records: 60, probeAt: 2, densities: 3})
	paths, err := PlotRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, dir, paths, []string{"eos", "loss", "accuracy", "eigenvalues", "density"}, []string{"png", "svg"})
	svg := checkSVGLabels(t, dir, "eos", "stability bound 2/η", "sharpness λmax", "training loss", "step")
	if bytes.Contains(svg, []byte("preconditioned")) {
		t.Errorf("eos.svg of a GD run mentions the preconditioned sharpness")
	}
	checkSVGLabels(t, dir, "density", "step 20", "step 80", "step 140")
}

// checkSVGLabels reads the figure name (plots/name.svg) of the run in dir,
// fails t unless it contains every one of labels, and returns it.
func checkSVGLabels(t *testing.T, dir, name string, labels ...string) []byte {
	t.Helper()
	svg, err := os.ReadFile(filepath.Join(dir, "plots", name+".svg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range labels {
		if !bytes.Contains(svg, []byte(label)) {
			t.Errorf("%s.svg has no %q", name, label)
		}
	}
	return svg
}

func TestPlotRunAdamSchedule(t *testing.T) {
	dir, _ := writeSynthRun(t, synthRun{records: 40, probeAt: 4, adam: true, schedule: true, densities: 6})
	paths, err := PlotRun(dir, "svg")
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, dir, paths, []string{"eos", "loss", "accuracy", "eigenvalues", "density"}, []string{"svg"})
	svg := checkSVGLabels(t, dir, "eos")
	if !bytes.Contains(svg, []byte("preconditioned sharpness")) {
		t.Error("eos.svg of an Adam run does not say the sharpness is preconditioned")
	}
	if !bytes.Contains(svg, []byte("stability bound")) || bytes.Contains(svg, []byte("2/η")) {
		t.Error("eos.svg of an Adam run: want the bound labelled \"stability bound\", not 2/η")
	}
	// Ten probes, densities on probes 1, 4, 7 (steps 40, 160, 280): all
	// three drawn.
	checkSVGLabels(t, dir, "density", "step 40", "step 160", "step 280")
}

func TestPlotRunNoProbes(t *testing.T) {
	dir, _ := writeSynthRun(t, synthRun{records: 30})
	paths, err := PlotRun(dir, "png")
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, dir, paths, []string{"eos", "loss"}, []string{"png"})
}

func TestPlotRunTornLog(t *testing.T) {
	dir, _ := writeSynthRun(t, synthRun{records: 60, probeAt: 2, torn: true})
	paths, err := PlotRun(dir, "png")
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, dir, paths, []string{"eos", "loss", "accuracy", "eigenvalues"}, []string{"png"})
}

func TestPlotRunErrors(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "log.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PlotRun(empty); err == nil || !strings.Contains(err.Error(), "no records") {
		t.Errorf("empty log: got %v, want an error saying it has no records", err)
	}

	missing := t.TempDir()
	if _, err := PlotRun(missing); err == nil || !strings.Contains(err.Error(), filepath.Join(missing, "log.jsonl")) {
		t.Errorf("missing log: got %v, want an error naming the log", err)
	}

	dir, _ := writeSynthRun(t, synthRun{records: 10, probeAt: 1})
	if _, err := PlotRun(dir, "gif"); err == nil || !strings.Contains(err.Error(), `"gif"`) {
		t.Errorf("format gif: got %v, want an error naming it", err)
	}

	// A density file that went missing: the other figures are still drawn
	// and the error names the file.
	dir, recs := writeSynthRun(t, synthRun{records: 20, probeAt: 1, densities: 2})
	var gone string
	for _, r := range recs {
		if r.DensityFile != "" {
			gone = r.DensityFile
			break
		}
	}
	if err := os.Remove(filepath.Join(dir, gone)); err != nil {
		t.Fatal(err)
	}
	paths, err := PlotRun(dir, "png")
	if err == nil || !strings.Contains(err.Error(), gone) {
		t.Errorf("missing density file: got %v, want an error naming %s", err, gone)
	}
	checkFigures(t, dir, paths, []string{"eos", "loss", "accuracy", "eigenvalues"}, []string{"png"})
}

func TestPickEvenly(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want []int
	}{
		{0, 4, []int{}},
		{1, 4, []int{0}},
		{4, 4, []int{0, 1, 2, 3}},
		{5, 4, []int{0, 1, 3, 4}},
		{10, 4, []int{0, 3, 6, 9}},
		{100, 4, []int{0, 33, 66, 99}},
	} {
		if got := pickEvenly(c.n, c.k); !slices.Equal(got, c.want) {
			t.Errorf("pickEvenly(%d, %d) = %v, want %v", c.n, c.k, got, c.want)
		}
	}
}

func TestBoundSteps(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	recs := []Record{
		{Step: 0},
		{Step: 10, StabilityBound: p(100)},
		{Step: 20, StabilityBound: p(100)},
		{Step: 30, StabilityBound: p(200)},
		{Step: 40},
	}
	got := boundSteps(recs)
	want := [][2]float64{{0, 100}, {10, 100}, {20, 100}, {30, 100}, {30, 200}, {40, 200}}
	if len(got) != len(want) {
		t.Fatalf("boundSteps = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].X != want[i][0] || got[i].Y != want[i][1] {
			t.Fatalf("boundSteps = %v, want %v", got, want)
		}
	}
}

func TestPlotDensity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "density.png")
	d := synthDensity(100)
	d.Density[3] = math.NaN() // dropped, not an error
	if err := PlotDensity(path, d, "synthetic"); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", path, err)
	}
	d.Density = d.Density[1:]
	if err := PlotDensity(path, d, "synthetic"); err == nil {
		t.Error("PlotDensity of a density shorter than its grid: no error")
	}
}
