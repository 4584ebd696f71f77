package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite/bench"
)

// The bench's honesty: run against the bundled mock (a process of its own,
// re-executed from this binary) under deviations whose effect is known, it
// must report exactly that effect. Each run is short: six users in two
// rooms of three, five changes a second for two seconds.

func benchRun(t *testing.T, args ...string) (int, *bench.Report, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bench.json")
	base := []string{"bench", "--users", "6", "--room-size", "3", "--rate", "5", "--duration", "2s", "--window", "2s", "--json", out}
	code, stdout, stderr := mxpresence(t, append(base, args...)...)
	file, err := os.Open(out)
	if err != nil {
		t.Fatalf("exit %d, no JSON report: %v\n%s%s", code, err, stdout, stderr)
	}
	defer file.Close()
	rep, err := bench.ReadJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs in the report, want 1\n%s%s", len(rep.Runs), stdout, stderr)
	}
	return code, rep, stdout + stderr
}

// accounted checks what every run must show: all watchers still polling at
// the end, no sync failures, and every change accepted.
func accounted(t *testing.T, r *bench.Result, out string) {
	t.Helper()
	if r.Watchers != 6 || r.InPoll != r.Watchers {
		t.Errorf("%d watchers, %d in a long-poll at the end; want 6 and 6\n%s", r.Watchers, r.InPoll, out)
	}
	if r.SyncErrors+r.SyncOther+r.Sync429 != 0 {
		t.Errorf("sync errors %d, other statuses %d, 429s %d; want none\n%s", r.SyncErrors, r.SyncOther, r.Sync429, out)
	}
	if r.Changes != 10 || r.Accepted != 10 {
		t.Errorf("%d changes, %d accepted; want 10 and 10\n%s", r.Changes, r.Accepted, out)
	}
	// Each change is owed to its two room-mates.
	if r.Pairs != 2*r.Accepted {
		t.Errorf("%d pairs for %d changes; want two room-mates each", r.Pairs, r.Accepted)
	}
	if r.Delivered+r.Superseded+r.Lost != r.Pairs {
		t.Errorf("delivered %d + superseded %d + lost %d != pairs %d", r.Delivered, r.Superseded, r.Lost, r.Pairs)
	}
	if r.Latency.Samples != r.Delivered {
		t.Errorf("%d latencies for %d deliveries seen: a latency without a delivery, or the reverse", r.Latency.Samples, r.Delivered)
	}
}

func TestBenchCleanMock(t *testing.T) {
	t.Parallel()
	code, rep, out := benchRun(t, "--max-lost", "0")
	r := rep.Runs[0]
	accounted(t, r, out)
	if code != 0 || r.Lost != 0 || r.Leaked != 0 || r.Redundant != 0 || r.Delivered == 0 {
		t.Errorf("exit %d, lost %d, leaked %d, redundant %d, delivered %d; want 0, 0, 0, 0, all\n%s", code, r.Lost, r.Leaked, r.Redundant, r.Delivered, out)
	}
	if r.Resources == nil || r.Resources.PeakRSSMB <= 0 {
		t.Errorf("no resources read from the bundled mock's /proc: %+v", r.Resources)
	}
}

func TestBenchReportsAFixedDelay(t *testing.T) {
	t.Parallel()
	// delivery-late holds each change back one second from /sync.
	_, rep, out := benchRun(t, "--mock-variation", "delivery-late")
	r := rep.Runs[0]
	accounted(t, r, out)
	if r.Lost != 0 || r.Delivered == 0 {
		t.Errorf("lost %d, delivered %d; want 0 and all\n%s", r.Lost, r.Delivered, out)
	}
	if p50 := r.Latency.P50; p50 < 1000 || p50 > 1500 {
		t.Errorf("p50 %.1f ms under a fixed delay of 1 s; want 1000 to 1500 ms (the delay, and what a busy machine adds)\n%s", p50, out)
	}
}

func TestBenchCountsDroppedDeliveries(t *testing.T) {
	t.Parallel()
	code, rep, out := benchRun(t, "--mock-fault", "sync-without-presence", "--max-lost", "0")
	r := rep.Runs[0]
	accounted(t, r, out)
	if r.Lost != r.Pairs || r.Delivered != 0 || r.Latency.Samples != 0 {
		t.Errorf("lost %d of %d pairs, delivered %d, %d latencies; want all lost, none seen\n%s", r.Lost, r.Pairs, r.Delivered, r.Latency.Samples, out)
	}
	if code != 1 || !strings.Contains(out, "GATE:") {
		t.Errorf("exit %d with --max-lost 0 and everything lost; want 1 and a GATE line\n%s", code, out)
	}
}

func TestBenchCountsLeaks(t *testing.T) {
	t.Parallel()
	_, rep, out := benchRun(t, "--mock-fault", "presence-leaked-to-strangers")
	r := rep.Runs[0]
	accounted(t, r, out)
	// Every change reaches the three users of the other room.
	if r.Leaked != 3*r.Accepted || r.Lost != 0 {
		t.Errorf("leaked %d, lost %d for %d changes; want %d leaked, none lost\n%s", r.Leaked, r.Lost, r.Accepted, 3*r.Accepted, out)
	}
}

func TestBenchCountsRedundantDeliveries(t *testing.T) {
	t.Parallel()
	_, rep, out := benchRun(t, "--mock-fault", "sync-duplicate-events")
	r := rep.Runs[0]
	accounted(t, r, out)
	if r.Redundant == 0 || r.Lost != 0 {
		t.Errorf("redundant %d, lost %d with every event sent twice; want some redundant, none lost\n%s", r.Redundant, r.Lost, out)
	}
}

func TestBenchCannotStart(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"bench", "--users", "1"},
		{"bench", "--users", "10,x"},
		{"bench", "--rate", "0"},
		{"bench", "--target", "http://127.0.0.1:1", "--api", "v3", "--users", "2", "--no-progress"},
		{"bench", "--target", "http://127.0.0.1:1", "--mock-fault", "sync-without-presence"},
		{"bench", "--mock-fault", "no-such-fault"},
		{"bench", "--mock-variation", "sync-without-presence"},
	} {
		code, stdout, stderr := mxpresence(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, stdout, stderr)
		}
	}
}
