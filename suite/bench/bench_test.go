package bench

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/suite/client"
)

func TestLayoutPutsEveryUserInItsRooms(t *testing.T) {
	for _, tc := range []struct{ n, k, r int }{{10, 5, 1}, {11, 5, 1}, {10, 3, 2}, {1000, 10, 3}, {5, 5, 1}} {
		rooms := layout(tc.n, tc.k, tc.r)
		count := make([]int, tc.n)
		for _, room := range rooms {
			if len(room) < 2 {
				t.Errorf("%+v: a room of %d", tc, len(room))
			}
			seen := map[int]bool{}
			for _, m := range room {
				if seen[m] {
					t.Errorf("%+v: user %d twice in one room", tc, m)
				}
				seen[m] = true
				count[m]++
			}
		}
		for u, c := range count {
			if c != tc.r {
				t.Errorf("%+v: user %d in %d rooms, want %d", tc, u, c, tc.r)
			}
		}
	}
	mates := roomMates(6, layout(6, 3, 1))
	if len(mates[0]) != 2 || mates[0][3] {
		t.Errorf("in two rooms of three, user 0's mates are %v; want two, not user 3", mates[0])
	}
}

func TestSummariseIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarise(ds)
	if l.Samples != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 {
		t.Errorf("summarise(1..100 ms) = %+v", l)
	}
	if l := summarise(nil); l != (Latency{}) {
		t.Errorf("summarise(nothing) = %+v; want zero, no samples", l)
	}
}

// TestTallyJudgesEachPair builds a run by hand: user 0 changes twice, user
// 1 once; users 0, 1 and 2 share a room and user 3 shares none.
func TestTallyJudgesEachPair(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	cfg := Config{N: 4, Duration: time.Second, Window: time.Second}
	mates := roomMates(4, [][]int{{0, 1, 2}})
	d := &driver{changes: []change{
		{user: 0, sent: at(0), status: http.StatusOK},
		{user: 0, sent: at(100), status: http.StatusOK},
		{user: 1, sent: at(200), status: http.StatusOK},
		{user: 2, sent: at(300), status: http.StatusTooManyRequests},
	}}
	s := &client.Session{UserID: "@x:y"}
	ws := []*watcher{
		{index: 0, session: s, seen: []sighting{{2, at(210)}}},                           // 2 on time
		{index: 1, session: s, seen: []sighting{{0, at(10)}, {0, at(20)}, {1, at(150)}}}, // 0 twice, 1 on time
		{index: 2, session: s, seen: []sighting{{1, at(500)}, {2, at(1500)}}},            // 0 superseded by 1; 2 late
		{index: 3, session: s, seen: []sighting{{2, at(250)}}},                           // a stranger: a leak
	}
	r := tally(cfg, d, ws, mates)
	want := Result{Changes: 4, Accepted: 3, Refused429: 1, Pairs: 6, Delivered: 4, Superseded: 1, Lost: 1, Late: 1, Leaked: 1, Redundant: 1}
	got := Result{Changes: r.Changes, Accepted: r.Accepted, Refused429: r.Refused429, Pairs: r.Pairs, Delivered: r.Delivered,
		Superseded: r.Superseded, Lost: r.Lost, Late: r.Late, Leaked: r.Leaked, Redundant: r.Redundant}
	if got.Changes != want.Changes || got.Accepted != want.Accepted || got.Refused429 != want.Refused429 || got.Pairs != want.Pairs ||
		got.Delivered != want.Delivered || got.Superseded != want.Superseded || got.Lost != want.Lost || got.Late != want.Late ||
		got.Leaked != want.Leaked || got.Redundant != want.Redundant {
		t.Errorf("tally = %+v\nwant     %+v", got, want)
	}
	// Latencies of the four seen in time: 10, 10, 50, 400 ms.
	if r.Latency.Samples != 4 || r.Latency.P50 != 10 || r.Latency.Max != 400 {
		t.Errorf("latency %+v; want 4 samples, p50 10 ms, max 400 ms", r.Latency)
	}
}

func TestGates(t *testing.T) {
	run := &Result{Users: 10, Lost: 3, Latency: Latency{Samples: 5, P99: 80}}
	for _, tc := range []struct {
		gates Gates
		pass  bool
	}{
		{Gates{MaxLost: -1}, true},
		{Gates{MaxLost: 3}, true},
		{Gates{MaxLost: 2}, false},
		{Gates{MaxLost: -1, MaxP99: 100 * time.Millisecond}, true},
		{Gates{MaxLost: -1, MaxP99: 50 * time.Millisecond}, false},
	} {
		r := &Report{Runs: []*Result{run}, Gates: tc.gates}
		r.Check()
		if r.Passed() != tc.pass {
			t.Errorf("gates %+v: passed %v, want %v (%v)", tc.gates, r.Passed(), tc.pass, r.Breaches)
		}
	}
	// Nothing seen leaves no p99 to vouch for: the gate fails.
	r := &Report{Runs: []*Result{{Users: 10}}, Gates: Gates{MaxLost: -1, MaxP99: time.Second}}
	if r.Check(); r.Passed() {
		t.Error("a run with no delivery seen passed --max-p99")
	}
}

func TestProcProbeReadsThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	u, err := ProcProbe{PID: os.Getpid()}.Sample()
	if err != nil || u.RSS < 1<<20 {
		t.Fatalf("Sample() = %+v, %v; want this process's memory, over 1 MB", u, err)
	}
	if _, err := (ProcProbe{PID: 1 << 30}).Sample(); err == nil {
		t.Error("Sample of a process that does not exist succeeded")
	}
}

func TestReportsRoundTripAndDraw(t *testing.T) {
	rep := &Report{Target: "http://x", API: "v3", Gates: Gates{MaxLost: -1}, Runs: []*Result{
		{Users: 10, Accepted: 5, Latency: Latency{Samples: 5, P99: 12}, Resources: &Resources{CPUMillisPerChange: 1.5}},
		{Users: 100, Accepted: 5, Latency: Latency{Samples: 5, P99: 20}, Resources: &Resources{CPUMillisPerChange: 3}, BenchCPUMillisPerChange: 2.25},
	}}
	rep.Check()
	var js, md, svg, text bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&js)
	if err != nil || len(back.Runs) != 2 || back.Runs[1].Latency.P99 != 20 || back.Runs[1].BenchCPUMillisPerChange != 2.25 {
		t.Fatalf("JSON round trip: %+v, %v", back, err)
	}
	if err := WriteMarkdown(&md, rep); err != nil || !strings.Contains(md.String(), "| 100 |") {
		t.Errorf("Markdown: %v\n%s", err, md.String())
	}
	WriteText(&text, rep)
	if !strings.Contains(text.String(), "VERDICT: PASS") || !strings.Contains(text.String(), "the bench's own CPU 2.25 ms per change") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := WriteSVG(&svg, rep); err != nil || !strings.Contains(svg.String(), "<svg") || !strings.Contains(svg.String(), "CPU per change") {
		t.Errorf("SVG: %v, %d bytes", err, svg.Len())
	}
}
