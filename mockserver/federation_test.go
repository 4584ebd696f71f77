package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	mfed "maunium.net/go/mautrix/federation"
)

// fedWorld is a mock with federation on and one remote server: alice and
// carol are local, alice's public room has bob of the remote server as a
// member (joined through the federation's Home, which send_join calls;
// the join handlers have tests of their own), carol shares no room with
// anyone remote.
type fedWorld struct {
	*harness
	peer         *fedtest.Peer
	alice, carol Account
	room         string
	bob, dave    string // remote: bob in alice's room, dave in none
}

func newFedWorld(t *testing.T, ds ...Deviation) *fedWorld {
	t.Helper()
	h := newHarness(t, func(o *Options) {
		o.Federation = &FederationOptions{BatchDelay: 5 * time.Millisecond}
		o.Deviations = ds
	})
	w := &fedWorld{harness: h}
	w.peer = fedtest.NewPeer(t, h.srv.FederationHandler())
	w.alice, w.carol = h.register("alice"), h.register("carol")
	r := mustOK(t, h.as(w.alice.AccessToken, "POST", v3Prefix+"/createRoom", `{"preset":"public_chat"}`))
	var created struct {
		RoomID string `json:"room_id"`
	}
	json.Unmarshal(r.body, &created)
	w.room = created.RoomID
	w.bob, w.dave = "@bob:"+w.peer.Name, "@dave:"+w.peer.Name
	if err := (fedHome{h.srv}).Join(w.room, w.bob); err != nil {
		t.Fatal(err)
	}
	return w
}

// push sends the peer's signed transaction of one m.presence EDU.
func (w *fedWorld) push(txnID string, items ...any) response {
	w.t.Helper()
	body := map[string]any{"origin": w.peer.Name, "origin_server_ts": 1, "pdus": []any{},
		"edus": []any{map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": items}}}}
	r := w.peer.Signed("localhost", http.MethodPut, mfed.URLPath{"v1", "send", txnID}, nil, body)
	return w.serveFed(r)
}

func (w *fedWorld) serveFed(r *http.Request) response {
	rec := httptestRecorder()
	w.srv.FederationHandler().ServeHTTP(rec, r)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// syncPresence is who an initial v3 /sync shows the viewer, with their
// presence content.
func (w *fedWorld) syncPresence(viewer Account) map[string]map[string]any {
	w.t.Helper()
	r := mustOK(w.t, w.as(viewer.AccessToken, "GET", v3Prefix+"/sync", ""))
	var body struct {
		Presence struct {
			Events []struct {
				Sender  string         `json:"sender"`
				Content map[string]any `json:"content"`
			} `json:"events"`
		} `json:"presence"`
	}
	json.Unmarshal(r.body, &body)
	out := map[string]map[string]any{}
	for _, e := range body.Presence.Events {
		out[e.Sender] = e.Content
	}
	return out
}

func (w *fedWorld) setStatus(a Account, body string) {
	w.t.Helper()
	mustOK(w.t, w.as(a.AccessToken, "PUT", v3Prefix+"/presence/"+a.UserID+"/status", body))
}

// itemsWithin collects what the peer receives over d.
func (w *fedWorld) itemsWithin(d time.Duration) ([]fedtest.Txn, []fedtest.PushItem, []string) {
	time.Sleep(d)
	txns := w.peer.Received()
	items, bad := fedtest.Items(txns)
	return txns, items, bad
}

func item(user, presence string, extra ...any) map[string]any {
	m := map[string]any{"user_id": user, "presence": presence, "last_active_ago": 10}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// TestFederationInboundReachesRoomMatesOnly: a presence EDU about bob
// reaches alice's /sync (bob is her room-mate) with its content, not
// carol's; dave, in no room, reaches nobody; a forged item about alice
// changes nothing.
func TestFederationInboundReachesRoomMatesOnly(t *testing.T) {
	w := newFedWorld(t)
	before := w.syncPresence(w.alice)[w.alice.UserID]
	r := w.push("1", item(w.bob, "online", "status_msg", "from afar"), item(w.dave, "unavailable"),
		item(w.alice.UserID, "unavailable", "status_msg", "forged"))
	if r.status != 200 {
		t.Fatalf("send: %v", r)
	}
	seen := w.syncPresence(w.alice)
	bob := seen[w.bob]
	if bob == nil || bob["presence"] != "online" || bob["status_msg"] != "from afar" || bob["last_active_ago"] == nil {
		t.Fatalf("alice sees bob as %v (all: %v)", bob, seen)
	}
	if _, ok := seen[w.dave]; ok {
		t.Fatal("alice sees dave, who shares no room with her")
	}
	if got := seen[w.alice.UserID]; got["presence"] != before["presence"] || got["status_msg"] != before["status_msg"] {
		t.Fatalf("a forged item changed alice: %v, was %v", got, before)
	}
	if _, ok := w.syncPresence(w.carol)[w.bob]; ok {
		t.Fatal("carol sees bob, who shares no room with her")
	}
}

// TestFederationOutboundToTheRoomsServersOnly: alice's change reaches the
// peer with her state, carol's does not, and after bob leaves alice's do
// not either.
func TestFederationOutboundToTheRoomsServersOnly(t *testing.T) {
	w := newFedWorld(t)
	w.setStatus(w.alice, `{"presence":"online","status_msg":"here"}`)
	w.setStatus(w.carol, `{"presence":"online","status_msg":"hidden"}`)
	w.peer.WaitFor(1, 5*time.Second)
	txns, items, bad := w.itemsWithin(100 * time.Millisecond)
	if len(bad) > 0 || len(txns) != 1 || len(items) != 1 {
		t.Fatalf("%d transactions, items %+v, bad EDUs %v; want one item", len(txns), items, bad)
	}
	it := items[0]
	if it.UserID != w.alice.UserID || it.Presence != "online" || it.StatusMsg == nil || *it.StatusMsg != "here" || it.LastActiveAgo == nil {
		t.Fatalf("item %+v", it)
	}
	if txns[0].AuthErr != "" || txns[0].Destination != w.peer.Name || txns[0].Origin != "localhost" {
		t.Fatalf("transaction auth %q, destination %q, origin %q", txns[0].AuthErr, txns[0].Destination, txns[0].Origin)
	}
	if err := (fedHome{w.srv}).Leave(w.room, w.bob); err != nil {
		t.Fatal(err)
	}
	w.setStatus(w.alice, `{"presence":"unavailable"}`)
	if txns, _, _ := w.itemsWithin(150 * time.Millisecond); len(txns) != 1 {
		t.Fatalf("%d transactions; alice's change after bob left should not have gone", len(txns))
	}
}

// TestFederationOff: without Options.Federation the federation listener
// answers 404, and a change sends nothing (the hook costs a nil check).
func TestFederationOff(t *testing.T) {
	h := newHarness(t)
	rec := httptestRecorder()
	h.srv.FederationHandler().ServeHTTP(rec, httptestRequest("GET", "/_matrix/key/v2/server", ""))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "M_UNRECOGNIZED") {
		t.Fatalf("federation off: %d %s", rec.Code, rec.Body)
	}
	if h.srv.Federation() != nil {
		t.Fatal("a federation without Options.Federation")
	}
}

// TestRemoteUsersAreNoAccounts: a remote user kept for its presence is no
// account: no login, and GET status and presence lists do not find them,
// though they are alice's room-mate.
func TestRemoteUsersAreNoAccounts(t *testing.T) {
	w := newFedWorld(t)
	w.push("1", item(w.bob, "online"))
	if _, ok := w.syncPresence(w.alice)[w.bob]; !ok {
		t.Fatal("alice does not see bob in /sync")
	}
	expectError(t, w.as(w.alice.AccessToken, "GET", v3Prefix+"/presence/"+w.bob+"/status", ""), 404, "M_NOT_FOUND")
	expectError(t, w.as(w.alice.AccessToken, "POST", listPath(w.alice.UserID), `{"invite":["`+w.bob+`"]}`), 404, "M_NOT_FOUND")
	for _, pw := range []string{"x", "secret-bob"} {
		r := w.request("POST", v3Prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"`+w.bob+`"},"password":"`+pw+`"}`, nil)
		if r.status != 403 {
			t.Fatalf("login as %s with %q: %v", w.bob, pw, r)
		}
	}
}

// fedFault looks a federation deviation up.
func fedFault(t *testing.T, name string) Deviation {
	t.Helper()
	d, ok := LookupDeviation(name)
	if !ok {
		t.Fatalf("no deviation %s", name)
	}
	return d
}

// TestFederationFaultsMisbehave: each federation fault breaks what it
// says, against the reference's behaviour in the same scenario (until the
// suite's PRES-FED requirements catch them in cmd/mxpresence).
func TestFederationFaultsMisbehave(t *testing.T) {
	outbound := func(w *fedWorld) ([]fedtest.Txn, []fedtest.PushItem, []string) {
		w.setStatus(w.alice, `{"presence":"online","status_msg":"here"}`)
		w.peer.WaitFor(1, 5*time.Second)
		return w.itemsWithin(400 * time.Millisecond)
	}
	for _, c := range []struct {
		fault string
		check func(t *testing.T, w *fedWorld)
	}{
		{"fed-edu-storm", func(t *testing.T, w *fedWorld) {
			if _, items, _ := outbound(w); len(items) < 5 {
				t.Fatalf("%d items in 400 ms, want a storm", len(items))
			}
		}},
		{"fed-edu-storm-later", func(t *testing.T, w *fedWorld) {
			w.setStatus(w.alice, `{"presence":"online"}`)
			if _, items, _ := w.itemsWithin(200 * time.Millisecond); len(items) > 1 {
				t.Fatalf("%d items in the first 200 ms, want at most the one", len(items))
			}
			if _, items, _ := w.itemsWithin(700 * time.Millisecond); len(items) < 5 {
				t.Fatalf("%d items by 900 ms, want a storm", len(items))
			}
		}},
		{"fed-empty-push", func(t *testing.T, w *fedWorld) {
			if _, _, bad := outbound(w); len(bad) == 0 || !strings.Contains(bad[0], `"push":[]`) {
				t.Fatalf("bad EDUs %v, want an empty push", bad)
			}
		}},
		{"fed-over-100-edus", func(t *testing.T, w *fedWorld) {
			if txns, _, _ := outbound(w); len(txns) == 0 || len(txns[0].Body.EDUs) <= 100 {
				t.Fatal("no transaction over 100 EDUs")
			}
		}},
		{"fed-sends-to-strangers", func(t *testing.T, w *fedWorld) {
			w.setStatus(w.carol, `{"presence":"online"}`)
			w.peer.WaitFor(1, 5*time.Second)
			if _, items, _ := w.itemsWithin(50 * time.Millisecond); len(items) == 0 || items[0].UserID != w.carol.UserID {
				t.Fatalf("items %+v, want carol's", items)
			}
		}},
		{"fed-sends-after-leave", func(t *testing.T, w *fedWorld) {
			outbound(w)
			(fedHome{w.srv}).Leave(w.room, w.bob)
			w.setStatus(w.alice, `{"presence":"unavailable"}`)
			if txns, _, _ := w.itemsWithin(200 * time.Millisecond); len(txns) != 2 {
				t.Fatalf("%d transactions, want the one after the leave too", len(txns))
			}
		}},
		{"fed-no-last-active-ago", func(t *testing.T, w *fedWorld) {
			if _, items, _ := outbound(w); len(items) == 0 || items[0].LastActiveAgo != nil {
				t.Fatalf("items %+v", items)
			}
		}},
		{"fed-drops-status-msg", func(t *testing.T, w *fedWorld) {
			if _, items, _ := outbound(w); len(items) == 0 || items[0].StatusMsg != nil {
				t.Fatalf("items %+v", items)
			}
		}},
		{"fed-bad-signature", func(t *testing.T, w *fedWorld) {
			if txns, _, _ := outbound(w); len(txns) == 0 || txns[0].AuthErr == "" {
				t.Fatal("the X-Matrix header verified")
			}
		}},
		{"fed-accepts-forged-push", func(t *testing.T, w *fedWorld) {
			w.push("f", item(w.alice.UserID, "unavailable", "status_msg", "forged"))
			if got := w.syncPresence(w.alice)[w.alice.UserID]; got["status_msg"] != "forged" {
				t.Fatalf("alice is %v", got)
			}
		}},
		{"fed-forged-applied-later", func(t *testing.T, w *fedWorld) {
			w.push("f", item(w.alice.UserID, "unavailable", "status_msg", "forged"))
			if got := w.syncPresence(w.alice)[w.alice.UserID]; got["status_msg"] == "forged" {
				t.Fatal("applied at once, not later")
			}
			time.Sleep(300 * time.Millisecond)
			if got := w.syncPresence(w.alice)[w.alice.UserID]; got["status_msg"] != "forged" {
				t.Fatalf("alice is %v", got)
			}
		}},
		{"fed-accepts-unsigned", func(t *testing.T, w *fedWorld) {
			body := `{"origin":"` + w.peer.Name + `","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"` + w.bob + `","presence":"online","last_active_ago":1,"status_msg":"unsigned"}]}}]}`
			if r := w.serveFed(httptestRequest("PUT", "/_matrix/federation/v1/send/u", body)); r.status != 200 {
				t.Fatalf("unsigned: %v", r)
			}
			if got := w.syncPresence(w.alice)[w.bob]; got["status_msg"] != "unsigned" {
				t.Fatalf("bob is %v", got)
			}
		}},
		{"fed-unsigned-applied-later", func(t *testing.T, w *fedWorld) {
			body := `{"origin":"` + w.peer.Name + `","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"` + w.bob + `","presence":"online","last_active_ago":1,"status_msg":"unsigned"}]}}]}`
			// The refusal is right (401); the application comes after it.
			if r := w.serveFed(httptestRequest("PUT", "/_matrix/federation/v1/send/u", body)); r.status != 401 {
				t.Fatalf("unsigned: %v", r)
			}
			time.Sleep(300 * time.Millisecond)
			if got := w.syncPresence(w.alice)[w.bob]; got["status_msg"] != "unsigned" {
				t.Fatalf("bob is %v", got)
			}
		}},
		{"fed-ignores-inbound", func(t *testing.T, w *fedWorld) {
			if r := w.push("1", item(w.bob, "online", "status_msg", "lost")); r.status != 200 {
				t.Fatalf("send: %v", r)
			}
			if got := w.syncPresence(w.alice)[w.bob]; got["status_msg"] == "lost" {
				t.Fatal("applied")
			}
		}},
		{"fed-malformed-stops-transaction", func(t *testing.T, w *fedWorld) {
			w.push("1", map[string]any{"user_id": w.bob}, item(w.bob, "online", "status_msg", "after"))
			if got := w.syncPresence(w.alice)[w.bob]; got["status_msg"] == "after" {
				t.Fatal("the item after the malformed one was applied")
			}
		}},
		{"fed-shows-unshared-remote", func(t *testing.T, w *fedWorld) {
			w.push("1", item(w.dave, "online"))
			if _, ok := w.syncPresence(w.carol)[w.dave]; !ok {
				t.Fatal("carol does not see dave")
			}
		}},
	} {
		t.Run(c.fault, func(t *testing.T) {
			t.Parallel()
			c.check(t, newFedWorld(t, fedFault(t, c.fault)))
		})
	}
	// Every federation fault has its check here.
	for _, d := range federationFaults() {
		if !slices.ContainsFunc([]string{
			"fed-edu-storm", "fed-edu-storm-later", "fed-empty-push", "fed-over-100-edus", "fed-sends-to-strangers",
			"fed-sends-after-leave", "fed-no-last-active-ago", "fed-drops-status-msg", "fed-bad-signature",
			"fed-accepts-forged-push", "fed-forged-applied-later", "fed-accepts-unsigned", "fed-unsigned-applied-later",
			"fed-ignores-inbound", "fed-malformed-stops-transaction", "fed-shows-unshared-remote",
		}, func(n string) bool { return n == d.Name }) {
			t.Errorf("%s has no check", d.Name)
		}
	}
}

// TestFederationReferenceIsNotTheFaults: the scenarios above, against the
// reference, come out right: one transaction, signed, with last_active_ago
// and status_msg; nothing after the leave; unsigned refused; forged,
// malformed and unshared ignored.
func TestFederationReferenceIsNotTheFaults(t *testing.T) {
	w := newFedWorld(t)
	w.setStatus(w.alice, `{"presence":"online","status_msg":"here"}`)
	w.peer.WaitFor(1, 5*time.Second)
	txns, items, bad := w.itemsWithin(600 * time.Millisecond)
	if len(txns) != 1 || len(bad) != 0 || len(txns[0].Body.EDUs) != 1 || txns[0].AuthErr != "" ||
		len(items) != 1 || items[0].LastActiveAgo == nil || items[0].StatusMsg == nil {
		t.Fatalf("transactions %d, bad %v, items %+v", len(txns), bad, items)
	}
	body := `{"origin":"` + w.peer.Name + `","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"` + w.bob + `","presence":"online","last_active_ago":1,"status_msg":"unsigned"}]}}]}`
	if r := w.serveFed(httptestRequest("PUT", "/_matrix/federation/v1/send/u", body)); r.status != 401 {
		t.Fatalf("unsigned: %v", r)
	}
	w.push("1", map[string]any{"user_id": w.bob}, item(w.bob, "online", "status_msg", "after"), item(w.alice.UserID, "offline", "status_msg", "forged"), item(w.dave, "online"))
	time.Sleep(300 * time.Millisecond)
	seen := w.syncPresence(w.alice)
	if seen[w.bob]["status_msg"] != "after" || seen[w.alice.UserID]["status_msg"] == "forged" {
		t.Fatalf("alice sees %v", seen)
	}
	if _, ok := w.syncPresence(w.carol)[w.dave]; ok {
		t.Fatal("carol sees dave")
	}
}

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
