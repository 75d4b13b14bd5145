package run

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/curvprobe/curvprobe/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// PlotFormats are the figure formats PlotRun writes when it is given none.
var PlotFormats = []string{"png", "svg"}

// ParsePlotFormats parses a comma-separated list of figure formats (png,
// svg; blanks ignored), as `curvprobe plot --format` gives it. A format
// it does not know is a *SettingError naming format; a list naming none
// is an error naming the flag.
func ParsePlotFormats(list string) ([]string, error) {
	var formats []string
	for _, f := range strings.Split(list, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "png", "svg":
			formats = append(formats, f)
		default:
			return nil, &SettingError{"format", fmt.Sprintf("%q", f), errors.New("want png or svg")}
		}
	}
	if len(formats) == 0 {
		return nil, fmt.Errorf("--format %q names no format", list)
	}
	return formats, nil
}

// Figure sizes and the resolution of the PNG files.
const (
	plotDPI      = 150
	plotWidth    = 7 * vg.Inch
	plotHeight   = 4.5 * vg.Inch
	eosHeight    = 7.5 * vg.Inch
	densityMax   = 4    // densities overlaid in density.<fmt>
	densityFloor = 1e-8 // smallest density drawn on the log scale
)

// Colours (matplotlib's tab10) and the grid's light grey.
var (
	colorBlue   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colorOrange = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colorGreen  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colorRed    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colorPurple = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	colorBrown  = color.RGBA{R: 140, G: 86, B: 75, A: 255}
	colorGrid   = color.Gray{Y: 225}

	palette = []color.Color{colorBlue, colorOrange, colorGreen, colorRed, colorPurple, colorBrown}
)

// seriesColor is the colour of the i-th series of a plot.
func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// PlotRun draws the figures of the training run in dir from dir/log.jsonl
// into dir/plots (created if needed), once per format ("png" or "svg";
// both when formats is empty):
//
//   - eos: the edge-of-stability figure (Cohen et al. 2021): the training
//     loss over the steps above, and below, on the same step axis, the
//     sharpness λmax at the probed steps (the preconditioned sharpness
//     λmax(P^-1 H) for Adam) with the optimizer's stability bound
//     (2/η for gradient descent); a probe the log flags as unconverged
//     (lambda_max_converged false) has no value and is marked by a cross
//     on the step axis;
//   - loss: the step loss, and the train and test losses of the probed
//     steps; accuracy: the train and test accuracies, when logged;
//   - eigenvalues: the top-k eigenvalues, one line per rank, and λmin,
//     when probed;
//   - layers: with probe_per_layer, the sharpness λmax of the whole
//     Hessian and, one line per layer, the largest eigenvalue of each
//     layer's diagonal block, at the probed steps (unconverged estimates
//     left out);
//   - density: the SLQ spectral densities of up to four probed steps with
//     a density file (the first, the last and evenly spaced between them).
//
// A log with no records is an error; a log with no probed steps still gives
// the loss figures. When a figure fails the others are still drawn:
// PlotRun returns the paths it wrote together with the errors, each naming
// its file.
func PlotRun(dir string, formats ...string) ([]string, error) {
	if len(formats) == 0 {
		formats = PlotFormats
	}
	for _, f := range formats {
		if f != "png" && f != "svg" {
			return nil, fmt.Errorf("plot %s: format %q: want png or svg", dir, f)
		}
	}
	logPath := filepath.Join(dir, "log.jsonl")
	recs, err := ReadLog(logPath)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("plot: log %s has no records", logPath)
	}
	outDir := filepath.Join(dir, "plots")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}

	// Each figure is built once and written in every format.
	type figure struct {
		name string
		w, h vg.Length
		draw func(draw.Canvas)
	}
	var figs []figure
	var errs []error
	add := func(name string, h vg.Length, build func() (func(draw.Canvas), error)) {
		fn, err := build()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("plot %s: %w", filepath.Join(outDir, name+".*"), err))
		case fn != nil:
			figs = append(figs, figure{name: name, w: plotWidth, h: h, draw: fn})
		}
	}
	add("eos", eosHeight, func() (func(draw.Canvas), error) { return eosFigure(recs) })
	add("loss", plotHeight, func() (func(draw.Canvas), error) { return single(lossPlot(recs)) })
	add("accuracy", plotHeight, func() (func(draw.Canvas), error) { return single(accuracyPlot(recs)) })
	add("eigenvalues", plotHeight, func() (func(draw.Canvas), error) { return single(eigenvaluePlot(recs)) })
	add("layers", plotHeight, func() (func(draw.Canvas), error) { return single(layerPlot(recs)) })
	add("density", plotHeight, func() (func(draw.Canvas), error) { return single(densityPlot(dir, recs)) })

	var paths []string
	for _, fig := range figs {
		for _, format := range formats {
			path := filepath.Join(outDir, fig.name+"."+format)
			if err := writeFigure(path, format, fig.w, fig.h, fig.draw); err != nil {
				errs = append(errs, err)
				continue
			}
			paths = append(paths, path)
		}
	}
	return paths, errors.Join(errs...)
}

// figurePad is the margin around a figure.
const figurePad = 6 * vg.Millimeter / 2

// single turns a plot builder's result into a figure drawer; a nil plot
// (nothing to draw) gives a nil drawer.
func single(p *plot.Plot, err error) (func(draw.Canvas), error) {
	if err != nil || p == nil {
		return nil, err
	}
	return func(c draw.Canvas) {
		p.Draw(draw.Crop(c, figurePad, -figurePad, figurePad, -figurePad))
	}, nil
}

// writeFigure draws one figure on a canvas of the format and writes it to
// path, atomically (internal/atomicfile), so that a reader never sees half a
// figure.
func writeFigure(path, format string, w, h vg.Length, fn func(draw.Canvas)) error {
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(plotDPI))}
	case "svg":
		c = vgsvg.New(w, h)
	default:
		return fmt.Errorf("plot %s: format %q: want png or svg", path, format)
	}
	fn(draw.New(c))
	if err := atomicfile.Write(path, func(f *os.File) error { _, err := c.WriteTo(f); return err }); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}

// eosFigure draws the loss above the sharpness, aligned on one step axis.
func eosFigure(recs []Record) (func(draw.Canvas), error) {
	top, err := lossPanel(recs)
	if err != nil {
		return nil, err
	}
	bottom, err := sharpnessPanel(recs)
	if err != nil {
		return nil, err
	}
	lo, hi := stepRange(recs)
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = lo, hi
	}
	top.Title.Text = "Edge of stability"
	top.X.Tick.Marker = plainTicks{noLabels: true}
	bottom.X.Label.Text = "step"
	return func(c draw.Canvas) {
		tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: vg.Points(6),
			PadTop: figurePad, PadBottom: figurePad, PadLeft: figurePad, PadRight: figurePad}
		cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, c)
		top.Draw(cs[0][0])
		bottom.Draw(cs[1][0])
	}, nil
}

// lossPanel is the top panel of the EoS figure: the step loss.
func lossPanel(recs []Record) (*plot.Plot, error) {
	p := newPlot("", "", "training loss")
	pts := collect(recs, func(r *Record) (float64, bool) { return r.Loss, true })
	if len(pts) == 0 {
		return nil, errors.New("no finite loss in the log")
	}
	logY(p, pts)
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil, err
	}
	l.Color = colorBlue
	l.Width = vg.Points(1.2)
	p.Add(l)
	return p, nil
}

// sharpnessPoints splits the probed steps of recs into the sharpness
// values to draw, λmax (plain) and λmax(P^-1 H) (precond), and the steps
// whose estimate the log flags as unconverged (unconverged, X only): those
// have no value to draw.
func sharpnessPoints(recs []Record) (plain, precond, unconverged plotter.XYs) {
	for i := range recs {
		r := &recs[i]
		if !r.Probed() {
			continue
		}
		v, ok := r.Sharpness()
		switch {
		case !ok:
			unconverged = append(unconverged, plotter.XY{X: float64(r.Step)})
		case !finite(v):
		case r.PrecondLambdaMax != nil:
			precond = append(precond, plotter.XY{X: float64(r.Step), Y: v})
		default:
			plain = append(plain, plotter.XY{X: float64(r.Step), Y: v})
		}
	}
	return plain, precond, unconverged
}

// sharpnessPanel is the bottom panel of the EoS figure: λmax (or
// λmax(P^-1 H) where the record has it) at the probed steps, and the
// stability bound. Steps whose estimate did not converge are marked by
// crosses on the step axis, not drawn as values.
func sharpnessPanel(recs []Record) (*plot.Plot, error) {
	p := newPlot("", "step", "sharpness")
	plain, precond, unconverged := sharpnessPoints(recs)
	bound := boundSteps(recs)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, set := range []plotter.XYs{plain, precond, bound} {
		for _, q := range set {
			lo, hi = min(lo, q.Y), max(hi, q.Y)
		}
	}
	if len(plain) == 0 && len(precond) == 0 {
		// No probed steps: an empty panel that says so.
		p.Title.Text = "no probed steps"
		if len(unconverged) > 0 {
			p.Title.Text = "no converged sharpness estimate"
		}
		if len(bound) == 0 {
			p.Y.Min, p.Y.Max = 0, 1
			p.Y.Tick.Marker = plot.ConstantTicks{}
		}
	}
	if !math.IsInf(lo, 0) {
		// Start at zero so the distance to the bound reads true, and leave
		// room above the bound for the legend.
		p.Y.Min = min(0, lo)
		p.Y.Max = hi + 0.25*(hi-p.Y.Min)
		if p.Y.Max == p.Y.Min {
			p.Y.Max = p.Y.Min + 1
		}
	}
	if err := addBound(p, bound, recs); err != nil {
		return nil, err
	}
	for _, s := range []struct {
		pts   plotter.XYs
		label string
		color color.Color
	}{
		{plain, "sharpness λmax", colorBlue},
		{precond, "preconditioned sharpness λmax(P^-1 H)", colorOrange},
	} {
		if len(s.pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(s.pts)
		if err != nil {
			return nil, err
		}
		l.Color = s.color
		l.Width = vg.Points(1.2)
		sc.Color = l.Color
		sc.Shape = draw.CircleGlyph{}
		sc.Radius = vg.Points(2)
		p.Add(l, sc)
		p.Legend.Add(s.label, l, sc)
	}
	if len(unconverged) > 0 {
		for i := range unconverged {
			unconverged[i].Y = p.Y.Min
		}
		sc, err := plotter.NewScatter(unconverged)
		if err != nil {
			return nil, err
		}
		sc.Color = colorRed
		sc.Shape = draw.CrossGlyph{}
		sc.Radius = vg.Points(3)
		p.Add(sc)
		p.Legend.Add("probe not converged (no value)", sc)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, nil
}

// boundSteps is the stability bound as a stepped line over the whole run:
// flat while the bound holds, a vertical step where the learning rate
// schedule changes it.
func boundSteps(recs []Record) plotter.XYs {
	var pts plotter.XYs
	for i := range recs {
		r := &recs[i]
		if r.StabilityBound == nil || !finite(*r.StabilityBound) {
			continue
		}
		x, y := float64(r.Step), *r.StabilityBound
		if n := len(pts); n > 0 && pts[n-1].Y != y {
			pts = append(pts, plotter.XY{X: x, Y: pts[n-1].Y})
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
	}
	if len(pts) > 0 {
		lo, hi := stepRange(recs)
		if pts[0].X > lo {
			pts = append(plotter.XYs{{X: lo, Y: pts[0].Y}}, pts...)
		}
		if last := pts[len(pts)-1]; last.X < hi {
			pts = append(pts, plotter.XY{X: hi, Y: last.Y})
		}
	}
	return pts
}

// boundLabel names the stability bound, as 2/η when every bound is 2/lr.
func boundLabel(recs []Record) string {
	gd := false
	for i := range recs {
		r := &recs[i]
		if r.StabilityBound == nil {
			continue
		}
		// 1e-9: the bound is written as 2/lr in float64, a few ulps off.
		if r.PrecondLambdaMax != nil || math.Abs(*r.StabilityBound*r.LR-2) > 1e-9 {
			return "stability bound"
		}
		gd = true
	}
	if gd {
		return "stability bound 2/η"
	}
	return "stability bound"
}

// lossPlot is loss.<fmt>: the step loss and the probed train and test losses.
func lossPlot(recs []Record) (*plot.Plot, error) {
	p := newPlot("Loss", "step", "loss")
	series := []struct {
		label  string
		get    func(*Record) (float64, bool)
		points bool
	}{
		{"step loss", func(r *Record) (float64, bool) { return r.Loss, true }, false},
		{"train loss", func(r *Record) (float64, bool) { return deref(r.TrainLoss) }, true},
		{"test loss", func(r *Record) (float64, bool) { return deref(r.TestLoss) }, true},
	}
	var all plotter.XYs
	n := 0
	for i, s := range series {
		pts := collect(recs, s.get)
		if len(pts) == 0 {
			continue
		}
		all = append(all, pts...)
		if err := addSeries(p, pts, s.label, i, s.points); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("no finite loss in the log")
	}
	logY(p, all)
	p.Legend.Top = true
	return p, nil
}

// accuracyPlot is accuracy.<fmt>, or nil when no accuracy was logged.
func accuracyPlot(recs []Record) (*plot.Plot, error) {
	p := newPlot("Accuracy", "step", "accuracy")
	n := 0
	hi := 0.0
	for i, s := range []struct {
		label string
		get   func(*Record) (float64, bool)
	}{
		{"train accuracy", func(r *Record) (float64, bool) { return deref(r.TrainAcc) }},
		{"test accuracy", func(r *Record) (float64, bool) { return deref(r.TestAcc) }},
	} {
		pts := collect(recs, s.get)
		if len(pts) == 0 {
			continue
		}
		for _, q := range pts {
			hi = max(hi, q.Y)
		}
		if err := addSeries(p, pts, s.label, i, true); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	if hi <= 1 { // fractions, not percentages
		p.Y.Min, p.Y.Max = 0, 1
	}
	// Bottom right, below accuracies that rise.
	p.Legend.Top = false
	p.Legend.Left = false
	return p, nil
}

// eigenvaluePlot is eigenvalues.<fmt>, or nil when neither top-k nor λmin
// was probed.
func eigenvaluePlot(recs []Record) (*plot.Plot, error) {
	k := 0
	for i := range recs {
		k = max(k, len(recs[i].TopK))
	}
	p := newPlot("Hessian eigenvalues", "step", "eigenvalue")
	n := 0
	for j := range k {
		pts := collect(recs, func(r *Record) (float64, bool) {
			if j >= len(r.TopK) {
				return 0, false
			}
			return r.TopK[j], true
		})
		if len(pts) == 0 {
			continue
		}
		if err := addSeries(p, pts, "λ"+strconv.Itoa(j+1), j, true); err != nil {
			return nil, err
		}
		n++
	}
	if pts := collect(recs, func(r *Record) (float64, bool) { return deref(r.LambdaMin) }); len(pts) > 0 {
		if err := addSeries(p, pts, "λmin", k, true); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	// Headroom above the data for the legend in the top left corner.
	if lo, hi := p.Y.Min, p.Y.Max; hi > lo {
		p.Y.Max = hi + 0.3*(hi-lo)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, nil
}

// addBound draws the stability bound at the steps of bound (boundSteps of
// recs) as a dashed red line, nothing when there are none.
func addBound(p *plot.Plot, bound plotter.XYs, recs []Record) error {
	if len(bound) == 0 {
		return nil
	}
	l, err := plotter.NewLine(bound)
	if err != nil {
		return err
	}
	l.Color = colorRed
	l.Width = vg.Points(1.5)
	l.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
	p.Add(l)
	p.Legend.Add(boundLabel(recs), l)
	return nil
}

// series is one line of a figure.
type series struct {
	label string
	pts   plotter.XYs
}

// layerSeries returns the lines of layers.<fmt>: the converged sharpness
// λmax, then one per layer with its converged top eigenvalues; nil when no
// record has per-layer values.
func layerSeries(recs []Record) []series {
	L := 0
	for i := range recs {
		L = max(L, len(recs[i].LayerLambdaMax))
	}
	if L == 0 {
		return nil
	}
	all := []series{{"λmax (whole Hessian)", collect(recs, func(r *Record) (float64, bool) {
		if r.LambdaMax == nil || r.LambdaMaxConverged != nil && !*r.LambdaMaxConverged {
			return 0, false
		}
		return *r.LambdaMax, true
	})}}
	for l := range L {
		all = append(all, series{"layer " + strconv.Itoa(l), collect(recs, func(r *Record) (float64, bool) {
			if l >= len(r.LayerLambdaMax) || l < len(r.LayerLambdaMaxConverged) && !r.LayerLambdaMaxConverged[l] {
				return 0, false
			}
			return r.LayerLambdaMax[l], true
		})})
	}
	return all
}

// layerPlot is layers.<fmt>: the sharpness λmax of the whole Hessian, one
// line per layer for the top eigenvalue of its diagonal block, and the
// stability bound, on a log scale when every value is positive (the layers
// differ by orders of magnitude); nil when no step probed the layers.
// Estimates the log flags as unconverged are left out.
func layerPlot(recs []Record) (*plot.Plot, error) {
	all := layerSeries(recs)
	if all == nil {
		return nil, nil
	}
	L := len(all) - 1
	bound := boundSteps(recs)
	var every plotter.XYs
	for _, s := range all {
		every = append(every, s.pts...)
	}
	p := newPlot("Per-layer sharpness", "step", "λmax")
	logY(p, append(every, bound...))
	if err := addBound(p, bound, recs); err != nil {
		return nil, err
	}
	for i, s := range all {
		if len(s.pts) == 0 {
			continue
		}
		// Style 3 is the bound's red: the layers skip it.
		style := i
		if i >= 3 {
			style++
		}
		if err := addSeries(p, s.pts, s.label, style, true); err != nil {
			return nil, err
		}
	}
	// Headroom above the data for the legend in the top left corner.
	if lo, hi := p.Y.Min, p.Y.Max; hi > lo {
		frac := 0.1 * float64(L+2)
		if _, ok := p.Y.Scale.(plot.LogScale); ok && lo > 0 {
			p.Y.Max = hi * math.Pow(hi/lo, frac)
		} else {
			p.Y.Max = hi + frac*(hi-lo)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = true
	return p, nil
}

// densityPlot is density.<fmt>: up to densityMax densities overlaid, or nil
// when no density was probed.
func densityPlot(dir string, recs []Record) (*plot.Plot, error) {
	var with []int
	for i := range recs {
		if recs[i].DensityFile != "" {
			with = append(with, i)
		}
	}
	if len(with) == 0 {
		return nil, nil
	}
	p := newPlot("Hessian spectral density", "eigenvalue", "density (log scale)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	for n, i := range pickEvenly(len(with), densityMax) {
		r := &recs[with[i]]
		d, err := readDensity(filepath.Join(dir, r.DensityFile))
		if err != nil {
			return nil, err
		}
		pts := densityPoints(d)
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("density %s: %w", r.DensityFile, err)
		}
		l.Color = seriesColor(n)
		l.Dashes = plotutil.Dashes(n)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add("step "+strconv.Itoa(r.Step), l)
	}
	p.Legend.Top = true
	return p, nil
}

// readDensity reads one DensityReport JSON file.
func readDensity(path string) (*DensityReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("density: %w", err)
	}
	var d DensityReport
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("density %s: %w", path, err)
	}
	if len(d.Grid) != len(d.Density) {
		return nil, fmt.Errorf("density %s: %d grid points but %d densities", path, len(d.Grid), len(d.Density))
	}
	return &d, nil
}

// densityPoints are the finite points of a density, floored for the log
// scale.
func densityPoints(d *DensityReport) plotter.XYs {
	pts := make(plotter.XYs, 0, len(d.Grid))
	for i := range d.Grid {
		if finite(d.Grid[i]) && finite(d.Density[i]) {
			pts = append(pts, plotter.XY{X: d.Grid[i], Y: max(d.Density[i], densityFloor)})
		}
	}
	return pts
}

// pickEvenly returns up to k indices of 0..n-1: all of them when n <= k,
// else the first, the last and evenly spaced ones between.
func pickEvenly(n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = int(math.Round(float64(i) * float64(n-1) / float64(k-1)))
	}
	return idx
}

// newPlot returns a plot with the house titles and a light grid.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Add(grid())
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p
}

// addSeries adds a line (with points when points is set) in style i.
func addSeries(p *plot.Plot, pts plotter.XYs, label string, i int, points bool) error {
	if !points {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return err
		}
		l.Color = seriesColor(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(label, l)
		return nil
	}
	l, sc, err := plotter.NewLinePoints(pts)
	if err != nil {
		return err
	}
	l.Color = seriesColor(i)
	l.Width = vg.Points(1.2)
	sc.Color = l.Color
	sc.Shape = plotutil.Shape(i)
	sc.Radius = vg.Points(2)
	p.Add(l, sc)
	p.Legend.Add(label, l, sc)
	return nil
}

// logY puts the y axis of p on a log scale when every value is positive.
func logY(p *plot.Plot, pts plotter.XYs) {
	for _, q := range pts {
		if q.Y <= 0 {
			return
		}
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Label.Text += " (log scale)"
}

// logTicks marks a log-scale axis at 1..9 times the powers of ten, and
// labels the powers of ten when the range spans more than three decades,
// 1, 2 and 5 times them over one to three decades, and 1, 2, 3 and 5 times
// them below a decade; when that labels fewer than two marks it falls back
// to plot.DefaultTicks' linear ticks.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	decades := math.Log10(hi / lo)
	if decades > 0.25 {
		var ticks []plot.Tick
		labelled := 0
		for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))); e++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow10(e)
				if v < lo || v > hi {
					continue
				}
				t := plot.Tick{Value: v}
				if m == 1 || (decades <= 3 && (m == 2 || m == 5)) || (decades <= 1 && m == 3) {
					t.Label = strconv.FormatFloat(v, 'g', 3, 64)
					labelled++
				}
				ticks = append(ticks, t)
			}
		}
		if labelled >= 2 {
			return ticks
		}
	}
	var pos []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value > 0 {
			pos = append(pos, t)
		}
	}
	return pos
}

// plainTicks are plot.DefaultTicks labelled in the shortest form ("250",
// not "250.00"); with noLabels the marks are drawn without labels, for a
// panel that shares the step axis of the panel below it.
type plainTicks struct{ noLabels bool }

// Ticks implements plot.Ticker.
func (s plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := (plot.DefaultTicks{}).Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label == "" {
			continue
		}
		switch v := ticks[i].Value; {
		case s.noLabels:
			ticks[i].Label = ""
		case v == math.Trunc(v) && math.Abs(v) < 1e15:
			ticks[i].Label = strconv.FormatInt(int64(v), 10)
		default:
			ticks[i].Label = strconv.FormatFloat(v, 'g', 6, 64)
		}
	}
	return ticks
}

// grid is a light grid behind the data.
func grid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = colorGrid
	g.Horizontal.Color = colorGrid
	return g
}

// collect gathers (step, value) for the records where get reports a
// finite value.
func collect(recs []Record, get func(*Record) (float64, bool)) plotter.XYs {
	var pts plotter.XYs
	for i := range recs {
		if y, ok := get(&recs[i]); ok && finite(y) {
			pts = append(pts, plotter.XY{X: float64(recs[i].Step), Y: y})
		}
	}
	return pts
}

// stepRange is the span of steps in the log, widened when it is one step.
func stepRange(recs []Record) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i := range recs {
		s := float64(recs[i].Step)
		lo, hi = min(lo, s), max(hi, s)
	}
	if lo == hi {
		hi = lo + 1
	}
	return lo, hi
}

func deref(v *float64) (float64, bool) {
	if v == nil {
		return 0, false
	}
	return *v, true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// CheckRunLog reports, before anything is drawn, a run directory dir that
// does not exist or is not a directory, or that holds no training log
// (log.jsonl); errors name the directory or the log.
func CheckRunLog(dir string) error {
	if st, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("run directory %s does not exist", dir)
		}
		return fmt.Errorf("run directory: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("%s is not a run directory", dir)
	}
	logPath := filepath.Join(dir, "log.jsonl")
	if _, err := os.Stat(logPath); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no training log %s in run directory %s", logPath, dir)
		}
		return fmt.Errorf("training log: %w", err)
	}
	return nil
}
