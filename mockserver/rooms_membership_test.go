package mockserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// createRoom makes a room through prefix as acct, inviting the users
// given, and returns its ID.
func (h *harness) createRoom(prefix string, acct Account, invite ...string) string {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"invite": append([]string{}, invite...), "preset": "private_chat", "name": "a room"})
	r := mustOK(h.t, h.as(acct.AccessToken, "POST", prefix+"/createRoom", string(body)))
	var created struct {
		RoomID string `json:"room_id"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || !validRoomID(created.RoomID) {
		h.t.Fatalf("createRoom: %s", r.body)
	}
	return created.RoomID
}

// joinRoom joins a room through POST /join/{roomIdOrAlias}.
func (h *harness) joinRoom(prefix string, acct Account, roomID string) response {
	h.t.Helper()
	return h.as(acct.AccessToken, "POST", prefix+"/join/"+url.PathEscape(roomID), `{}`)
}

func TestCreateRoom(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ServerName = "example.org:8448" })
	a := h.register("alice")
	b := h.register("bob")
	c := h.register("carol")
	for _, prefix := range laterPrefixes {
		r := mustOK(t, h.as(a.AccessToken, "POST", prefix+"/createRoom",
			`{"invite":["@bob:example.org:8448","@bob:example.org:8448"],"name":"ignored","topic":"ignored","initial_state":[{"x":1}],"is_direct":true}`))
		var created map[string]any
		if err := json.Unmarshal(r.body, &created); err != nil || len(created) != 1 {
			t.Fatalf("%s createRoom: %s", prefix, r.body)
		}
		id, _ := created["room_id"].(string)
		if !validRoomID(id) || !strings.HasSuffix(id, ":example.org:8448") {
			t.Errorf("%s: room ID %q is not a room ID on this server", prefix, id)
		}
		rm := h.srv.roomByID(id)
		if rm == nil || rm.public || len(rm.members) != 2 || rm.members[h.srv.userByID(a.UserID)] != joined || rm.members[h.srv.userByID(b.UserID)] != invited {
			t.Fatalf("%s: room %+v: want alice joined, bob invited, not public", prefix, rm)
		}
		// Invited joins; the creator and the joined may join again.
		for _, who := range []Account{b, b, a} {
			r := mustOK(t, h.joinRoom(prefix, who, id))
			if string(r.body) != `{"room_id":`+string(mustMarshal(t, id))+`}` {
				t.Errorf("join: %s", r.body)
			}
		}
		// carol was not invited.
		before := h.world()
		expectError(t, h.joinRoom(prefix, c, id), http.StatusForbidden, "M_FORBIDDEN")
		expectError(t, h.as(c.AccessToken, "POST", prefix+"/rooms/"+url.PathEscape(id)+"/join", ""), http.StatusForbidden, "M_FORBIDDEN")
		expectError(t, h.as(c.AccessToken, "POST", prefix+"/rooms/"+url.PathEscape(id)+"/leave", ""), http.StatusForbidden, "M_FORBIDDEN")
		h.unchanged("carol's refused join", before)
	}
	// Two rooms never share an ID.
	if x, y := h.createRoom(v3Prefix, a), h.createRoom(v3Prefix, a); x == y {
		t.Errorf("two rooms with the ID %s", x)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A public room, by preset or by visibility with no preset, may be joined
// by anyone on the server.
func TestPublicRooms(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	for _, tt := range []struct {
		body   string
		public bool
	}{
		{`{}`, false},
		{`{"preset":"public_chat"}`, true},
		{`{"visibility":"public"}`, true},
		{`{"visibility":"public","preset":"private_chat"}`, false},
		{`{"visibility":"private"}`, false},
		{`{"preset":"trusted_private_chat"}`, false},
	} {
		r := mustOK(t, h.as(a.AccessToken, "POST", r0Prefix+"/createRoom", tt.body))
		id := decodeJSON(t, r.body).(map[string]any)["room_id"].(string)
		got := h.as(b.AccessToken, "POST", r0Prefix+"/rooms/"+id+"/join", "")
		if (got.status == http.StatusOK) != tt.public {
			t.Errorf("createRoom %s, then bob joins: %s; public %v", tt.body, got, tt.public)
		}
	}
}

func TestCreateRoomRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	h.register("bob")
	for _, prefix := range laterPrefixes {
		for _, tt := range []struct {
			name, body string
			status     int
			errcode    string
			inError    string
		}{
			{"not JSON", `invite=bob`, 400, "M_NOT_JSON", ""},
			{"empty body", ``, 400, "M_NOT_JSON", ""},
			{"not an object", `["@bob:localhost"]`, 400, "M_BAD_JSON", "object"},
			{"invite not an array", `{"invite":"@bob:localhost"}`, 400, "M_BAD_JSON", "invite"},
			{"invite of a number", `{"invite":["@bob:localhost",7]}`, 400, "M_BAD_JSON", "invite[1]"},
			{"invite twice", `{"invite":[],"invite":["@bob:localhost"]}`, 400, "M_BAD_JSON", "invite"},
			{"preset unknown", `{"preset":"party"}`, 400, "M_BAD_JSON", "preset"},
			{"preset not a string", `{"preset":1}`, 400, "M_BAD_JSON", "preset"},
			{"visibility unknown", `{"visibility":"hidden"}`, 400, "M_BAD_JSON", "visibility"},
			{"malformed invitee", `{"invite":["@bob:localhost","bob"]}`, 400, "M_INVALID_PARAM", "invite[1]"},
			{"malformed after unknown", `{"invite":["@nobody:localhost","bob"]}`, 400, "M_INVALID_PARAM", "invite[1]"},
			{"inviting yourself", `{"invite":["@alice:localhost"]}`, 400, "M_INVALID_PARAM", "invite[0]"},
			{"unknown invitee", `{"invite":["@bob:localhost","@nobody:localhost"]}`, 404, "M_NOT_FOUND", "invite[1]"},
			{"remote invitee", `{"invite":["@bob:elsewhere"]}`, 404, "M_NOT_FOUND", "invite[0]"},
			{"too large", `{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE", ""},
		} {
			before := h.world()
			r := h.as(a.AccessToken, "POST", prefix+"/createRoom", tt.body)
			expectError(t, r, tt.status, tt.errcode)
			if !strings.Contains(string(r.body), tt.inError) {
				t.Errorf("%s %s: error %s does not name %q", prefix, tt.name, r.body, tt.inError)
			}
			h.unchanged(prefix+" "+tt.name, before)
		}
	}
}

func TestJoinAndLeaveRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	id := h.createRoom(r0Prefix, a, b.UserID)
	for _, prefix := range laterPrefixes {
		for _, tt := range []struct {
			name, path, body string
			status           int
			errcode          string
		}{
			{"join unknown room", "/join/!nope:localhost", "", 404, "M_NOT_FOUND"},
			{"join a room of another server", "/join/" + strings.Replace(id, ":localhost", ":elsewhere", 1), "", 404, "M_NOT_FOUND"},
			{"join by alias", "/join/%23room:localhost", "", 404, "M_NOT_FOUND"},
			{"join malformed", "/join/room", "", 400, "M_INVALID_PARAM"},
			{"join with no server", "/join/!abc", "", 400, "M_INVALID_PARAM"},
			{"rooms join by alias", "/rooms/%23room:localhost/join", "", 400, "M_INVALID_PARAM"},
			{"rooms join unknown", "/rooms/!nope:localhost/join", "", 404, "M_NOT_FOUND"},
			{"join body not JSON", "/join/" + id, "reason=x", 400, "M_NOT_JSON"},
			{"join body not an object", "/rooms/" + id + "/join", "[]", 400, "M_BAD_JSON"},
			{"join body too large", "/join/" + id, `{"reason":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE"},
			{"leave unknown", "/rooms/!nope:localhost/leave", "", 404, "M_NOT_FOUND"},
			{"leave malformed", "/rooms/nope/leave", "", 400, "M_INVALID_PARAM"},
			{"leave body not JSON", "/rooms/" + id + "/leave", "{", 400, "M_NOT_JSON"},
		} {
			before := h.world()
			expectError(t, h.as(b.AccessToken, "POST", prefix+tt.path, tt.body), tt.status, tt.errcode)
			h.unchanged(prefix+" "+tt.name, before)
		}
	}
	// Left is left: no joining again without a new invite, no leaving twice.
	mustOK(t, h.joinRoom(r0Prefix, b, id))
	mustOK(t, h.as(b.AccessToken, "POST", v3Prefix+"/rooms/"+id+"/leave", `{"reason":"bye"}`))
	before := h.world()
	expectError(t, h.joinRoom(v3Prefix, b, id), http.StatusForbidden, "M_FORBIDDEN")
	expectError(t, h.as(b.AccessToken, "POST", v3Prefix+"/rooms/"+id+"/leave", ""), http.StatusForbidden, "M_FORBIDDEN")
	h.unchanged("joining or leaving again", before)
	// An invitation can be declined by leaving.
	c := h.register("carol")
	other := h.createRoom(v3Prefix, a, c.UserID)
	mustOK(t, h.as(c.AccessToken, "POST", v3Prefix+"/rooms/"+other+"/leave", ""))
	expectError(t, h.joinRoom(v3Prefix, c, other), http.StatusForbidden, "M_FORBIDDEN")
}

// Room IDs in paths are read segment by segment, as user IDs are.
func TestEscapedRoomIDs(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	id := h.createRoom(v3Prefix, a, b.UserID)
	escaped := strings.NewReplacer("!", "%21", ":", "%3A").Replace(id)
	mustOK(t, h.as(b.AccessToken, "POST", v3Prefix+"/join/"+escaped, ""))
	mustOK(t, h.as(b.AccessToken, "POST", v3Prefix+"/rooms/"+escaped+"/join", ""))
	mustOK(t, h.as(b.AccessToken, "POST", v3Prefix+"/rooms/"+escaped+"/le%61ve", ""))
	if h.srv.userByID(b.UserID).joinedRooms[h.srv.roomByID(id)] {
		t.Error("bob is still in the room after leaving")
	}
}

func TestRoomsAreNotInV1(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, path := range []string{"/createRoom", "/join/!a:localhost", "/rooms/!a:localhost/join", "/rooms/!a:localhost/leave"} {
		expectError(t, h.as(a.AccessToken, "POST", v1Prefix+path, "{}"), http.StatusNotFound, "M_UNRECOGNIZED")
	}
}
