package mockserver

import (
	"math"
	"time"
)

// DefaultRateLimit is the default number of requests per second each user
// may make, with a burst of as many. It is far above what any interactive
// client sends, so only a runaway loop meets it.
const DefaultRateLimit = 100

// tokenBucket is a token bucket driven by the caller's clock, so that tests
// step time instead of sleeping. The owning user's lock guards it.
type tokenBucket struct {
	tokens  float64
	updated time.Time
}

// take spends a token if there is one; otherwise it reports how long until
// there will be. A clock that steps back refills nothing.
func (b *tokenBucket) take(now time.Time, rate, burst float64) (wait time.Duration, ok bool) {
	if elapsed := now.Sub(b.updated); elapsed > 0 {
		b.tokens = min(burst, b.tokens+elapsed.Seconds()*rate)
		b.updated = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second))), false
}

// rateLimit lets an authenticated request through or says how long to wait.
func (s *Server) rateLimit(u *user) (wait time.Duration, ok bool) {
	if s.rate == 0 {
		return 0, true
	}
	now := s.clock()
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.bucket.take(now, s.rate, s.burst)
}
