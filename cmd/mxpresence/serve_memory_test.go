package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// The governor holds the soft limit at the floor while little is live, at
// one and a half times the live heap when that is more, and puts back the
// limit it found when stopped.
func TestGovernMemory(t *testing.T) {
	const before = 1 << 40
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(before))
	stop := governMemory(1 << 30)
	waitForLimit(t, func(limit int64) bool { return limit == 1<<30 }, "the 1 GiB floor")
	stop()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after stop the limit is %d, want %d back", got, int64(before))
	}

	runtime.GC() // so that the live heap has been measured
	stop = governMemory(1)
	defer stop()
	waitForLimit(t, func(limit int64) bool {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(sample)
		live := int64(sample[0].Value.Uint64())
		return live > 0 && limit >= live && limit <= 2*live
	}, "one and a half times the live heap")
}

func waitForLimit(t *testing.T, ok func(int64) bool, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		limit := debug.SetMemoryLimit(-1)
		if ok(limit) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the limit is %d, want %s", limit, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
