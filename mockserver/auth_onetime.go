package mockserver

import (
	"crypto/rand"
	"sync"
	"time"
)

// oneTimeCodes are random codes that each work once, until they expire:
// the sessions of user-interactive registration and the nonces of
// shared-secret registration. Anyone may ask for a code without
// credentials, so expired ones are swept out as the set grows, keeping
// memory bounded by the codes still live.
type oneTimeCodes struct {
	ttl time.Duration

	mu        sync.Mutex
	live      map[string]time.Time // code -> when it expires
	sweepFrom int                  // sweep when live reaches this many
}

// minSweep is how many live codes the set holds before it first sweeps.
const minSweep = 64

// issue makes a new code, live for the set's lifetime from now.
func (o *oneTimeCodes) issue(now time.Time) string {
	code := rand.Text()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.live == nil {
		o.live = make(map[string]time.Time)
	}
	if len(o.live) >= max(minSweep, o.sweepFrom) {
		for c, expires := range o.live {
			if !now.Before(expires) {
				delete(o.live, c)
			}
		}
		// Doubling keeps the sweeps' cost constant per code issued.
		o.sweepFrom = 2 * len(o.live)
	}
	o.live[code] = now.Add(o.ttl)
	return code
}

// valid reports whether code is live, without spending it.
func (o *oneTimeCodes) valid(code string, now time.Time) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	expires, ok := o.live[code]
	return ok && now.Before(expires)
}

// take spends code: true if it was live. Once taken, or once expired, a
// code never works again.
func (o *oneTimeCodes) take(code string, now time.Time) (expires time.Time, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	expires, ok = o.live[code]
	if !ok {
		return time.Time{}, false
	}
	delete(o.live, code)
	return expires, now.Before(expires)
}

// giveBack makes a taken code live again, for a request that took it and
// then failed for a reason the code had no part in.
func (o *oneTimeCodes) giveBack(code string, expires time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.live[code] = expires
}
