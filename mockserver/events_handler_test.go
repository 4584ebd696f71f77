package mockserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

type eventsBody struct {
	Start string              `json:"start"`
	End   string              `json:"end"`
	Chunk []presenceEventBody `json:"chunk"`
}

type initialSyncBody struct {
	End      string              `json:"end"`
	Presence []presenceEventBody `json:"presence"`
	Rooms    []struct {
		RoomID     string `json:"room_id"`
		Membership string `json:"membership"`
	} `json:"rooms"`
}

func v1Users(events []presenceEventBody) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Content.UserID)
	}
	return out
}

func (h *harness) initialSync(acct Account) initialSyncBody {
	h.t.Helper()
	r := mustOK(h.t, h.as(acct.AccessToken, "GET", v1Prefix+"/initialSync", ""))
	var b initialSyncBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.End == "" || b.Presence == nil || b.Rooms == nil {
		h.t.Fatalf("initialSync: %v: %s", err, r.body)
	}
	return b
}

func (h *harness) events(acct Account, query string) eventsBody {
	h.t.Helper()
	r := mustOK(h.t, h.as(acct.AccessToken, "GET", v1Prefix+"/events?"+query, ""))
	var b eventsBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.End == "" || b.Start == "" || b.Chunk == nil {
		h.t.Fatalf("events: %v: %s", err, r.body)
	}
	return b
}

// listing is bob with alice on his list; carol lists nobody and nobody
// lists her.
func newListing(t *testing.T) (h *harness, a, b, c Account) {
	h = newHarness(t)
	a, b, c = h.register("alice"), h.register("bob"), h.register("carol")
	mustOK(t, h.as(b.AccessToken, "POST", listPath(b.UserID), `{"invite":["`+a.UserID+`"]}`))
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"free_for_chat","status_msg":"hello"}`))
	mustOK(t, h.as(c.AccessToken, "PUT", statusPath(c.UserID), `{"presence":"online"}`))
	return h, a, b, c
}

func TestInitialSyncV1(t *testing.T) {
	h, a, b, c := newListing(t)
	before := h.world()
	s := h.initialSync(b)
	h.unchanged("initialSync", before) // v1 reads mark nobody active
	if got := v1Users(s.Presence); !slices.Equal(slices.Sorted(slices.Values(got)), []string{a.UserID, b.UserID}) {
		t.Errorf("initialSync presence from %v, want alice (listed) and bob", got)
	}
	var ids []string
	for _, e := range s.Presence {
		if e.EventID == "" || e.Type != "m.presence" || e.Sender != "" {
			t.Errorf("v1 event: %+v", e)
		}
		ids = append(ids, e.EventID)
		if e.Content.UserID == a.UserID && (e.Content.Presence != "free_for_chat" || *e.Content.StatusMsg != "hello") {
			t.Errorf("alice's state: %+v", e.Content)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		t.Errorf("event IDs repeat: %v", ids)
	}
	if cs := h.initialSync(c); !slices.Equal(v1Users(cs.Presence), []string{c.UserID}) {
		t.Errorf("carol lists nobody, yet got %v", v1Users(cs.Presence))
	}
	// Rooms made through r0 show as joined.
	roomID := h.createRoom(r0Prefix, b)
	if s := h.initialSync(b); len(s.Rooms) != 1 || s.Rooms[0].RoomID != roomID || s.Rooms[0].Membership != "join" {
		t.Errorf("rooms: %+v", s.Rooms)
	}
	for _, bad := range []string{"x", "-1", "1.5"} {
		before := h.world()
		expectError(t, h.as(b.AccessToken, "GET", v1Prefix+"/initialSync?limit="+bad, ""), http.StatusBadRequest, "M_INVALID_PARAM")
		h.unchanged("limit="+bad, before)
	}
}

func TestEventStreamV1(t *testing.T) {
	h, a, b, c := newListing(t)
	end := h.initialSync(b).End
	if e := h.events(b, q("from", end)); len(e.Chunk) != 0 || e.Start != end {
		t.Errorf("nothing changed, yet: %+v", e)
	}
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"back"}`))
	mustOK(t, h.as(c.AccessToken, "PUT", statusPath(c.UserID), `{"presence":"unavailable"}`)) // not listed
	e := h.events(b, q("from", end))
	if !slices.Equal(v1Users(e.Chunk), []string{a.UserID}) || e.Chunk[0].Content.Presence != "online" || e.Chunk[0].EventID == "" {
		t.Fatalf("after alice's changes: %+v", e)
	}
	if again := h.events(b, q("from", e.End)); len(again.Chunk) != 0 {
		t.Errorf("repeated after its token: %v", v1Users(again.Chunk))
	}
	// Without from, the stream starts now.
	if now := h.events(b, ""); len(now.Chunk) != 0 {
		t.Errorf("without from: %v", v1Users(now.Chunk))
	}
	// Carol never receives alice's presence.
	cEnd := h.initialSync(c).End
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"offline"}`))
	if ce := h.events(c, q("from", cEnd)); slices.Contains(v1Users(ce.Chunk), a.UserID) {
		t.Errorf("carol got alice's presence: %v", v1Users(ce.Chunk))
	}
	for _, bad := range []string{"", "nope", "s99999_zz", e.End + "0"} {
		before := h.world()
		expectError(t, h.as(b.AccessToken, "GET", v1Prefix+"/events?"+q("from", bad), ""), http.StatusBadRequest, "M_INVALID_PARAM")
		h.unchanged("from="+bad, before)
	}
	expectError(t, h.as(b.AccessToken, "GET", v1Prefix+"/events?timeout=x", ""), http.StatusBadRequest, "M_INVALID_PARAM")
	// The routes are v1's alone, and /sync is not v1's.
	expectError(t, h.as(b.AccessToken, "GET", v1Prefix+"/sync", ""), http.StatusNotFound, "M_UNRECOGNIZED")
	expectError(t, h.as(b.AccessToken, "GET", r0Prefix+"/events", ""), http.StatusNotFound, "M_UNRECOGNIZED")
}

func TestEventStreamLongPollV1(t *testing.T) {
	h, a, b, c := newListing(t)
	end := h.initialSync(b).End
	out := make(chan response, 1)
	req := httptest.NewRequest("GET", v1Prefix+"/events?"+q("from", end, "timeout", "60000", "access_token", b.AccessToken), nil)
	go func() {
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		out <- response{status: rec.Code, body: rec.Body.Bytes()}
	}()
	mustOK(t, h.as(c.AccessToken, "PUT", statusPath(c.UserID), `{"presence":"unavailable"}`))
	select {
	case r := <-out:
		t.Fatalf("answered on the change of a user bob does not list: %s", r)
	case <-time.After(300 * time.Millisecond):
	}
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
	select {
	case r := <-out:
		var e eventsBody
		json.Unmarshal(r.body, &e)
		if !slices.Equal(v1Users(e.Chunk), []string{a.UserID}) {
			t.Errorf("woken with %s", r.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("not woken by alice's change")
	}
	// A client that goes away frees its wait.
	ctx, cancel := context.WithCancel(context.Background())
	req = httptest.NewRequest("GET", v1Prefix+"/events?"+q("timeout", "300000", "access_token", b.AccessToken), nil).WithContext(ctx)
	done := make(chan struct{})
	go func() { h.srv.ServeHTTP(httptest.NewRecorder(), req); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("kept waiting after the client went away")
	}
}
