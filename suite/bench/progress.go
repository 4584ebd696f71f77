package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress draws one line, redrawn in place, at most ten times a second.
// With no writer it draws nothing: a bar belongs on a terminal only, and
// the caller decides whether there is one.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	name  string
	drawn time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

// phase starts a named phase; a phase with a known length (the window)
// is drawn as a countdown.
func (p *progress) phase(name string, length time.Duration) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.name = name
	if length > 0 {
		fmt.Fprintf(p.w, "\r\033[K%-14s waiting %s for late deliveries", name, length.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%-14s", name)
}

func (p *progress) step(done, total int) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	const width = 30
	filled := width * done / max(total, 1)
	fmt.Fprintf(p.w, "\r\033[K%-14s [%s%s] %d/%d", p.name, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	fmt.Fprint(p.w, "\r\033[K")
}
