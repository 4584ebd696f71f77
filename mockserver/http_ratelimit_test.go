package mockserver

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	start := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	b := tokenBucket{tokens: 2, updated: start}
	take := func(at time.Duration, wantOK bool, wantWait time.Duration) {
		t.Helper()
		wait, ok := b.take(start.Add(at), 4, 2) // 4 per second, burst 2
		if ok != wantOK || wait != wantWait {
			t.Errorf("take at %v = %v, %v; want %v, %v", at, wait, ok, wantWait, wantOK)
		}
	}
	take(0, true, 0)
	take(0, true, 0)
	take(0, false, 250*time.Millisecond)
	take(100*time.Millisecond, false, 150*time.Millisecond)
	take(250*time.Millisecond, true, 0)
	take(time.Hour, true, 0) // refills to the burst, no more
	take(time.Hour, true, 0)
	take(time.Hour, false, 250*time.Millisecond)
	take(time.Hour-time.Minute, false, 250*time.Millisecond) // a clock stepping back refills nothing
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 2 })
	a := h.register("alice")
	b := h.register("bob")
	put := func(acct Account, state string) response {
		return h.as(acct.AccessToken, "PUT", statusPath(acct.UserID), `{"presence":"`+state+`"}`)
	}
	mustOK(t, put(a, "online"))
	mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")) // reads count too
	r := put(a, "unavailable")
	expectError(t, r, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	var body struct {
		RetryAfterMs int64 `json:"retry_after_ms"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.RetryAfterMs != 500 {
		t.Errorf("retry_after_ms: %s (%v), want 500", r.body, err)
	}
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q, want 1", got)
	}
	mustOK(t, put(b, "online")) // each user has their own bucket
	// Register and login are not limited: they carry no user to charge.
	for range 5 {
		mustOK(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"secret-alice"}`, nil))
	}
	h.clock.Advance(499 * time.Millisecond)
	expectError(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""), http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	h.clock.Advance(time.Millisecond)
	r = mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""))
	if got := decodeJSON(t, r.body).(map[string]any)["presence"]; got != "online" {
		t.Errorf("the limited PUT changed presence to %v", got)
	}
}

func TestDefaultRateLimit(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false })
	a := h.register("alice")
	for i := range DefaultRateLimit {
		if r := h.as(a.AccessToken, "GET", statusPath(a.UserID), ""); r.status != http.StatusOK {
			t.Fatalf("request %d of the burst: %s", i+1, r)
		}
	}
	expectError(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""), http.StatusTooManyRequests, "M_LIMIT_EXCEEDED")
	h.clock.Advance(time.Second / DefaultRateLimit)
	mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""))
}

func TestRateLimitOptions(t *testing.T) {
	for _, tt := range []struct {
		opts        Options
		rate, burst float64
	}{
		{Options{}, DefaultRateLimit, DefaultRateLimit},
		{Options{RateLimit: 0.5}, 0.5, 1},
		{Options{RateLimit: 7}, 7, 7},
		{Options{RateLimit: -3}, DefaultRateLimit, DefaultRateLimit},
		{Options{RateLimit: math.NaN()}, DefaultRateLimit, DefaultRateLimit},
		{Options{RateLimit: 7, NoRateLimit: true}, 0, 0},
	} {
		s := New(tt.opts)
		if s.rate != tt.rate || s.burst != tt.burst {
			t.Errorf("%+v: rate %v burst %v, want %v %v", tt.opts, s.rate, s.burst, tt.rate, tt.burst)
		}
	}
	h := newHarness(t) // NoRateLimit
	a := h.register("alice")
	for range 3 * DefaultRateLimit {
		mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""))
	}
}
