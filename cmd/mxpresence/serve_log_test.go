package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedWriter struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.b.Write(p)
}

func (w *lockedWriter) read() (string, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String(), w.writes
}

// Lines written close together go out in one write, in order, within
// logFlushAfter; a line longer than the buffer goes out whole; Flush empties it.
func TestLogBufferBatchesAndFlushes(t *testing.T) {
	out := &lockedWriter{}
	b := newLogBuffer(out)
	for i := range 100 {
		b.Write([]byte(strings.Repeat("x", i%7) + "\n"))
	}
	if got, _ := out.read(); got != "" {
		t.Fatalf("written before the flush delay: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, writes := out.read()
		if got != "" {
			var want strings.Builder
			for i := range 100 {
				want.WriteString(strings.Repeat("x", i%7) + "\n")
			}
			if got != want.String() || writes != 1 {
				t.Errorf("%d writes of %d bytes, want 1 of %d in order", writes, len(got), want.Len())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nothing written 5s after the lines")
		}
		time.Sleep(5 * time.Millisecond)
	}

	big := strings.Repeat("y", logBufferSize+1)
	b.Write([]byte("before\n"))
	b.Write([]byte(big))
	b.Write([]byte("after\n"))
	b.Flush()
	got, _ := out.read()
	if !strings.HasSuffix(got, "before\n"+big+"after\n") {
		t.Errorf("a line over the buffer's size lost its place or its bytes")
	}
}
