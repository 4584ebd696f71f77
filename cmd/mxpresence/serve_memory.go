package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A burst of connections (thousands of clients reconnecting at once, as
// after a restart) leaves the Go runtime holding what the burst needed for
// as long as the garbage collector's goal stays up, and with little
// allocation afterwards that can be minutes: a mock holding 5,000 parked
// long-polls in 27 MB of live heap stayed at 150 MB resident. serve keeps
// a soft memory limit instead, at the larger of a floor and one and a half
// times the live heap (GOGC=100 would allow twice), rechecked every second:
// during a burst the collector runs more often, after it the limit comes
// back down and the runtime returns the rest to the system, and a mock
// that genuinely holds more is never starved, since the limit rises with
// what is live.

// defaultMemoryFloor is serve's --memory-floor.
const defaultMemoryFloor = 48 << 20

// governMemory keeps the runtime's soft memory limit at max(floor, 1.5 ×
// the live heap) until the returned function is called, which puts back the
// limit it found.
func governMemory(floor int64) (stop func()) {
	previous := debug.SetMemoryLimit(-1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			limit := floor
			if sample[0].Value.Kind() == metrics.KindUint64 {
				limit = max(floor, 3*int64(sample[0].Value.Uint64())/2)
			}
			debug.SetMemoryLimit(limit)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		debug.SetMemoryLimit(previous)
	}
}
