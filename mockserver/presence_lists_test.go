package mockserver

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// listedIDs reads a presence list back and returns its user IDs in order.
func (h *harness) listedIDs(acct Account) []string {
	h.t.Helper()
	events := decodeJSON(h.t, mustOK(h.t, h.as(acct.AccessToken, "GET", listPath(acct.UserID), "")).body).([]any)
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.(map[string]any)["content"].(map[string]any)["user_id"].(string))
	}
	return ids
}

func TestPresenceListEvents(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	h.register("carol")
	if r := mustOK(t, h.as(a.AccessToken, "GET", listPath(a.UserID), "")); string(r.body) != "[]" {
		t.Errorf("a new list: %s, want []", r.body)
	}
	mustOK(t, h.as(b.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"online","status_msg":"hi"}`))
	h.clock.Advance(10 * time.Millisecond)
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@carol:localhost","@bob:localhost"]}`))
	h.clock.Advance(5 * time.Millisecond)
	r := mustOK(t, h.as(a.AccessToken, "GET", listPath(a.UserID), ""))
	want := `[{"type":"m.presence","content":{"user_id":"@carol:localhost","presence":"offline","last_active_ago":15}},` +
		`{"type":"m.presence","content":{"user_id":"@bob:localhost","presence":"online","last_active_ago":15,"status_msg":"hi"}}]`
	if string(r.body) != want {
		t.Errorf("list:\n%s\nwant:\n%s", r.body, want)
	}
}

func TestPresenceListChanges(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, name := range []string{"bob", "carol", "dave"} {
		h.register(name)
	}
	post := func(body string) { t.Helper(); mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), body)) }
	expect := func(want ...string) {
		t.Helper()
		if got := h.listedIDs(a); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("list %v, want %v", got, want)
		}
	}
	post(`{"invite":["@dave:localhost","@bob:localhost"]}`)
	expect("@dave:localhost", "@bob:localhost")
	post(`{"invite":["@dave:localhost","@carol:localhost","@carol:localhost"]}`) // twice is a no-op; order kept
	expect("@dave:localhost", "@bob:localhost", "@carol:localhost")
	post(`{"drop":["@bob:localhost"],"invite":["@bob:localhost"]}`) // drops come after invites, whatever the key order
	expect("@dave:localhost", "@carol:localhost")
}

func TestPresenceListNoOps(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	h.register("bob")
	h.register("carol")
	post := func(body string) { t.Helper(); mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), body)) }
	expect := func(want ...string) {
		t.Helper()
		if got := h.listedIDs(a); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("list %v, want %v", got, want)
		}
	}
	post(`{}`)
	expect()
	post(`{"invite":[],"drop":[]}`)
	expect()
	post(`{"drop":["@bob:localhost"]}`) // not listed: no-op
	expect()
	post(`{"invite":["@bob:localhost","@carol:localhost"]}`)
	post(`{"drop":["@alice:localhost"]}`) // the owner is never listed: dropping them is a no-op
	expect("@bob:localhost", "@carol:localhost")
	post(`{"invite":["@bob:localhost"],"drop":["@bob:localhost"]}`) // invites first, then drops
	expect("@carol:localhost")
	post(`{"drop":["@carol:localhost"],"invite":["@carol:localhost"]}`) // whatever the key order
	expect()
	post(`{"invite":["@bob:localhost"]}`)
	post(`{"invite":["@carol:localhost"]}`)
	post(`{"drop":["@bob:localhost"]}`)
	post(`{"invite":["@bob:localhost"]}`) // re-invited goes to the end
	expect("@carol:localhost", "@bob:localhost")
	post(`{"invite":["@b\u006fb:localhost"],"other":1}`) // escapes decode; other keys are ignored
	expect("@carol:localhost", "@bob:localhost")
}

func TestPresenceListRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	h.register("carol")
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@carol:localhost"]}`))
	mustOK(t, h.as(b.AccessToken, "POST", listPath(b.UserID), `{"invite":["@carol:localhost"]}`))
	for _, tt := range []struct {
		name    string
		method  string
		path    string
		body    string
		status  int
		errcode string
		inError string
	}{
		{"read another's list", "GET", listPath(b.UserID), "", 403, "M_FORBIDDEN", ""},
		{"read a missing user's list", "GET", listPath("@nobody:localhost"), "", 403, "M_FORBIDDEN", ""},
		{"change another's list", "POST", listPath(b.UserID), `{"drop":["@carol:localhost"]}`, 403, "M_FORBIDDEN", ""},
		{"change a missing user's list", "POST", listPath("@nobody:localhost"), `{}`, 403, "M_FORBIDDEN", ""},
		{"malformed path ID", "POST", listPath("alice"), `{}`, 400, "M_INVALID_PARAM", "userId"},
		{"malformed path ID, GET", "GET", listPath("@alice"), "", 400, "M_INVALID_PARAM", "userId"},
		{"malformed invite", "POST", listPath(a.UserID), `{"invite":["@bob:localhost","bob"]}`, 400, "M_INVALID_PARAM", "invite[1]"},
		{"malformed drop", "POST", listPath(a.UserID), `{"invite":["@bob:localhost"],"drop":["@carol"]}`, 400, "M_INVALID_PARAM", "drop[0]"},
		{"malformed beats unknown", "POST", listPath(a.UserID), `{"invite":["@nobody:localhost"],"drop":[""]}`, 400, "M_INVALID_PARAM", "drop[0]"},
		{"invite yourself", "POST", listPath(a.UserID), `{"invite":["@bob:localhost","@alice:localhost"]}`, 400, "M_INVALID_PARAM", "invite[1]"},
		{"unknown invite", "POST", listPath(a.UserID), `{"invite":["@bob:localhost","@nobody:localhost"]}`, 404, "M_NOT_FOUND", "invite[1]"},
		{"remote invite", "POST", listPath(a.UserID), `{"invite":["@bob:elsewhere"]}`, 404, "M_NOT_FOUND", "invite[0]"},
		{"unknown drop", "POST", listPath(a.UserID), `{"invite":["@bob:localhost"],"drop":["@carol:localhost","@nobody:localhost"]}`, 404, "M_NOT_FOUND", "drop[1]"},
		{"invite not an array", "POST", listPath(a.UserID), `{"invite":"@bob:localhost"}`, 400, "M_BAD_JSON", "invite"},
		{"invite null", "POST", listPath(a.UserID), `{"invite":null}`, 400, "M_BAD_JSON", "invite"},
		{"invite element not a string", "POST", listPath(a.UserID), `{"invite":["@bob:localhost",7]}`, 400, "M_BAD_JSON", "invite[1]"},
		{"drop an object", "POST", listPath(a.UserID), `{"drop":{"@carol:localhost":true}}`, 400, "M_BAD_JSON", "drop"},
		{"drop element null", "POST", listPath(a.UserID), `{"drop":[null]}`, 400, "M_BAD_JSON", "drop[0]"},
		{"invite twice", "POST", listPath(a.UserID), `{"invite":["@bob:localhost"],"invite":[]}`, 400, "M_BAD_JSON", "invite"},
		{"not an object", "POST", listPath(a.UserID), `["@bob:localhost"]`, 400, "M_BAD_JSON", "object"},
		{"not JSON", "POST", listPath(a.UserID), `invite=@bob:localhost`, 400, "M_NOT_JSON", ""},
		{"empty body", "POST", listPath(a.UserID), ``, 400, "M_NOT_JSON", ""},
		{"too large", "POST", listPath(a.UserID), `{"invite":["` + strings.Repeat("@bob:localhost\",\"", maxBodyBytes/16) + `"]}`, 413, "M_TOO_LARGE", ""},
	} {
		beforeA, beforeB := h.snapshot(a), h.snapshot(b)
		r := h.as(a.AccessToken, tt.method, tt.path, tt.body)
		expectError(t, r, tt.status, tt.errcode)
		if !strings.Contains(string(r.body), tt.inError) {
			t.Errorf("%s: error %s does not name %q", tt.name, r.body, tt.inError)
		}
		if afterA, afterB := h.snapshot(a), h.snapshot(b); afterA != beforeA || afterB != beforeB {
			t.Errorf("%s changed state:\n%s\n%s\n→\n%s\n%s", tt.name, beforeA, beforeB, afterA, afterB)
		}
	}
}

// A list longer than one flush arrives whole and in order.
func TestLongPresenceList(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	var want, quoted []string
	for i := range 3 * listFlushBytes / 60 { // each event is over 60 bytes
		u := h.register(fmt.Sprintf("friend%03d", i))
		want = append(want, u.UserID)
		quoted = append(quoted, `"`+u.UserID+`"`)
	}
	slices.Reverse(want) // invite order, not registration order
	slices.Reverse(quoted)
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":[`+strings.Join(quoted, ",")+`]}`))
	r := mustOK(t, h.as(a.AccessToken, "GET", listPath(a.UserID), ""))
	if len(r.body) < 2*listFlushBytes {
		t.Fatalf("the body is %d bytes: too short to test flushing", len(r.body))
	}
	if got := h.listedIDs(a); !slices.Equal(got, want) {
		t.Errorf("list of %d, want %d in invite order", len(got), len(want))
	}
}
