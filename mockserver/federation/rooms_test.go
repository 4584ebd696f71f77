//go:build goexperiment.jsonv2 || go1.27

package federation

import (
	stdjson "encoding/json"
	"encoding/json/jsontext"
	"encoding/json/v2"
	"fmt"
	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	mfed "maunium.net/go/mautrix/federation"
	"maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

const testRoom = "!room:localhost"

func makePath(kind, user string) mfed.URLPath {
	return mfed.URLPath{"v1", "make_" + kind, testRoom, user}
}
func sendMemberPath(kind string, eid id.EventID) mfed.URLPath {
	return mfed.URLPath{"v2", "send_" + kind, testRoom, eid}
}

var withV10 = map[string][]string{"ver": {"9", "10", "11"}}

// template asks for a make_join or make_leave template and decodes it.
func template(t *testing.T, f *Federation, p *fedtest.Peer, kind, user string) *pdu.PDU {
	t.Helper()
	rec := serve(f.Handler(), p.Signed("localhost", http.MethodGet, makePath(kind, user), withV10, nil))
	var resp struct {
		RoomVersion string   `json:"room_version"`
		Event       *pdu.PDU `json:"event"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp.RoomVersion != "10" || resp.Event == nil {
		t.Fatalf("make_%s: %d %s", kind, rec.Code, rec.Body)
	}
	return resp.Event
}

// signEvent signs a template as the peer and returns it with its ID.
func signEvent(t *testing.T, p *fedtest.Peer, ev *pdu.PDU) (jsontext.Value, id.EventID) {
	t.Helper()
	if err := ev.Sign(roomVersion, p.Name, p.Key.ID, p.Key.Priv); err != nil {
		t.Fatal(err)
	}
	eid, err := ev.GetEventID(roomVersion)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw, eid
}

// TestJoinAndLeave: make_join gives a v10 template built on the room's
// events; the signed join makes the remote user a member, and its answer
// has the room's state and auth chain, every event signed by the mock
// with an ID that is its hash; make_leave and send_leave take them out.
func TestJoinAndLeave(t *testing.T) {
	home := newFakeHome("localhost")
	home.addRoom(testRoom, "@alice:localhost", true, "@carol:localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	bob := "@bob:" + p.Name

	ev := template(t, f, p, "join", bob)
	if ev.Type != "m.room.member" || ev.StateKey == nil || *ev.StateKey != bob || string(ev.Sender) != bob ||
		string(ev.RoomID) != testRoom || len(ev.PrevEvents) != 1 || len(ev.AuthEvents) != 3 || memberContent(ev) != "join" {
		t.Fatalf("template: %+v", ev)
	}
	raw, eid := signEvent(t, p, ev)
	rec := serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendMemberPath("join", eid), nil, stdjson.RawMessage(raw)))
	var resp struct {
		Origin    string           `json:"origin"`
		State     []jsontext.Value `json:"state"`
		AuthChain []jsontext.Value `json:"auth_chain"`
		Event     *pdu.PDU         `json:"event"`
		Servers   []string         `json:"servers_in_room"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
		t.Fatalf("send_join: %d %s", rec.Code, rec.Body)
	}
	if !slices.Contains(home.members(testRoom), bob) {
		t.Fatalf("bob is not a member after send_join: %v", home.members(testRoom))
	}
	if resp.Origin != "localhost" || len(resp.AuthChain) != 4 || !slices.Equal(resp.Servers, []string{p.Name, "localhost"}) && !slices.Equal(resp.Servers, []string{"localhost", p.Name}) {
		t.Fatalf("send_join answer: %s", rec.Body)
	}
	myKey := func(server string, keyID id.KeyID, _ timeT) (id.SigningKey, timeT, error) {
		return f.key.Pub, farFuture, nil
	}
	types := map[string]int{}
	for _, raw := range resp.State {
		var e pdu.PDU
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		types[e.Type]++
		if e.Type == "m.room.member" && *e.StateKey == bob {
			continue // bob's own, signed by the peer
		}
		if err := e.VerifySignature(roomVersion, "localhost", myKey); err != nil || !e.VerifyContentHash() {
			t.Fatalf("state event %s: signature %v, hash ok %v", e.Type, err, e.VerifyContentHash())
		}
	}
	if types["m.room.create"] != 1 || types["m.room.power_levels"] != 1 || types["m.room.join_rules"] != 1 || types["m.room.member"] != 3 {
		t.Fatalf("state: %v, want create, power levels, join rules and three members", types)
	}

	lev := template(t, f, p, "leave", bob)
	if memberContent(lev) != "leave" || lev.PrevEvents[0] != eid {
		t.Fatalf("leave template: %+v (prev should be the join %s)", lev, eid)
	}
	raw, lid := signEvent(t, p, lev)
	rec = serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendMemberPath("leave", lid), nil, stdjson.RawMessage(raw)))
	if rec.Code != http.StatusOK || rec.Body.String() != "{}" {
		t.Fatalf("send_leave: %d %s", rec.Code, rec.Body)
	}
	if slices.Contains(home.members(testRoom), bob) {
		t.Fatal("bob is still a member after send_leave")
	}
}

// TestJoinRefusals: each refusal is a Matrix error and bob stays out.
func TestJoinRefusals(t *testing.T) {
	home := newFakeHome("localhost")
	home.addRoom(testRoom, "@alice:localhost", true)
	home.addRoom("!private:localhost", "@alice:localhost", false)
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	other := fedtest.NewPeer(t, f.Handler())
	bob := "@bob:" + p.Name
	before := home.members(testRoom)
	unchanged := func(t *testing.T) {
		t.Helper()
		if got := home.members(testRoom); !slices.Equal(got, before) {
			t.Fatalf("members %v, want %v", got, before)
		}
		if got := home.members("!private:localhost"); len(got) != 1 {
			t.Fatalf("private room members %v", got)
		}
	}
	get := func(path mfed.URLPath, q map[string][]string) *http.Request {
		return p.Signed("localhost", http.MethodGet, path, q, nil)
	}
	// make_join refusals
	for _, c := range []struct {
		name    string
		r       *http.Request
		status  int
		errcode string
	}{
		{"no ver", get(makePath("join", bob), nil), 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		{"no v10", get(makePath("join", bob), map[string][]string{"ver": {"1", "11"}}), 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		{"another server's user", get(makePath("join", "@mallory:elsewhere.example"), withV10), 403, "M_FORBIDDEN"},
		{"a local user", get(makePath("join", "@alice:localhost"), withV10), 403, "M_FORBIDDEN"},
		{"no such room", get(mfed.URLPath{"v1", "make_join", "!none:localhost", bob}, withV10), 404, "M_NOT_FOUND"},
		{"a private room", get(mfed.URLPath{"v1", "make_join", "!private:localhost", bob}, withV10), 403, "M_FORBIDDEN"},
		{"make_leave while out", get(makePath("leave", bob), nil), 403, "M_FORBIDDEN"},
		{"unsigned", unsignedGet(makePath("join", bob)), 401, "M_UNAUTHORIZED"},
	} {
		t.Run("make_join "+c.name, func(t *testing.T) {
			wantError(t, serve(f.Handler(), c.r), c.status, c.errcode)
			unchanged(t)
		})
	}
	// send_join refusals, each from a good template spoiled one way.
	good := func() *pdu.PDU { return template(t, f, p, "join", bob) }
	for _, c := range []struct {
		name    string
		spoil   func(ev *pdu.PDU) // before signing
		after   func(raw jsontext.Value, eid id.EventID) (jsontext.Value, id.EventID, *fedtest.Peer)
		status  int
		errcode string
	}{
		{"wrong event ID in the path", nil, func(raw jsontext.Value, _ id.EventID) (jsontext.Value, id.EventID, *fedtest.Peer) {
			return raw, "$notit", p
		}, 400, "M_BAD_JSON"},
		{"not signed by the origin", func(ev *pdu.PDU) {}, func(raw jsontext.Value, eid id.EventID) (jsontext.Value, id.EventID, *fedtest.Peer) {
			return raw, eid, other // the other server sends bob's join
		}, 403, "M_FORBIDDEN"},
		{"content changed after signing", nil, func(raw jsontext.Value, _ id.EventID) (jsontext.Value, id.EventID, *fedtest.Peer) {
			var ev pdu.PDU
			json.Unmarshal(raw, &ev)
			ev.Content = jsontext.Value(`{"membership":"join","displayname":"x"}`)
			eid, _ := ev.GetEventID(roomVersion)
			raw, _ = json.Marshal(&ev)
			return raw, eid, p
		}, 400, "M_BAD_JSON"},
		{"membership leave", func(ev *pdu.PDU) { ev.Content = jsontext.Value(`{"membership":"leave"}`) }, nil, 400, "M_BAD_JSON"},
		{"another room", func(ev *pdu.PDU) { ev.RoomID = "!private:localhost" }, nil, 400, "M_BAD_JSON"},
		{"unknown prev event", func(ev *pdu.PDU) { ev.PrevEvents = []id.EventID{"$nope"} }, nil, 400, "M_BAD_JSON"},
		{"no prev events", func(ev *pdu.PDU) { ev.PrevEvents = []id.EventID{} }, nil, 400, "M_BAD_JSON"},
		{"unknown auth event", func(ev *pdu.PDU) { ev.AuthEvents = append(ev.AuthEvents, "$nope") }, nil, 400, "M_BAD_JSON"},
		{"not a member event", func(ev *pdu.PDU) { ev.Type = "m.room.message" }, nil, 400, "M_BAD_JSON"},
		{"state key not the sender", func(ev *pdu.PDU) { sk := "@carol:" + p.Name; ev.StateKey = &sk }, nil, 400, "M_BAD_JSON"},
	} {
		t.Run("send_join "+c.name, func(t *testing.T) {
			ev := good()
			if c.spoil != nil {
				c.spoil(ev)
			}
			raw, eid := signEvent(t, p, ev)
			by := p
			if c.after != nil {
				raw, eid, by = c.after(raw, eid)
			}
			wantError(t, serve(f.Handler(), by.Signed("localhost", http.MethodPut, sendMemberPath("join", eid), nil, stdjson.RawMessage(raw))), c.status, c.errcode)
			unchanged(t)
		})
	}
	t.Run("send_join not JSON of an event", func(t *testing.T) {
		wantError(t, serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendMemberPath("join", "$x"), nil, []int{1})), 400, "M_BAD_JSON")
		unchanged(t)
	})
	t.Run("send_leave while out", func(t *testing.T) {
		ev := good()
		ev.Content = jsontext.Value(`{"membership":"leave"}`)
		raw, eid := signEvent(t, p, ev)
		wantError(t, serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendMemberPath("leave", eid), nil, stdjson.RawMessage(raw))), 403, "M_FORBIDDEN")
		unchanged(t)
	})
	t.Run("send_leave of a join", func(t *testing.T) {
		raw, eid := signEvent(t, p, good())
		wantError(t, serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendMemberPath("leave", eid), nil, stdjson.RawMessage(raw))), 400, "M_BAD_JSON")
		unchanged(t)
	})
}

type timeT = time.Time

var farFuture = time.Now().Add(24 * time.Hour)

// unsignedGet is a GET of a federation path with no Authorization header.
func unsignedGet(path mfed.URLPath) *http.Request {
	u := "/_matrix/federation"
	for _, part := range path {
		u += "/" + fmt.Sprint(part)
	}
	return httptest.NewRequest(http.MethodGet, u, nil)
}
