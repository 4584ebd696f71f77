package mockserver

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Each fault that applies a refused request later refuses it as the
// reference does, shows nothing at once, and shows the write once
// refusedLag has passed: what only a watching suite can catch.
func TestRefusedRequestsLandLater(t *testing.T) {
	type setup struct {
		refuse func(h *harness, alice, mallory Account) response
		read   func(h *harness, alice Account) string
		// filter, when set, is uploaded first and read back by ID.
		filter bool
		status int
	}
	ownStatus := func(h *harness, alice Account) string {
		return string(h.as(alice.AccessToken, "GET", statusPath(alice.UserID), "").body)
	}
	cases := map[string]setup{
		"foreign-put-applied-later": {
			refuse: func(h *harness, alice, mallory Account) response {
				return h.as(mallory.AccessToken, "PUT", statusPath(alice.UserID), `{"presence":"offline","status_msg":"hijacked"}`)
			},
			read:   ownStatus,
			status: http.StatusForbidden,
		},
		"bad-presence-applied-later": {
			refuse: func(h *harness, alice, _ Account) response {
				return h.as(alice.AccessToken, "PUT", statusPath(alice.UserID), `{"presence":"away"}`)
			},
			read:   ownStatus,
			status: http.StatusBadRequest,
		},
		"bad-shape-applied-later": {
			refuse: func(h *harness, alice, _ Account) response {
				return h.as(alice.AccessToken, "PUT", statusPath(alice.UserID), `{"status_msg":"here"}`)
			},
			read:   ownStatus,
			status: http.StatusBadRequest,
		},
		"foreign-list-change-applied-later": {
			refuse: func(h *harness, alice, mallory Account) response {
				return h.as(mallory.AccessToken, "POST", listPath(alice.UserID), `{"invite":["`+mallory.UserID+`"]}`)
			},
			read: func(h *harness, alice Account) string {
				return string(h.as(alice.AccessToken, "GET", listPath(alice.UserID), "").body)
			},
			status: http.StatusForbidden,
		},
		"bad-invite-applied-later": {
			refuse: func(h *harness, alice, mallory Account) response {
				return h.as(alice.AccessToken, "POST", listPath(alice.UserID), `{"invite":["`+mallory.UserID+`","not-a-user-id"]}`)
			},
			read: func(h *harness, alice Account) string {
				return string(h.as(alice.AccessToken, "GET", listPath(alice.UserID), "").body)
			},
			status: http.StatusBadRequest,
		},
		"bad-set-presence-applied-later": {
			refuse: func(h *harness, alice, _ Account) response {
				return h.as(alice.AccessToken, "GET", v3Prefix+"/sync?set_presence=busy", "")
			},
			read: func(h *harness, alice Account) string {
				return string(h.as(alice.AccessToken, "GET", statusPathIn(v3Prefix, alice.UserID), "").body)
			},
			status: http.StatusBadRequest,
		},
		"malformed-filter-stored-later": {
			refuse: func(h *harness, alice, _ Account) response {
				return h.as(alice.AccessToken, "POST", v3Prefix+"/user/"+alice.UserID+"/filter", `{"presence":{"limit":"ten"}}`)
			},
			filter: true,
			status: http.StatusBadRequest,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fault, ok := LookupDeviation(name)
			if !ok {
				t.Fatalf("no fault %s", name)
			}
			h := newHarness(t, func(o *Options) { o.Deviations = []Deviation{fault} })
			alice, mallory := h.register("alice"), h.register("mallory")
			if c.filter {
				created := mustOK(t, h.as(alice.AccessToken, "POST", v3Prefix+"/user/"+alice.UserID+"/filter", `{"presence":{"senders":["@a:b"]}}`))
				var body struct {
					FilterID string `json:"filter_id"`
				}
				json.Unmarshal(created.body, &body)
				c.read = func(h *harness, alice Account) string {
					return string(h.as(alice.AccessToken, "GET", v3Prefix+"/user/"+alice.UserID+"/filter/"+body.FilterID, "").body)
				}
			}
			mustOK(t, h.as(alice.AccessToken, "PUT", statusPath(alice.UserID), `{"presence":"unavailable","status_msg":"mine"}`))
			before := c.read(h, alice)
			if got := c.refuse(h, alice, mallory); got.status != c.status {
				t.Fatalf("refused with %s, want %d", got, c.status)
			}
			if now := c.read(h, alice); now != before {
				t.Fatalf("changed at once: %s, then %s; the fault must wait", before, now)
			}
			deadline := time.Now().Add(10 * refusedLag)
			for c.read(h, alice) == before {
				if time.Now().After(deadline) {
					t.Fatalf("still %s after %s: the refused write never landed", before, 10*refusedLag)
				}
				time.Sleep(refusedLag / 5)
			}
		})
	}
}

func TestFilterRoute(t *testing.T) {
	for path, want := range map[string][3]string{
		"/_matrix/client/v3/user/@a:b/filter":     {"@a:b", "", "true"},
		"/_matrix/client/r0/user/@a:b/filter/12":  {"@a:b", "12", "true"},
		"/_matrix/client/v3/user/@a:b/account":    {"", "", "false"},
		"/_matrix/client/v3/user/@a:b/filter/1/x": {"", "", "false"},
	} {
		user, filter, ok := filterRoute(path)
		if got := [3]string{user, filter, map[bool]string{true: "true", false: "false"}[ok]}; got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}

// stale-event-first puts an older event of the same user before each
// m.presence event, with an event ID of its own, and leaves others alone.
func TestStaleFirst(t *testing.T) {
	events := []any{
		map[string]any{"type": "m.presence", "event_id": "$1", "content": map[string]any{"presence": "online", "status_msg": "hi"}},
		map[string]any{"type": "m.typing"},
	}
	out := staleFirst(events)
	if len(out) != 3 {
		t.Fatalf("%d events, want 3: %v", len(out), out)
	}
	stale, latest := out[0].(map[string]any), out[1].(map[string]any)
	if stale["event_id"] != "$1-stale" || stale["content"].(map[string]any)["presence"] != "offline" {
		t.Errorf("stale copy %v", stale)
	}
	if latest["event_id"] != "$1" || latest["content"].(map[string]any)["status_msg"] != "hi" {
		t.Errorf("the latest event changed: %v", latest)
	}
}
