package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// WriteSVG draws two charts side by side against the number of users: p99
// delivery latency, and the cost of a change: the server's CPU per change
// when every report measured it, else the /sync responses a change causes.
// Each report is a series (its Label, else its target); each run is a
// point, so repeated runs of one size show their spread.
func WriteSVG(w io.Writer, reports ...*Report) error {
	withCPU := true
	for _, r := range reports {
		for _, run := range r.Runs {
			withCPU = withCPU && run.Resources != nil
		}
	}
	lat, cost := plot.New(), plot.New()
	lat.Title.Text = "p99 delivery latency"
	lat.Y.Label.Text = "ms"
	cost.Title.Text = "server CPU per change"
	cost.Y.Label.Text = "CPU ms"
	if !withCPU {
		cost.Title.Text = "/sync responses per change"
		cost.Y.Label.Text = "responses"
	}
	var latSeries, costSeries []any
	for _, r := range reports {
		var l, c plotter.XYs
		for _, run := range r.Runs {
			if run.Latency.Samples > 0 {
				l = append(l, plotter.XY{X: float64(run.Users), Y: run.Latency.P99})
			}
			y := run.WakePerChg
			if withCPU {
				y = run.Resources.CPUMillisPerChange
			}
			c = append(c, plotter.XY{X: float64(run.Users), Y: y})
		}
		name := cmp.Or(r.Label, r.Target)
		latSeries = append(latSeries, name, l)
		costSeries = append(costSeries, name, c)
	}
	for _, p := range []*plot.Plot{lat, cost} {
		p.X.Label.Text = "users (log scale)"
		p.Legend.Top = true
		p.Legend.Left = true
		p.Y.Min = 0
	}
	if err := plotutil.AddLinePoints(lat, latSeries...); err != nil {
		return fmt.Errorf("svg: %w", err)
	}
	if err := plotutil.AddLinePoints(cost, costSeries...); err != nil {
		return fmt.Errorf("svg: %w", err)
	}
	for _, p := range []*plot.Plot{lat, cost} {
		if p.X.Min > 0 && p.X.Max > p.X.Min {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			p.X.Min, p.X.Max = math.Pow10(int(math.Floor(math.Log10(p.X.Min)))), math.Pow10(int(math.Ceil(math.Log10(p.X.Max))))
		}
	}
	canvas := vgsvg.New(10*vg.Inch, 4*vg.Inch)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	plots := [][]*plot.Plot{{lat, cost}}
	cells := plot.Align(plots, tiles, draw.New(canvas))
	lat.Draw(cells[0][0])
	cost.Draw(cells[0][1])
	_, err := canvas.WriteTo(w)
	return err
}
