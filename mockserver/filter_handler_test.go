package mockserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func filterPath(prefix, userID string) string {
	return prefix + "/user/" + url.PathEscape(userID) + "/filter"
}

// storedFilters counts the filters on the server, everyone's.
func (h *harness) storedFilters() int {
	n := 0
	h.srv.filters.Range(func(any, any) bool { n++; return true })
	return n
}

// roomOfMany is alice in a room with bob and dave, all having set a
// presence, alice's last; carol is in no room.
func roomOfMany(t *testing.T, prefix string) (h *harness, a, b, c, d Account) {
	h, a, b, c, roomID := newTrio(t, prefix)
	d = h.register("dave")
	// Bob's invitation is spent; dave joins through a room of his own with alice.
	_ = roomID
	room2 := h.createRoom(prefix, d, a.UserID, b.UserID)
	mustOK(t, h.joinRoom(prefix, a, room2))
	mustOK(t, h.joinRoom(prefix, b, room2))
	h.putPresence(prefix, d, `{"presence":"online"}`)
	h.putPresence(prefix, a, `{"presence":"online","status_msg":"last"}`)
	return h, a, b, c, d
}

func TestInlinePresenceFilters(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h, a, b, _, d := roomOfMany(t, prefix)
			all := []string{b.UserID, d.UserID, a.UserID} // stream order: alice changed last
			for _, c := range []struct {
				filter string
				want   []string
			}{
				{`{}`, all},
				{`{"presence":{}}`, all},
				{`{"presence":{"not_types":["m.presence"]}}`, nil},
				{`{"presence":{"not_types":["m.*"]}}`, nil},
				{`{"presence":{"types":["m.presence"]}}`, all},
				{`{"presence":{"types":["*"]}}`, all},
				{`{"presence":{"types":["m.room.*"]}}`, nil},
				{`{"presence":{"types":[]}}`, nil},
				{`{"presence":{"types":null}}`, all},
				{`{"presence":{"types":["*"],"not_types":["m.presence"]}}`, nil},
				{`{"presence":{"senders":["` + a.UserID + `"]}}`, []string{a.UserID}},
				{`{"presence":{"senders":[]}}`, nil},
				{`{"presence":{"not_senders":["` + a.UserID + `"]}}`, []string{b.UserID, d.UserID}},
				{`{"presence":{"senders":["` + a.UserID + `"],"not_senders":["` + a.UserID + `"]}}`, nil},
				{`{"presence":{"limit":0}}`, nil},
				{`{"presence":{"limit":1}}`, []string{a.UserID}},
				{`{"presence":{"limit":2}}`, []string{d.UserID, a.UserID}},
				{`{"presence":{"limit":100}}`, all},
				{`{"presence":{"not_senders":["` + a.UserID + `"],"limit":1}}`, []string{d.UserID}},
				{`{"room":{"timeline":{"limit":10}},"event_format":"client","unknown":{"x":1}}`, all},
			} {
				s := h.syncAs(prefix, b, q("filter", c.filter, "set_presence", "offline"))
				if got := s.senders(); !slices.Equal(got, c.want) {
					t.Errorf("filter %s: got %v, want %v", c.filter, got, c.want)
				}
			}
		})
	}
}

func TestUploadedFilters(t *testing.T) {
	for _, prefix := range laterPrefixes {
		t.Run(prefix, func(t *testing.T) {
			h, a, b, _, d := roomOfMany(t, prefix)
			body := `{ "presence": {"senders": ["` + d.UserID + `"]}, "room": {"state": {"lazy_load_members": true}}, "x-custom": [1, 2] }`
			r := mustOK(t, h.as(b.AccessToken, "POST", filterPath(prefix, b.UserID), body))
			var created struct {
				FilterID string `json:"filter_id"`
			}
			if err := json.Unmarshal(r.body, &created); err != nil || created.FilterID == "" || created.FilterID[0] == '{' {
				t.Fatalf("upload: %s", r.body)
			}
			got := mustOK(t, h.as(b.AccessToken, "GET", filterPath(prefix, b.UserID)+"/"+created.FilterID, ""))
			var back, sent any
			json.Unmarshal(got.body, &back)
			json.Unmarshal([]byte(body), &sent)
			if b1, _ := json.Marshal(back); string(b1) != compactJSON(sent) {
				t.Errorf("read back %s, uploaded %s", got.body, body)
			}
			if s := h.syncAs(prefix, b, q("filter", created.FilterID, "set_presence", "offline")); !slices.Equal(s.senders(), []string{d.UserID}) {
				t.Errorf("sync with the uploaded filter: %v", s.senders())
			}

			// Another user's filter: not readable, not usable, not found under their own name.
			expectError(t, h.as(a.AccessToken, "GET", filterPath(prefix, b.UserID)+"/"+created.FilterID, ""), http.StatusForbidden, "M_FORBIDDEN")
			expectError(t, h.as(a.AccessToken, "GET", filterPath(prefix, a.UserID)+"/"+created.FilterID, ""), http.StatusNotFound, "M_NOT_FOUND")
			before, filters := h.world(), h.storedFilters()
			expectError(t, h.as(a.AccessToken, "GET", prefix+"/sync?"+q("filter", created.FilterID), ""), http.StatusBadRequest, "M_INVALID_PARAM")
			h.unchanged("a sync with someone else's filter", before)
			for _, id := range []string{"999", "0", "abc", "%7B"} {
				expectError(t, h.as(b.AccessToken, "GET", filterPath(prefix, b.UserID)+"/"+id, ""), http.StatusNotFound, "M_NOT_FOUND")
			}
			expectError(t, h.as(a.AccessToken, "POST", filterPath(prefix, b.UserID), `{}`), http.StatusForbidden, "M_FORBIDDEN")
			if h.storedFilters() != filters {
				t.Error("a refused upload stored a filter")
			}
		})
	}
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestBadFiltersRefused(t *testing.T) {
	h, _, b, _, _ := newTrio(t, v3Prefix)
	for _, c := range []struct {
		filter, errcode string
	}{
		{`{`, "M_NOT_JSON"},
		{`{"presence":}`, "M_NOT_JSON"},
		{"{\"presence\":{\"types\":[\"\xff\"]}}", "M_NOT_JSON"},
		{`[]`, "M_BAD_JSON"},
		{`"{}"`, "M_BAD_JSON"},
		{`{"presence":[]}`, "M_BAD_JSON"},
		{`{"presence":{"types":"m.presence"}}`, "M_BAD_JSON"},
		{`{"presence":{"senders":[1]}}`, "M_BAD_JSON"},
		{`{"presence":{"limit":"1"}}`, "M_BAD_JSON"},
		{`{"presence":{"limit":1.5}}`, "M_BAD_JSON"},
		{`{"presence":{"limit":-1}}`, "M_INVALID_PARAM"},
		{`{"presence":{"limit":-3}}`, "M_INVALID_PARAM"},
		{`{"presence":{"limit":1e40}}`, "M_BAD_JSON"},
		{`{"room":{"timeline":{"limit":-1}}}`, "M_INVALID_PARAM"},
		{`{"room":{"rooms":"!a:b"}}`, "M_BAD_JSON"},
		{`{"room":{"include_leave":"yes"}}`, "M_BAD_JSON"},
		{`{"event_format":"raw"}`, "M_INVALID_PARAM"},
		{`{"event_fields":"content"}`, "M_BAD_JSON"},
		{`{"account_data":{"not_types":[null, 2]}}`, "M_BAD_JSON"},
	} {
		inline := c.filter
		if inline[0] != '{' {
			// Not starting with "{", it would be a filter ID: only uploads
			// can send these.
			inline = ""
		}
		if inline != "" {
			before := h.world()
			r := h.as(b.AccessToken, "GET", v3Prefix+"/sync?"+q("filter", inline), "")
			expectError(t, r, http.StatusBadRequest, c.errcode)
			h.unchanged("inline filter "+c.filter, before)
		}
		filters := h.storedFilters()
		r := h.as(b.AccessToken, "POST", filterPath(v3Prefix, b.UserID), c.filter)
		expectError(t, r, http.StatusBadRequest, c.errcode)
		if h.storedFilters() != filters {
			t.Errorf("upload of %s stored a filter", c.filter)
		}
	}
}
