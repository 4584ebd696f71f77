package mockserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

type presenceEventBody struct {
	Type    string `json:"type"`
	Sender  string `json:"sender"`
	EventID string `json:"event_id"`
	Content struct {
		UserID          string  `json:"user_id"`
		Presence        string  `json:"presence"`
		StatusMsg       *string `json:"status_msg"`
		LastActiveAgo   *int64  `json:"last_active_ago"`
		CurrentlyActive *bool   `json:"currently_active"`
	} `json:"content"`
}

type syncBody struct {
	NextBatch string `json:"next_batch"`
	Presence  struct {
		Events []presenceEventBody `json:"events"`
	} `json:"presence"`
	Rooms struct {
		Join   map[string]json.RawMessage `json:"join"`
		Invite map[string]json.RawMessage `json:"invite"`
		Leave  map[string]json.RawMessage `json:"leave"`
	} `json:"rooms"`
}

// senders lists who a sync's presence events are from, in order.
func (b syncBody) senders() []string {
	var out []string
	for _, e := range b.Presence.Events {
		out = append(out, e.Sender)
	}
	return out
}

func (b syncBody) eventFrom(userID string) *presenceEventBody {
	for i := range b.Presence.Events {
		if b.Presence.Events[i].Sender == userID {
			return &b.Presence.Events[i]
		}
	}
	return nil
}

// syncAs sends GET /sync with the query given and decodes a 200.
func (h *harness) syncAs(prefix string, acct Account, query string) syncBody {
	h.t.Helper()
	r := mustOK(h.t, h.as(acct.AccessToken, "GET", prefix+"/sync?"+query, ""))
	var b syncBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		h.t.Fatalf("sync body: %v: %s", err, r.body)
	}
	if b.NextBatch == "" {
		h.t.Fatalf("sync without next_batch: %s", r.body)
	}
	return b
}

func (h *harness) putPresence(prefix string, acct Account, body string) {
	h.t.Helper()
	mustOK(h.t, h.as(acct.AccessToken, "PUT", statusPathIn(prefix, acct.UserID), body))
}

// stateOfUser reads a user's stored presence straight from the store.
func (h *harness) presenceOf(acct Account) string {
	return h.srv.userByID(acct.UserID).state().presence
}

// trio is alice and bob in one room, carol in none, all having set a
// presence, through prefix.
func newTrio(t *testing.T, prefix string) (h *harness, a, b, c Account, roomID string) {
	h = newHarness(t)
	a, b, c = h.register("alice"), h.register("bob"), h.register("carol")
	roomID = h.createRoom(prefix, a, b.UserID)
	mustOK(t, h.joinRoom(prefix, b, roomID))
	h.putPresence(prefix, a, `{"presence":"online","status_msg":"at my desk"}`)
	h.putPresence(prefix, b, `{"presence":"unavailable"}`)
	h.putPresence(prefix, c, `{"presence":"online","status_msg":"secret"}`)
	return h, a, b, c, roomID
}

func q(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

func TestInitialSyncCarriesRoomMatesAndRooms(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h, a, b, c, roomID := newTrio(t, prefix)
			s := h.syncAs(prefix, b, q("set_presence", "offline"))
			if got := s.senders(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{a.UserID, b.UserID}) {
				t.Errorf("initial sync senders %v, want alice and bob (own included), never carol", got)
			}
			ev := s.eventFrom(a.UserID)
			if ev == nil || ev.Type != "m.presence" || ev.Content.Presence != "online" || ev.Content.StatusMsg == nil || *ev.Content.StatusMsg != "at my desk" ||
				ev.Content.LastActiveAgo == nil || ev.Content.CurrentlyActive == nil || !*ev.Content.CurrentlyActive {
				t.Errorf("alice's event: %+v", ev)
			}
			if own := s.eventFrom(b.UserID); own == nil || own.Content.Presence != "unavailable" || own.Content.StatusMsg != nil || *own.Content.CurrentlyActive {
				t.Errorf("bob's own event: %+v", own)
			}
			if _, ok := s.Rooms.Join[roomID]; !ok || len(s.Rooms.Join) != 1 {
				t.Errorf("rooms.join %v, want exactly %s", s.Rooms.Join, roomID)
			}
			if cs := h.syncAs(prefix, c, ""); len(cs.Rooms.Join) != 0 || !slices.Equal(cs.senders(), []string{c.UserID}) {
				t.Errorf("carol, in no room, got %v and rooms %v", cs.senders(), cs.Rooms.Join)
			}
		})
	}
}

func TestIncrementalSyncCarriesOnlyChangesOnceEach(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h, a, b, c, _ := newTrio(t, prefix)
			first := h.syncAs(prefix, b, q("set_presence", "offline"))
			quiet := h.syncAs(prefix, b, q("since", first.NextBatch, "set_presence", "offline"))
			if len(quiet.Presence.Events) != 0 || len(quiet.Rooms.Join) != 0 {
				t.Errorf("nothing changed, yet got %v and rooms %v", quiet.senders(), quiet.Rooms.Join)
			}
			h.putPresence(prefix, a, `{"presence":"unavailable","status_msg":"one"}`)
			h.putPresence(prefix, a, `{"presence":"online","status_msg":"two"}`)
			h.putPresence(prefix, c, `{"presence":"unavailable"}`) // a stranger's change
			next := h.syncAs(prefix, b, q("since", quiet.NextBatch, "set_presence", "offline"))
			if !slices.Equal(next.senders(), []string{a.UserID}) {
				t.Fatalf("after two changes by alice, got %v, want alice once", next.senders())
			}
			if ev := next.Presence.Events[0]; ev.Content.Presence != "online" || *ev.Content.StatusMsg != "two" {
				t.Errorf("not the latest state: %+v", ev)
			}
			again := h.syncAs(prefix, b, q("since", next.NextBatch, "set_presence", "offline"))
			if len(again.Presence.Events) != 0 {
				t.Errorf("resent unchanged presence: %v", again.senders())
			}
			// An older token still works and brings the change again.
			if old := h.syncAs(prefix, b, q("since", quiet.NextBatch, "set_presence", "offline")); !slices.Equal(old.senders(), []string{a.UserID}) {
				t.Errorf("older token: %v", old.senders())
			}
		})
	}
}

func TestUnknownSinceTokenRefused(t *testing.T) {
	h, _, b, _, _ := newTrio(t, v3Prefix)
	other := newHarness(t)
	ob := other.register("bob")
	foreign := other.syncAs(v3Prefix, ob, "").NextBatch
	issued := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	pos, tag, _ := strings.Cut(strings.TrimPrefix(issued, "s"), "_")
	for _, tok := range []string{"", "garbage", foreign, "s999999_" + tag, "s0" + pos + "_" + tag, "s+1_" + tag, "s" + pos, pos + "_" + tag, "s-1_" + tag, issued + "x"} {
		before := h.world()
		r := h.as(b.AccessToken, "GET", v3Prefix+"/sync?"+q("since", tok), "") // set_presence omitted: would mark bob online
		expectError(t, r, http.StatusBadRequest, "M_INVALID_PARAM")
		h.unchanged("since="+tok, before)
	}
}

func TestSetPresenceOnSync(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h := newHarness(t)
			a := h.register("alice")
			h.syncAs(prefix, a, "") // omitted: an offline user comes online
			if got := h.presenceOf(a); got != "online" {
				t.Errorf("after a sync with set_presence omitted: %s", got)
			}
			h.syncAs(prefix, a, "set_presence=unavailable")
			if got := h.presenceOf(a); got != "unavailable" {
				t.Errorf("after set_presence=unavailable: %s", got)
			}
			h.syncAs(prefix, a, "set_presence=offline")
			if got := h.presenceOf(a); got != "unavailable" {
				t.Errorf("set_presence=offline changed unavailable to %s", got)
			}
			h.putPresence(prefix, a, `{"presence":"offline","status_msg":"kept"}`)
			before := h.world()
			h.syncAs(prefix, a, "set_presence=offline")
			h.unchanged("set_presence=offline", before)
			h.syncAs(prefix, a, "set_presence=online")
			st := h.srv.userByID(a.UserID).state()
			if st.presence != "online" || st.statusMsg != "kept" {
				t.Errorf("set_presence=online: %+v; the status message stays", st)
			}
			for _, bad := range []string{"", "away", "ONLINE", "free_for_chat", "online ", "hidden"} {
				before := h.world()
				h.clock.Advance(time.Minute) // so that marking active would show
				r := h.as(a.AccessToken, "GET", prefix+"/sync?"+q("set_presence", bad), "")
				expectError(t, r, http.StatusBadRequest, "M_INVALID_PARAM")
				h.unchanged("set_presence="+bad, before)
			}
		})
	}
}

func TestBadTimeoutAndFullStateRefused(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, query := range []string{"timeout=soon", "timeout=-1", "timeout=1.5", "timeout=", "full_state=yes", "full_state="} {
		before := h.world()
		expectError(t, h.as(a.AccessToken, "GET", v3Prefix+"/sync?"+query, ""), http.StatusBadRequest, "M_INVALID_PARAM")
		h.unchanged(query, before)
	}
	// full_state=true answers at once even with a long timeout.
	first := h.syncAs(v3Prefix, a, "")
	h.syncAs(v3Prefix, a, q("since", first.NextBatch, "full_state", "true", "timeout", "600000"))
}

func TestLeavingStopsDelivery(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h, a, b, _, roomID := newTrio(t, prefix)
			tok := h.syncAs(prefix, b, "set_presence=offline").NextBatch
			mustOK(t, h.as(b.AccessToken, "POST", prefix+"/rooms/"+url.PathEscape(roomID)+"/leave", `{}`))
			h.putPresence(prefix, a, `{"presence":"unavailable","status_msg":"after the leave"}`)
			if s := h.syncAs(prefix, b, q("since", tok, "set_presence", "offline")); s.eventFrom(a.UserID) != nil {
				t.Errorf("delivered after the leave: %v", s.senders())
			}
			if s := h.syncAs(prefix, b, "set_presence=offline"); s.eventFrom(a.UserID) != nil || len(s.Rooms.Join) != 0 {
				t.Errorf("initial sync after the leave: %v, rooms %v", s.senders(), s.Rooms.Join)
			}
		})
	}
}

func TestJoiningBringsTheNewMatesPresence(t *testing.T) {
	h, a, b, c, _ := newTrio(t, r0Prefix)
	bobTok := h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch
	carolTok := h.syncAs(r0Prefix, c, "set_presence=offline").NextBatch
	// Alice's room is private: invite carol through a second room instead.
	room2 := h.createRoom(r0Prefix, a, c.UserID)
	mustOK(t, h.joinRoom(r0Prefix, c, room2))
	cs := h.syncAs(r0Prefix, c, q("since", carolTok, "set_presence", "offline"))
	if cs.eventFrom(a.UserID) == nil || cs.eventFrom(b.UserID) != nil {
		t.Errorf("carol after joining alice's room: %v", cs.senders())
	}
	if _, ok := cs.Rooms.Join[room2]; !ok || len(cs.Rooms.Join) != 1 {
		t.Errorf("carol's rooms.join: %v, want the new room alone", cs.Rooms.Join)
	}
	if bs := h.syncAs(r0Prefix, b, q("since", bobTok, "set_presence", "offline")); bs.eventFrom(c.UserID) != nil {
		t.Errorf("bob shares no room with carol, yet got %v", bs.senders())
	}
}

func TestFreeForChatSetThroughV1IsOnline(t *testing.T) {
	h, a, b, _, _ := newTrio(t, r0Prefix)
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"free_for_chat"}`))
	s := h.syncAs(r0Prefix, b, "set_presence=offline")
	if ev := s.eventFrom(a.UserID); ev == nil || ev.Content.Presence != "online" {
		t.Errorf("free_for_chat through r0: %+v", ev)
	}
	h.syncAs(r0Prefix, a, "") // marking online: already a form of online
	if h.presenceOf(a) != "free_for_chat" {
		t.Errorf("sync turned free_for_chat into %s", h.presenceOf(a))
	}
}

// waitSync starts a long-poll in the background and returns its answer on
// a channel.
func (h *harness) waitSync(ctx context.Context, prefix string, acct Account, query string) <-chan response {
	out := make(chan response, 1)
	req := httptest.NewRequest("GET", prefix+"/sync?"+query+"&access_token="+url.QueryEscape(acct.AccessToken), nil).WithContext(ctx)
	go func() {
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		out <- response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}()
	return out
}

func decodeSync(t *testing.T, r response) syncBody {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("sync: %s", r)
	}
	var b syncBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLongPollWokenByAVisibleChange(t *testing.T) {
	h, a, b, c, _ := newTrio(t, v3Prefix)
	tok := h.syncAs(v3Prefix, b, "set_presence=offline").NextBatch
	waiting := h.waitSync(context.Background(), v3Prefix, b, q("since", tok, "timeout", "60000", "set_presence", "offline"))
	// A stranger's change wakes the poll, which finds nothing for bob and
	// goes back to waiting: watch for a while that it does not answer.
	h.putPresence(v3Prefix, c, `{"presence":"unavailable"}`)
	select {
	case r := <-waiting:
		t.Fatalf("answered on a change bob may not see: %s", r)
	case <-time.After(300 * time.Millisecond):
	}
	h.putPresence(v3Prefix, a, `{"presence":"unavailable","status_msg":"wake up"}`)
	select {
	case r := <-waiting:
		s := decodeSync(t, r)
		if ev := s.eventFrom(a.UserID); ev == nil || *ev.Content.StatusMsg != "wake up" || len(s.Presence.Events) != 1 {
			t.Errorf("woken with %s", r.body)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the long-poll was not woken by alice's change")
	}
}

func TestLongPollAnswersEmptyAtTimeout(t *testing.T) {
	h, _, b, _, _ := newTrio(t, r0Prefix)
	tok := h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch
	s := decodeSync(t, <-h.waitSync(context.Background(), r0Prefix, b, q("since", tok, "timeout", "50", "set_presence", "offline")))
	if len(s.Presence.Events) != 0 || s.NextBatch == "" {
		t.Errorf("timed-out poll: %+v", s)
	}
}

func TestLongPollFreedWhenTheClientGoes(t *testing.T) {
	h, _, b, _, _ := newTrio(t, r0Prefix)
	tok := h.syncAs(r0Prefix, b, "set_presence=offline").NextBatch
	ctx, cancel := context.WithCancel(context.Background())
	waiting := h.waitSync(ctx, r0Prefix, b, q("since", tok, "timeout", "300000", "set_presence", "offline"))
	cancel()
	select {
	case <-waiting:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler kept waiting after the client went away")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"m.presence", "m.presence", true},
		{"m.presenc", "m.presence", false},
		{"*", "m.presence", true},
		{"m.*", "m.presence", true},
		{"*.presence", "m.presence", true},
		{"m.*e*e", "m.presence", true},
		{"m.*x*", "m.presence", false},
		{"m.room.*", "m.presence", false},
		{"m.presence*", "m.presence", true},
		{"**", "", true},
		{"a*a", "a", false},
		{"", "m.presence", false},
	} {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}
