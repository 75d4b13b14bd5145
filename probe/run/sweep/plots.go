package sweep

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Figure size of the report's plots.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
)

// palette is matplotlib's tab10, one colour per learning rate.
var palette = []color.Color{
	color.RGBA{31, 119, 180, 255}, color.RGBA{255, 127, 14, 255}, color.RGBA{44, 160, 44, 255},
	color.RGBA{214, 39, 40, 255}, color.RGBA{148, 103, 189, 255}, color.RGBA{140, 86, 75, 255},
	color.RGBA{227, 119, 194, 255}, color.RGBA{127, 127, 127, 255}, color.RGBA{188, 189, 34, 255},
	color.RGBA{23, 190, 207, 255},
}

// PlotReport draws the report's figures as PNG files in dir/plots:
//
//   - sharpness.png: the sharpness at the probed steps of every run, one
//     line per run coloured by its learning rate (optimizer.lr), with each
//     learning rate's stability bound (2/η for GD) dashed in its colour;
//   - sharpness_vs_bound.png: each run's final sharpness against its
//     stability bound at the last probe (2/η for GD), coloured by learning
//     rate, with the line y = x (the edge of stability); both axes are
//     logarithmic when the values span more than a decade.
//
// Runs with no probe are left out. It returns the paths written and the
// first error; a figure with nothing to draw is not written.
func PlotReport(dir string, rep *Report) ([]string, error) {
	out := filepath.Join(dir, PlotsDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	// One colour per learning rate, in increasing order.
	var lrs []float64
	for i := range rep.Rows {
		if lr := rep.Rows[i].Run.Config.Optimizer.LR; !slices.Contains(lrs, lr) {
			lrs = append(lrs, lr)
		}
	}
	slices.Sort(lrs)
	colorOf := func(lr float64) (color.Color, int) {
		i := slices.Index(lrs, lr)
		return palette[i%len(palette)], i
	}
	lrLabel := func(lr float64) string { return "η = " + strconv.FormatFloat(lr, 'g', 4, 64) }

	var paths []string
	var firstErr error
	save := func(p *plot.Plot, name string) {
		path := filepath.Join(out, name)
		if err := p.Save(plotWidth, plotHeight, path); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", path, err)
			}
			return
		}
		paths = append(paths, path)
	}

	// Sharpness over the steps.
	p := newPlot("sharpness during training, by learning rate", "step", "sharpness λmax")
	labelled := map[float64]bool{}
	boundDrawn := map[float64]bool{}
	lines := 0
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if len(row.sharpness) == 0 {
			continue
		}
		lr := row.Run.Config.Optimizer.LR
		c, ci := colorOf(lr)
		pts := make(plotter.XYs, 0, len(row.sharpness))
		var bounds plotter.XYs
		for _, s := range row.sharpness {
			if finite(s[1]) {
				pts = append(pts, plotter.XY{X: s[0], Y: s[1]})
			}
			if finite(s[2]) {
				bounds = append(bounds, plotter.XY{X: s[0], Y: s[2]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		l.Color, l.Width = c, vg.Points(1.2)
		sc.Color, sc.Shape, sc.Radius = c, plotutil.Shape(ci), vg.Points(2)
		p.Add(l, sc)
		lines++
		if !labelled[lr] {
			p.Legend.Add(lrLabel(lr), l, sc)
			labelled[lr] = true
		}
		if len(bounds) > 0 && !boundDrawn[lr] {
			bl, err := plotter.NewLine(bounds)
			if err == nil {
				bl.Color, bl.Width = c, vg.Points(1)
				bl.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				p.Add(bl)
				boundDrawn[lr] = true
				if len(boundDrawn) == 1 {
					p.Legend.Add("stability bound (2/η for GD), dashed", bl)
				}
			}
		}
	}
	if lines > 0 {
		// Head room for the legend.
		p.Y.Min = min(p.Y.Min, 0)
		p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min)
		save(p, "sharpness.png")
	}

	// Final sharpness against the stability bound.
	p = newPlot("final sharpness against the stability bound", "stability bound at the last probe (2/η for GD)", "final sharpness λmax")
	var all plotter.XYs
	labelled = map[float64]bool{}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if row.FinalSharpness == nil || row.FinalBound == nil || !finite(*row.FinalSharpness) || !finite(*row.FinalBound) {
			continue
		}
		lr := row.Run.Config.Optimizer.LR
		c, ci := colorOf(lr)
		pt := plotter.XYs{{X: *row.FinalBound, Y: *row.FinalSharpness}}
		all = append(all, pt[0])
		sc, err := plotter.NewScatter(pt)
		if err != nil {
			continue
		}
		sc.Color, sc.Shape, sc.Radius = c, plotutil.Shape(ci), vg.Points(3.5)
		p.Add(sc)
		if !labelled[lr] {
			p.Legend.Add(lrLabel(lr), sc)
			labelled[lr] = true
		}
	}
	if len(all) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, q := range all {
			lo, hi = min(lo, q.X, q.Y), max(hi, q.X, q.Y)
		}
		logScale := lo > 0 && hi/lo > 10
		if logScale {
			lo, hi = lo/1.3, hi*1.3
		} else {
			pad := 0.08 * max(hi-lo, math.Abs(hi), 1e-12)
			lo, hi = lo-pad, hi+pad
		}
		diag, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err == nil {
			diag.Color, diag.Width = color.Gray{Y: 90}, vg.Points(1)
			diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(diag)
			p.Legend.Add("y = x (edge of stability)", diag)
		}
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
		if logScale {
			p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
			p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
			p.X.Label.Text += " (log scale)"
			p.Y.Label.Text += " (log scale)"
		}
		save(p, "sharpness_vs_bound.png")
	}
	return paths, firstErr
}

// newPlot returns a plot with titles, a light grid and the legend top left.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = color.Gray{Y: 225}, color.Gray{Y: 225}
	p.Add(g)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Legend.ThumbnailWidth = vg.Points(20)
	return p
}

// logTicks marks a log axis at 1..9 times the powers of ten and labels 1, 2
// and 5 times them (only the powers over more than two decades).
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	wide := hi/lo > 100
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1.0; m <= 9; m++ {
			v := m * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (!wide && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
