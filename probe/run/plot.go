package run

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// PlotDensity draws an SLQ spectral density (log scale, as in Ghorbani et
// al. 2019) to path; the extension (.png, .svg, .pdf) picks the format.
func PlotDensity(path string, d *DensityReport, title string) error {
	p := plot.New()
	p.Title.Text = "Hessian spectral density: " + title
	p.X.Label.Text = "eigenvalue"
	p.Y.Label.Text = "density (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: 1}
	if len(d.Grid) != len(d.Density) {
		return fmt.Errorf("density plot %s: %d grid points but %d densities", path, len(d.Grid), len(d.Density))
	}
	line, err := plotter.NewLine(densityPoints(d))
	if err != nil {
		return fmt.Errorf("density plot: %w", err)
	}
	p.Add(line, plotter.NewGrid())
	if err := p.Save(7*vg.Inch, 4*vg.Inch, path); err != nil {
		return fmt.Errorf("density plot %s: %w", path, err)
	}
	return nil
}
