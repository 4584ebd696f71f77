package mockserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Whether the suite catches each delivery fault is cmd/mxpresence's test;
// here, each fault does break what it says, and each variation changes
// what it says while presence still gets through. probe runs a scenario
// and reports whether the reference behaviour held; it must hold on the
// reference server and fail with the deviation on.
func TestDeliveryDeviationsDoWhatTheySay(t *testing.T) {
	type probe func(t *testing.T, h *harness) bool
	// scenario: alice and bob share a room, carol is alone, bob holds a
	// token from before alice's latest change.
	later := func(prefix string, check func(t *testing.T, h *harness, a, b, c Account, tok string) bool) probe {
		return func(t *testing.T, h *harness) bool {
			a, b, c := h.register("alice"), h.register("bob"), h.register("carol")
			roomID := h.createRoom(prefix, a, b.UserID)
			mustOK(t, h.joinRoom(prefix, b, roomID))
			h.putPresence(prefix, c, `{"presence":"online"}`)
			// Read as a map: some faults break the body's types.
			var first map[string]any
			json.Unmarshal(mustOK(t, h.as(b.AccessToken, "GET", prefix+"/sync?set_presence=offline", "")).body, &first)
			tok, _ := first["next_batch"].(string)
			h.putPresence(prefix, a, `{"presence":"online","status_msg":"hi"}`)
			return check(t, h, a, b, c, tok)
		}
	}
	syncOK := func(h *harness, acct Account, prefix, query string) (syncBody, bool) {
		r := h.as(acct.AccessToken, "GET", prefix+"/sync?"+query, "")
		if r.status != http.StatusOK {
			return syncBody{}, false
		}
		var b syncBody
		return b, json.Unmarshal(r.body, &b) == nil
	}
	v1 := func(check func(t *testing.T, h *harness, a, b, c Account, end string) bool) probe {
		return func(t *testing.T, h *harness) bool {
			a, b, c := h.register("alice"), h.register("bob"), h.register("carol")
			mustOK(t, h.as(b.AccessToken, "POST", listPath(b.UserID), `{"invite":["`+a.UserID+`"]}`))
			end := h.initialSync(b).End
			mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online"}`))
			return check(t, h, a, b, c, end)
		}
	}
	carries := func(b syncBody, id string) bool { return b.eventFrom(id) != nil }
	probes := map[string]probe{
		"sync-without-presence": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, q("since", tok, "set_presence", "offline"))
			return carries(s, a.UserID)
		}),
		"sync-event-without-sender": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, r0Prefix, q("since", tok, "set_presence", "offline"))
			return len(s.Presence.Events) == 1 && s.Presence.Events[0].Sender == a.UserID
		}),
		"sync-currently-active-string": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			r := h.as(b.AccessToken, "GET", v3Prefix+"/sync?"+q("since", tok), "")
			return strings.Contains(string(r.body), `"currently_active":true`)
		}),
		"sync-duplicate-events": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, r0Prefix, q("since", tok, "set_presence", "offline"))
			return slices.Equal(s.senders(), []string{a.UserID})
		}),
		"sync-without-next-batch": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			return strings.Contains(string(h.as(b.AccessToken, "GET", v3Prefix+"/sync", "").body), `"next_batch"`)
		}),
		"sync-rooms-join-empty": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, r0Prefix, "")
			return len(s.Rooms.Join) == 1
		}),
		"incremental-sync-resends-everything": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, q("since", tok, "set_presence", "offline"))
			again, _ := syncOK(h, b, v3Prefix, q("since", s.NextBatch, "set_presence", "offline"))
			return slices.Equal(s.senders(), []string{a.UserID}) && len(again.Presence.Events) == 0
		}),
		"sync-long-poll-sleeps": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			next, _ := syncOK(h, b, r0Prefix, q("since", tok, "set_presence", "offline"))
			waiting := h.waitSync(t.Context(), r0Prefix, b, q("since", next.NextBatch, "timeout", "1500", "set_presence", "offline"))
			time.Sleep(50 * time.Millisecond)
			h.putPresence(r0Prefix, a, `{"presence":"unavailable"}`)
			select {
			case <-waiting:
				return true
			case <-time.After(1000 * time.Millisecond):
				<-waiting
				return false
			}
		}),
		"unknown-since-accepted": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			return h.as(b.AccessToken, "GET", v3Prefix+"/sync?since=nope", "").status == http.StatusBadRequest
		}),
		"set-presence-ignored": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			syncOK(h, c, r0Prefix, "set_presence=unavailable")
			return h.presenceOf(c) == "unavailable"
		}),
		"set-presence-offline-marks-online": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			syncOK(h, b, v3Prefix, "set_presence=offline")
			return h.presenceOf(b) == "offline"
		}),
		"set-presence-bad-value-accepted": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			return h.as(b.AccessToken, "GET", r0Prefix+"/sync?set_presence=away", "").status == http.StatusBadRequest && h.presenceOf(b) == "offline"
		}),
		"inline-filter-ignored": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, q("filter", `{"presence":{"not_types":["m.presence"]}}`))
			return len(s.Presence.Events) == 0
		}),
		"filter-id-ignored": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			mustOK(t, h.as(b.AccessToken, "POST", filterPath(r0Prefix, b.UserID), `{"presence":{"types":[]}}`))
			s, _ := syncOK(h, b, r0Prefix, q("filter", "1"))
			return len(s.Presence.Events) == 0
		}),
		"presence-limit-ignored": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, q("filter", `{"presence":{"limit":1}}`, "set_presence", "offline"))
			return len(s.Presence.Events) == 1
		}),
		"bad-filter-accepted": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			return h.as(b.AccessToken, "POST", filterPath(r0Prefix, b.UserID), `nope`).status == http.StatusBadRequest &&
				h.as(b.AccessToken, "GET", r0Prefix+"/sync?"+q("filter", `{nope`), "").status == http.StatusBadRequest
		}),
		"foreign-filter-readable": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			mustOK(t, h.as(b.AccessToken, "POST", filterPath(v3Prefix, b.UserID), `{}`))
			return h.as(a.AccessToken, "GET", filterPath(v3Prefix, b.UserID)+"/1", "").status == http.StatusForbidden
		}),
		"unknown-filter-200": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			return h.as(b.AccessToken, "GET", filterPath(r0Prefix, b.UserID)+"/42", "").status == http.StatusNotFound
		}),
		"presence-leaked-to-strangers": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, c, v3Prefix, "set_presence=offline")
			return !carries(s, a.UserID)
		}),
		"delivery-continues-after-leave":  leaveProbe(r0Prefix),
		"delivery-stops-late-after-leave": leaveProbe(v3Prefix),
		"v1-events-without-event-id": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			e := h.events(b, q("from", end))
			return len(e.Chunk) == 1 && e.Chunk[0].EventID != ""
		}),
		"events-from-ignored": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			e := h.events(b, q("from", end))
			return len(h.events(b, q("from", e.End)).Chunk) == 0
		}),
		"events-long-poll-sleeps": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			e := h.events(b, q("from", end))
			done := make(chan struct{})
			go func() {
				h.as(b.AccessToken, "GET", v1Prefix+"/events?"+q("from", e.End, "timeout", "1500"), "")
				close(done)
			}()
			time.Sleep(50 * time.Millisecond)
			mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
			select {
			case <-done:
				return true
			case <-time.After(1000 * time.Millisecond):
				<-done
				return false
			}
		}),
		"unknown-from-accepted": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			return h.as(b.AccessToken, "GET", v1Prefix+"/events?from=nope", "").status == http.StatusBadRequest
		}),
		"initial-sync-without-presence": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			return slices.Contains(v1Users(h.initialSync(b).Presence), a.UserID)
		}),
		"events-leaked-to-unlisted": v1(func(t *testing.T, h *harness, a, b, c Account, end string) bool {
			return !slices.Contains(v1Users(h.initialSync(c).Presence), a.UserID)
		}),
	}
	// Variations: the reference's choice holds without, not with; and
	// presence still reaches the room-mate.
	variationProbes := map[string]probe{
		"delivery-late": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, q("since", tok, "set_presence", "offline"))
			return carries(s, a.UserID)
		}),
		"own-presence-absent": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, r0Prefix, "set_presence=offline")
			return carries(s, b.UserID)
		}),
		"opaque-tokens": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, v3Prefix, "set_presence=offline")
			return strings.HasPrefix(s.NextBatch, "s")
		}),
		"currently-active-omitted": later(r0Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, b, r0Prefix, "set_presence=offline")
			ev := s.eventFrom(a.UserID)
			return ev != nil && ev.Content.CurrentlyActive != nil
		}),
		"offline-mates-omitted": later(v3Prefix, func(t *testing.T, h *harness, a, b, c Account, tok string) bool {
			s, _ := syncOK(h, a, v3Prefix, "set_presence=offline")
			return carries(s, b.UserID) // bob has never come online
		}),
	}
	for _, d := range append(Faults(), Variations()...) {
		p, ok := probes[d.Name]
		if d.Kind == Variation {
			p, ok = variationProbes[d.Name]
		}
		if !ok {
			continue // not a delivery deviation
		}
		delete(probes, d.Name)
		delete(variationProbes, d.Name)
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			if !p(t, newHarness(t, func(o *Options) { o.Clock = time.Now })) {
				t.Fatal("the reference fails the probe")
			}
			if p(t, newHarness(t, func(o *Options) { o.Clock = time.Now; o.Deviations = []Deviation{d} })) {
				t.Fatal("the deviation is on, yet the probe sees the reference behaviour")
			}
		})
	}
	for name := range probes {
		t.Errorf("no fault %s", name)
	}
	for name := range variationProbes {
		t.Errorf("no variation %s", name)
	}
	// Under each variation, a long-poll still gets the change.
	for _, name := range []string{"delivery-late", "opaque-tokens", "own-presence-absent", "currently-active-omitted", "offline-mates-omitted"} {
		d, _ := LookupDeviation(name)
		t.Run(name+"/delivers", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(o *Options) { o.Clock = time.Now; o.Deviations = []Deviation{d} })
			a, b := h.register("alice"), h.register("bob")
			mustOK(t, h.joinRoom(v3Prefix, b, h.createRoom(v3Prefix, a, b.UserID)))
			tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
			waiting := h.waitSync(t.Context(), v3Prefix, b, q("since", tok, "timeout", "20000", "set_presence", "offline"))
			h.putPresence(v3Prefix, a, `{"presence":"online","status_msg":"through"}`)
			select {
			case r := <-waiting:
				if s := decodeSync(t, r); s.eventFrom(a.UserID) == nil {
					t.Errorf("woken without alice's change: %s", r.body)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("not woken")
			}
		})
	}
}

// leaveProbe: after bob leaves the room he shared with alice, his syncs
// stop carrying her changes, also a second later.
func leaveProbe(prefix string) func(t *testing.T, h *harness) bool {
	return func(t *testing.T, h *harness) bool {
		a, b := h.register("alice"), h.register("bob")
		roomID := h.createRoom(prefix, a, b.UserID)
		mustOK(t, h.joinRoom(prefix, b, roomID))
		tok := h.syncAs(prefix, b, "set_presence=offline").NextBatch
		mustOK(t, h.as(b.AccessToken, "POST", prefix+"/rooms/"+url.PathEscape(roomID)+"/leave", `{}`))
		tok = h.syncAs(prefix, b, q("since", tok, "set_presence", "offline")).NextBatch
		time.Sleep(300 * time.Millisecond)
		h.putPresence(prefix, a, `{"presence":"unavailable"}`)
		return h.syncAs(prefix, b, q("since", tok, "set_presence", "offline")).eventFrom(a.UserID) == nil
	}
}
