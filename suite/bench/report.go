package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is a bench invocation: one run per size of a sweep, and the
// verdict of the gates.
type Report struct {
	Target  string    `json:"target"`
	Label   string    `json:"label,omitempty"` // names the series in a chart
	API     string    `json:"api"`
	Started time.Time `json:"started"`
	Runs    []*Result `json:"runs"`
	Gates   Gates     `json:"gates"`
	// Breaches say which gate each run passed, empty when none did.
	Breaches []string `json:"breaches"`
	Error    string   `json:"error,omitempty"` // why the run could not start
}

// Gates are the limits that make the bench fail: a p99 above MaxP99, more
// than MaxLost lost deliveries. Zero MaxP99 and negative MaxLost are off.
type Gates struct {
	MaxP99  time.Duration `json:"-"`
	MaxLost int           `json:"-"`
	// For JSON readers: the same, in units.
	MaxP99MS   float64 `json:"max_p99_ms,omitempty"`
	MaxLostSet *int    `json:"max_lost,omitempty"`
}

// Check records which runs pass a gate. A run with no delivery at all has
// no p99 to hold against MaxP99: it breaches the gate, since nothing it
// could vouch for arrived.
func (r *Report) Check() {
	r.Breaches = nil
	if r.Gates.MaxP99 > 0 {
		r.Gates.MaxP99MS = ms(r.Gates.MaxP99)
	}
	if r.Gates.MaxLost >= 0 {
		n := r.Gates.MaxLost
		r.Gates.MaxLostSet = &n
	}
	for _, run := range r.Runs {
		if g := r.Gates.MaxP99; g > 0 {
			switch {
			case run.Latency.Samples == 0:
				r.Breaches = append(r.Breaches, fmt.Sprintf("%d users: no delivery seen, so no p99 under --max-p99 %s", run.Users, g))
			case run.Latency.P99 > ms(g):
				r.Breaches = append(r.Breaches, fmt.Sprintf("%d users: p99 %.1f ms > --max-p99 %s", run.Users, run.Latency.P99, g))
			}
		}
		if r.Gates.MaxLost >= 0 && run.Lost > r.Gates.MaxLost {
			r.Breaches = append(r.Breaches, fmt.Sprintf("%d users: %d lost > --max-lost %d", run.Users, run.Lost, r.Gates.MaxLost))
		}
	}
}

// Passed reports whether every run kept within the gates.
func (r *Report) Passed() bool { return r.Error == "" && len(r.Breaches) == 0 }

// columns are the table's, shared by the text and Markdown forms.
var columns = []string{"users", "rooms", "changes/s", "429", "pairs", "p50 ms", "p90 ms", "p99 ms", "max ms",
	"lost", "superseded", "leaked", "redundant", "wake/change", "empty", "sync err", "cpu ms/change", "peak MB"}

func (r *Result) cells() []string {
	f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	lat := []string{"-", "-", "-", "-"}
	if r.Latency.Samples > 0 {
		lat = []string{f(r.Latency.P50), f(r.Latency.P90), f(r.Latency.P99), f(r.Latency.Max)}
	}
	cpu, mem := "-", "-"
	if r.Resources != nil {
		cpu, mem = fmt.Sprintf("%.2f", r.Resources.CPUMillisPerChange), f(r.Resources.PeakRSSMB)
	}
	return append([]string{
		fmt.Sprint(r.Users), fmt.Sprintf("%d×%d", r.Rooms, r.RoomSize), f(r.Throughput),
		fmt.Sprint(r.Refused429 + r.Sync429), fmt.Sprint(r.Pairs)},
		append(lat, fmt.Sprint(r.Lost), fmt.Sprint(r.Superseded), fmt.Sprint(r.Leaked), fmt.Sprint(r.Redundant),
			f(r.WakePerChg), fmt.Sprint(r.Empty), fmt.Sprint(r.SyncErrors+r.SyncOther), cpu, mem)...)
}

// WriteText writes the table and the verdict.
func WriteText(w io.Writer, r *Report) {
	fmt.Fprintf(w, "\nmxpresence bench: %s API at %s\n\n", r.API, r.Target)
	rows := [][]string{columns}
	for _, run := range r.Runs {
		rows = append(rows, run.cells())
	}
	widths := make([]int, len(columns))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, row := range rows {
		for i, c := range row {
			fmt.Fprintf(w, "%*s  ", widths[i], c)
		}
		fmt.Fprintln(w)
	}
	for _, run := range r.Runs {
		fmt.Fprintf(w, "\n%d users: %d changes (%d accepted, %d refused with 429, %d failed) over %.0f s; %d of %d watchers in a long-poll at the end",
			run.Users, run.Changes, run.Accepted, run.Refused429, run.Failed, run.Seconds, run.InPoll, run.Watchers)
		fmt.Fprintf(w, "; of %d pairs owed a delivery: %d seen within %.0f s, %d superseded, %d lost (%d of them late)",
			run.Pairs, run.Delivered, run.Window, run.Superseded, run.Lost, run.Late)
		fmt.Fprintf(w, "; %d /sync responses (%d empty, %.4f per watcher per change); PUT p50 %.1f ms, p99 %.1f ms; load average %.1f",
			run.Wakeups, run.Empty, run.WakePerWPC, run.PutLatency.P50, run.PutLatency.P99, run.LoadAverage)
		if run.BenchCPUMillisPerChange > 0 {
			fmt.Fprintf(w, "; the bench's own CPU %.2f ms per change", run.BenchCPUMillisPerChange)
		}
		fmt.Fprintln(w)
		for _, p := range run.Problems {
			fmt.Fprintf(w, "  watcher problem: %s\n", p)
		}
	}
	fmt.Fprintln(w)
	for _, b := range r.Breaches {
		fmt.Fprintln(w, "GATE:", b)
	}
	fmt.Fprintf(w, "VERDICT: %s\n", r.verdict())
}

func (r *Report) verdict() string {
	switch {
	case r.Error != "":
		return "ERROR: " + r.Error
	case len(r.Breaches) > 0:
		return "FAIL"
	}
	return "PASS"
}

// WriteJSON writes the report as JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(rd io.Reader) (*Report, error) {
	var r Report
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("bench report: %w", err)
	}
	return &r, nil
}

// WriteMarkdown writes the table and the verdict as Markdown, for a CI
// step summary.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## mxpresence bench: %s\n\n%s API at `%s`\n\n", r.verdict(), r.API, r.Target)
	if len(r.Runs) > 0 {
		b.WriteString("| " + strings.Join(columns, " | ") + " |\n")
		b.WriteString(strings.Repeat("|---", len(columns)) + "|\n")
		for _, run := range r.Runs {
			b.WriteString("| " + strings.Join(run.cells(), " | ") + " |\n")
		}
		b.WriteString("\nLatency runs from a PUT status going out to a room-mate's /sync response carrying it, over every (change, room-mate) pair seen; lost pairs were neither seen nor superseded by a later change within the window.\n")
	}
	for _, br := range r.Breaches {
		fmt.Fprintf(&b, "\n- gate: %s", br)
	}
	if len(r.Breaches) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
