package bench

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"

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
	// Reports of one label are one series: a point for each run, and the
	// line through the median of the runs at each size.
	var names []string
	byName := map[string][]*Result{}
	for _, r := range reports {
		name := cmp.Or(r.Label, r.Target)
		if _, ok := byName[name]; !ok {
			names = append(names, name)
		}
		byName[name] = append(byName[name], r.Runs...)
	}
	var latSeries, costSeries []any
	var allLat, allCost plotter.XYs
	for _, name := range names {
		l, lp, c, cp := series(byName[name], withCPU)
		allLat, allCost = append(allLat, lp...), append(allCost, cp...)
		latSeries = append(latSeries, name, l)
		costSeries = append(costSeries, name, c)
		for _, pts := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{lat, lp}, {cost, cp}} {
			if len(pts.xys) > len(l) {
				sc, err := plotter.NewScatter(pts.xys)
				if err != nil {
					return fmt.Errorf("svg: %w", err)
				}
				sc.GlyphStyle.Radius = vg.Points(1.5)
				pts.p.Add(sc)
			}
		}
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
		data := allLat
		if p == cost {
			data = allCost
		}
		if p.X.Min > 0 && p.X.Max > p.X.Min {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
			p.X.Min, p.X.Max = math.Pow10(int(math.Floor(math.Log10(p.X.Min)))), math.Pow10(int(math.Ceil(math.Log10(p.X.Max))))
		}
		// Figures far apart (a mock in milliseconds beside a server in
		// seconds) on a log scale too, so neither flattens the other.
		if lo := smallestY(data); lo > 0 && p.Y.Max/lo > 20 {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
			p.Y.Min, p.Y.Max = math.Pow10(int(math.Floor(math.Log10(lo)))), math.Pow10(int(math.Ceil(math.Log10(p.Y.Max))))
			p.Y.Label.Text += " (log scale)"
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

// series gives, for runs of one label, the medians at each size (the
// line) and every run (the points), for latency and for cost.
func series(runs []*Result, withCPU bool) (latLine, latPts, costLine, costPts plotter.XYs) {
	latAt, costAt := map[int][]float64{}, map[int][]float64{}
	var sizes []int
	for _, run := range runs {
		if _, ok := costAt[run.Users]; !ok {
			sizes = append(sizes, run.Users)
		}
		y := run.WakePerChg
		if withCPU {
			y = run.Resources.CPUMillisPerChange
		}
		costAt[run.Users] = append(costAt[run.Users], y)
		costPts = append(costPts, plotter.XY{X: float64(run.Users), Y: y})
		if run.Latency.Samples > 0 {
			latAt[run.Users] = append(latAt[run.Users], run.Latency.P99)
			latPts = append(latPts, plotter.XY{X: float64(run.Users), Y: run.Latency.P99})
		}
	}
	slices.Sort(sizes)
	for _, n := range sizes {
		if ys := latAt[n]; len(ys) > 0 {
			latLine = append(latLine, plotter.XY{X: float64(n), Y: median(ys)})
		}
		costLine = append(costLine, plotter.XY{X: float64(n), Y: median(costAt[n])})
	}
	return latLine, latPts, costLine, costPts
}

func median(ys []float64) float64 {
	ys = slices.Clone(ys)
	slices.Sort(ys)
	if n := len(ys); n%2 == 0 {
		return (ys[n/2-1] + ys[n/2]) / 2
	}
	return ys[len(ys)/2]
}

// smallestY is the least positive y among points, 0 when there is none.
func smallestY(xys plotter.XYs) float64 {
	lo := 0.0
	for _, xy := range xys {
		if xy.Y > 0 && (lo == 0 || xy.Y < lo) {
			lo = xy.Y
		}
	}
	return lo
}
