package federation

import (
	"encoding/json"
	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	mfed "maunium.net/go/mautrix/federation"
)

func sendPath(txnID string) mfed.URLPath { return mfed.URLPath{"v1", "send", txnID} }

func TestKeyServerPublishesASelfSignedKey(t *testing.T) {
	f := newMock(t, newFakeHome("localhost"), Tweaks{})
	for _, path := range []string{"/_matrix/key/v2/server", "/_matrix/key/v2/server/" + f.KeyID()} {
		rec := serve(f.Handler(), httptest.NewRequest(http.MethodGet, path, nil))
		var skr mfed.ServerKeyResponse
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &skr) != nil {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if skr.ServerName != "localhost" || !skr.HasKey(mfed.GenerateSigningKey().ID) && len(skr.VerifyKeys) != 1 {
			t.Fatalf("GET %s: %s", path, rec.Body)
		}
		if _, ok := skr.VerifyKeys[f.key.ID]; !ok {
			t.Fatalf("GET %s: key %s not published: %s", path, f.key.ID, rec.Body)
		}
		if err := skr.VerifySelfSignature(); err != nil {
			t.Fatalf("GET %s: self-signature: %v", path, err)
		}
	}
}

func TestKeySeedGivesTheSameKey(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 7
	a, err := New(newFakeHome("localhost"), Config{ServerName: "localhost", KeySeed: seed})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(newFakeHome("localhost"), Config{ServerName: "localhost", KeySeed: seed})
	if a.key.Pub != b.key.Pub || a.key.ID != b.key.ID {
		t.Fatalf("one seed, two keys: %s %s", a.key.Pub, b.key.Pub)
	}
	if _, err := New(newFakeHome("localhost"), Config{ServerName: "localhost", KeySeed: seed[:5]}); err == nil {
		t.Fatal("a 5-byte seed was taken")
	}
}

func TestVersionIsOpen(t *testing.T) {
	f := newMock(t, newFakeHome("localhost"), Tweaks{})
	rec := serve(f.Handler(), httptest.NewRequest(http.MethodGet, "/_matrix/federation/v1/version", nil))
	var v struct {
		Server struct{ Name, Version string }
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &v) != nil || v.Server.Name == "" || v.Server.Version == "" {
		t.Fatalf("version: %d %s", rec.Code, rec.Body)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	f := newMock(t, newFakeHome("localhost"), Tweaks{})
	wantError(t, serve(f.Handler(), httptest.NewRequest(http.MethodGet, "/_matrix/federation/v1/nothing", nil)), http.StatusNotFound, "M_UNRECOGNIZED")
	rec := serve(f.Handler(), httptest.NewRequest(http.MethodPost, "/_matrix/federation/v1/send/1", nil))
	wantError(t, rec, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
	if rec.Header().Get("Allow") != http.MethodPut {
		t.Fatalf("Allow: %q", rec.Header().Get("Allow"))
	}
}

func TestSendAppliesThePresenceOfTheOriginsUsers(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	bob := "@bob:" + p.Name
	carol := "@carol:" + p.Name
	rec := serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendPath("t1"), nil, presenceTxn(p.Name,
		map[string]any{"user_id": bob, "presence": "online", "last_active_ago": 1200, "status_msg": "here", "currently_active": true},
		map[string]any{"user_id": carol, "presence": "unavailable", "last_active_ago": 5},
	)))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"pdus"`) {
		t.Fatalf("send: %d %s", rec.Code, rec.Body)
	}
	got := home.appliedCopy()
	if len(got) != 2 || got[0].UserID != bob || got[0].Presence != "online" || got[0].LastActiveAgo != 1200 ||
		got[0].StatusMsg == nil || *got[0].StatusMsg != "here" || got[0].CurrentlyActive == nil || !*got[0].CurrentlyActive ||
		got[1].UserID != carol || got[1].Presence != "unavailable" || got[1].StatusMsg != nil || got[1].CurrentlyActive != nil {
		t.Fatalf("applied: %+v", got)
	}
}

// TestSendSkipsWhatIsNotTheOrigins: forged items, malformed items and EDUs,
// and other EDU types cost themselves only; the rest is applied.
func TestSendSkipsWhatIsNotTheOrigins(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	bob := "@bob:" + p.Name
	good := func(presence string) map[string]any {
		return map[string]any{"user_id": bob, "presence": presence, "last_active_ago": 1}
	}
	body := map[string]any{
		"origin": p.Name, "origin_server_ts": 1, "pdus": []any{},
		"edus": []any{
			"not an object",
			map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": "not a list"}},
			map[string]any{"edu_type": "m.typing", "content": map[string]any{"room_id": "!r:x", "user_id": bob, "typing": true}},
			map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": []any{
				map[string]any{"user_id": "@alice:localhost", "presence": "offline", "last_active_ago": 1}, // forged: a local user
				map[string]any{"user_id": "@eve:elsewhere.example", "presence": "online", "last_active_ago": 1},
				map[string]any{"user_id": bob, "presence": "online"},                         // no last_active_ago
				map[string]any{"user_id": bob, "presence": "away", "last_active_ago": 1},     // no such state
				map[string]any{"user_id": bob, "presence": "online", "last_active_ago": -1},  // negative
				map[string]any{"user_id": bob, "presence": "online", "last_active_ago": "1"}, // not a number
				map[string]any{"user_id": "bob", "presence": "online", "last_active_ago": 1}, // not a user ID
				map[string]any{"user_id": bob, "presence": "online", "last_active_ago": 1, "status_msg": 3},
				42,
				good("online"),
			}}},
			map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": []any{good("unavailable")}}},
		},
	}
	rec := serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendPath("t2"), nil, body))
	if rec.Code != http.StatusOK {
		t.Fatalf("send: %d %s", rec.Code, rec.Body)
	}
	got := home.appliedCopy()
	if len(got) != 2 || got[0].Presence != "online" || got[1].Presence != "unavailable" || got[0].UserID != bob || got[1].UserID != bob {
		t.Fatalf("applied %+v, want bob online then unavailable", got)
	}
}

func TestSendAppliesATransactionOnce(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	txn := presenceTxn(p.Name, map[string]any{"user_id": "@bob:" + p.Name, "presence": "online", "last_active_ago": 1})
	for range 3 {
		if rec := serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendPath("same"), nil, txn)); rec.Code != http.StatusOK {
			t.Fatalf("send: %d %s", rec.Code, rec.Body)
		}
	}
	if got := home.appliedCopy(); len(got) != 1 {
		t.Fatalf("a transaction sent three times was applied %d times", len(got))
	}
	serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendPath("other"), nil, txn))
	if got := home.appliedCopy(); len(got) != 2 {
		t.Fatalf("a new transaction ID was not applied: %d", len(got))
	}
}

// TestSendRefusals: each refusal is a Matrix error, and nothing is applied.
func TestSendRefusals(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	p := fedtest.NewPeer(t, f.Handler())
	other := fedtest.NewPeer(t, f.Handler())
	item := map[string]any{"user_id": "@bob:" + p.Name, "presence": "online", "last_active_ago": 1}
	good := presenceTxn(p.Name, item)
	goodBody, _ := json.Marshal(good)
	tooMany := presenceTxn(p.Name)
	var edus []any
	for range 101 {
		edus = append(edus, map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": []any{item}}})
	}
	tooMany["edus"] = edus
	tooManyPDUs := presenceTxn(p.Name, item)
	tooManyPDUs["pdus"] = slices.Repeat([]any{map[string]any{}}, 51)
	noPDUs := presenceTxn(p.Name, item)
	delete(noPDUs, "pdus")
	noTS := presenceTxn(p.Name, item)
	delete(noTS, "origin_server_ts")
	badTS := presenceTxn(p.Name, item)
	badTS["origin_server_ts"] = "yesterday"
	noOrigin := presenceTxn(p.Name, item)
	delete(noOrigin, "origin")

	unsigned := httptest.NewRequest(http.MethodPut, "/_matrix/federation/v1/send/u", strings.NewReader(string(goodBody)))
	badSig := p.Signed("localhost", http.MethodPut, sendPath("b"), nil, good)
	badSig.Header.Set("Authorization", strings.Replace(badSig.Header.Get("Authorization"), `sig="`, `sig="AAAA`, 1))
	// A signature over another body, replayed with this one.
	replay := p.Signed("localhost", http.MethodPut, sendPath("r"), nil, presenceTxn(p.Name))
	replay.Body = httptestBody(goodBody)
	replay.ContentLength = int64(len(goodBody))
	wrongDest := p.Signed("elsewhere.example", http.MethodPut, sendPath("d"), nil, good)
	noDest := p.Signed("localhost", http.MethodPut, sendPath("n"), nil, good)
	noDest.Header.Set("Authorization", strings.Replace(noDest.Header.Get("Authorization"), `destination="localhost",`, ``, 1))
	otherKey := p.Signed("localhost", http.MethodPut, sendPath("k"), nil, good)
	otherKey.Header.Set("Authorization", strings.Replace(otherKey.Header.Get("Authorization"), string(p.Key.ID), "ed25519:nope", 1))
	claimed := other.Signed("localhost", http.MethodPut, sendPath("c"), nil, good) // signed by other, body says p
	basic := httptest.NewRequest(http.MethodPut, "/_matrix/federation/v1/send/x", strings.NewReader(string(goodBody)))
	basic.Header.Set("Authorization", "Bearer abc")
	unknownOrigin := p.Signed("localhost", http.MethodPut, sendPath("o"), nil, good)
	unknownOrigin.Header.Set("Authorization", strings.Replace(unknownOrigin.Header.Get("Authorization"), p.Name, "127.0.0.1:1", 1))

	for _, c := range []struct {
		name    string
		r       *http.Request
		status  int
		errcode string
	}{
		{"unsigned", unsigned, 401, "M_UNAUTHORIZED"},
		{"not X-Matrix", basic, 401, "M_UNAUTHORIZED"},
		{"bad signature", badSig, 401, "M_UNAUTHORIZED"},
		{"signature of another body", replay, 401, "M_UNAUTHORIZED"},
		{"signed for another destination", wrongDest, 401, "M_UNAUTHORIZED"},
		{"a key the origin does not have", otherKey, 401, "M_UNAUTHORIZED"},
		{"an origin whose keys cannot be fetched", unknownOrigin, 401, "M_UNAUTHORIZED"},
		{"origin is not the signer", claimed, 400, "M_BAD_JSON"},
		{"101 EDUs", p.Signed("localhost", http.MethodPut, sendPath("e"), nil, tooMany), 400, "M_BAD_JSON"},
		{"51 PDUs", p.Signed("localhost", http.MethodPut, sendPath("p"), nil, tooManyPDUs), 400, "M_BAD_JSON"},
		{"no pdus", p.Signed("localhost", http.MethodPut, sendPath("np"), nil, noPDUs), 400, "M_BAD_JSON"},
		{"no origin_server_ts", p.Signed("localhost", http.MethodPut, sendPath("nt"), nil, noTS), 400, "M_BAD_JSON"},
		{"origin_server_ts not a number", p.Signed("localhost", http.MethodPut, sendPath("bt"), nil, badTS), 400, "M_BAD_JSON"},
		{"no origin", p.Signed("localhost", http.MethodPut, sendPath("no"), nil, noOrigin), 400, "M_BAD_JSON"},
		{"an array", p.Signed("localhost", http.MethodPut, sendPath("a"), nil, []any{good}), 400, "M_BAD_JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, serve(f.Handler(), c.r), c.status, c.errcode)
			if got := home.appliedCopy(); len(got) != 0 {
				t.Fatalf("refused, yet applied %+v", got)
			}
		})
	}
	// The header without a destination is the spec's older form: the
	// destination is then this server, and it verifies.
	if rec := serve(f.Handler(), noDest); rec.Code != http.StatusOK || len(home.appliedCopy()) != 1 {
		t.Fatalf("a header without destination: %d %s", rec.Code, rec.Body)
	}
}

func httptestBody(b []byte) *nopCloser { return &nopCloser{strings.NewReader(string(b))} }

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// TestKeysAreFetchedOnceAndCached: the origin's key server is asked once
// for many requests.
func TestKeysAreFetchedOnceAndCached(t *testing.T) {
	home := newFakeHome("localhost")
	f := newMock(t, home, Tweaks{})
	var fetches int
	p := fedtest.NewPeer(t, f.Handler())
	inner := p.Srv.Config.Handler
	p.Srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_matrix/key/") {
			fetches++
		}
		inner.ServeHTTP(w, r)
	})
	for i := range 5 {
		txn := presenceTxn(p.Name, map[string]any{"user_id": "@bob:" + p.Name, "presence": "online", "last_active_ago": i})
		if rec := serve(f.Handler(), p.Signed("localhost", http.MethodPut, sendPath(string(rune('a'+i))), nil, txn)); rec.Code != 200 {
			t.Fatalf("send %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if fetches != 1 {
		t.Fatalf("the origin's keys were fetched %d times for 5 requests, want 1", fetches)
	}
}
