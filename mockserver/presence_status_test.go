package mockserver

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPutAndGetOwnStatus(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	get := func() string { return string(mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")).body) }

	if got := get(); got != `{"presence":"offline","last_active_ago":0,"status_msg":null}` {
		t.Errorf("new account: %s", got)
	}
	h.clock.Advance(2500 * time.Millisecond)
	if got := get(); got != `{"presence":"offline","last_active_ago":2500,"status_msg":null}` {
		t.Errorf("2.5 s after registering: %s", got)
	}
	// Reading is not activity.
	h.clock.Advance(time.Second)
	if got := get(); got != `{"presence":"offline","last_active_ago":3500,"status_msg":null}` {
		t.Errorf("after reading twice: %s", got)
	}

	r := mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"I am \"here\"\n"}`))
	if string(r.body) != "{}" {
		t.Errorf("PUT answered %s, want {}", r.body)
	}
	if got := get(); got != `{"presence":"online","last_active_ago":0,"status_msg":"I am \"here\"\n"}` {
		t.Errorf("after PUT: %s", got)
	}
	h.clock.Advance(42 * time.Millisecond)
	// An absent status_msg clears it: presence and message are set together.
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable"}`))
	if got := get(); got != `{"presence":"unavailable","last_active_ago":0,"status_msg":null}` {
		t.Errorf("after PUT without status_msg: %s", got)
	}
	// An empty message is a message.
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable","status_msg":""}`))
	if got := get(); got != `{"presence":"unavailable","last_active_ago":0,"status_msg":""}` {
		t.Errorf("after PUT with an empty status_msg: %s", got)
	}
}

// The accepted states are the seed's enum, each of them.
func TestEveryPresenceStateOfTheSeed(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	api, err := v1Facts()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(api.presenceStates, ",") != "online,offline,unavailable,free_for_chat" {
		t.Errorf("v1 states from the seed: %v", api.presenceStates)
	}
	for _, state := range api.presenceStates {
		mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"`+state+`"}`))
		got := decodeJSON(t, mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")).body).(map[string]any)
		if got["presence"] != state {
			t.Errorf("PUT %s, GET says %v", state, got["presence"])
		}
	}
}

func TestPutStatusAcceptsWhatMatrixAllows(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, tt := range []struct{ body, want string }{
		{`{"presence":"online","last_active_ago":5,"currently_active":true}`, `{"presence":"online","last_active_ago":0,"status_msg":null}`}, // other keys are ignored
		{` {"status_msg":"first","presence":"free_for_chat"} `, `{"presence":"free_for_chat","last_active_ago":0,"status_msg":"first"}`},
		{`{"pres\u0065nce":"online","status_msg":"\u00e9\ud83d\ude00"}`, `{"presence":"online","last_active_ago":0,"status_msg":"é😀"}`},
		{`{"presence":"online","PRESENCE":"bogus","Status_Msg":5}`, `{"presence":"online","last_active_ago":0,"status_msg":null}`}, // keys are case-sensitive
	} {
		mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), tt.body))
		if got := string(mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")).body); got != tt.want {
			t.Errorf("PUT %s; GET %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestPutStatusRefusals(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"before"}`))
	mustOK(t, h.as(b.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"unavailable","status_msg":"bob's"}`))
	h.clock.Advance(time.Second)
	huge := `{"presence":"online","status_msg":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	for _, tt := range []struct {
		name    string
		path    string
		body    string
		status  int
		errcode string
		inError string // the message names the field
	}{
		{"another user's status", statusPath(b.UserID), `{"presence":"offline"}`, 403, "M_FORBIDDEN", ""},
		{"a user who does not exist", statusPath("@nobody:localhost"), `{"presence":"offline"}`, 403, "M_FORBIDDEN", ""},
		{"a remote user", statusPath("@alice:elsewhere"), `{"presence":"offline"}`, 403, "M_FORBIDDEN", ""},
		{"malformed user ID", statusPath("alice"), `{"presence":"offline"}`, 400, "M_INVALID_PARAM", "userId"},
		{"empty user ID", statusPath(""), `{"presence":"offline"}`, 400, "M_INVALID_PARAM", "userId"},
		{"not JSON", statusPath(a.UserID), `presence=online`, 400, "M_NOT_JSON", ""},
		{"empty body", statusPath(a.UserID), ``, 400, "M_NOT_JSON", ""},
		{"truncated", statusPath(a.UserID), `{"presence":"online"`, 400, "M_NOT_JSON", ""},
		{"two values", statusPath(a.UserID), `{"presence":"online"} {}`, 400, "M_NOT_JSON", ""},
		{"invalid UTF-8", statusPath(a.UserID), "{\"presence\":\"online\",\"status_msg\":\"\xff\"}", 400, "M_NOT_JSON", ""},
		{"an array", statusPath(a.UserID), `[{"presence":"online"}]`, 400, "M_BAD_JSON", "object"},
		{"a string", statusPath(a.UserID), `"online"`, 400, "M_BAD_JSON", "object"},
		{"null", statusPath(a.UserID), `null`, 400, "M_BAD_JSON", "object"},
		{"no presence", statusPath(a.UserID), `{"status_msg":"hi"}`, 400, "M_BAD_JSON", "presence"},
		{"presence in other case", statusPath(a.UserID), `{"Presence":"online"}`, 400, "M_BAD_JSON", "presence"},
		{"presence null", statusPath(a.UserID), `{"presence":null}`, 400, "M_BAD_JSON", "presence"},
		{"presence a number", statusPath(a.UserID), `{"presence":1}`, 400, "M_BAD_JSON", "presence"},
		{"presence an array", statusPath(a.UserID), `{"presence":["online"]}`, 400, "M_BAD_JSON", "presence"},
		{"unknown state", statusPath(a.UserID), `{"presence":"busy"}`, 400, "M_BAD_JSON", "presence"},
		{"state in other case", statusPath(a.UserID), `{"presence":"Online"}`, 400, "M_BAD_JSON", "presence"},
		{"state with space", statusPath(a.UserID), `{"presence":"online "}`, 400, "M_BAD_JSON", "presence"},
		{"presence twice", statusPath(a.UserID), `{"presence":"online","presence":"offline"}`, 400, "M_BAD_JSON", "presence"},
		{"status_msg null", statusPath(a.UserID), `{"presence":"online","status_msg":null}`, 400, "M_BAD_JSON", "status_msg"},
		{"status_msg a number", statusPath(a.UserID), `{"presence":"online","status_msg":42}`, 400, "M_BAD_JSON", "status_msg"},
		{"status_msg an object", statusPath(a.UserID), `{"presence":"online","status_msg":{}}`, 400, "M_BAD_JSON", "status_msg"},
		{"status_msg twice", statusPath(a.UserID), `{"presence":"online","status_msg":"a","status_msg":"b"}`, 400, "M_BAD_JSON", "status_msg"},
		{"too large", statusPath(a.UserID), huge, 413, "M_TOO_LARGE", ""},
	} {
		beforeA, beforeB := h.snapshot(a), h.snapshot(b)
		r := h.as(a.AccessToken, "PUT", tt.path, tt.body)
		expectError(t, r, tt.status, tt.errcode)
		if !strings.Contains(string(r.body), tt.inError) {
			t.Errorf("%s: error %s does not name %q", tt.name, r.body, tt.inError)
		}
		if afterA, afterB := h.snapshot(a), h.snapshot(b); afterA != beforeA || afterB != beforeB {
			t.Errorf("%s changed state:\n%s\n%s\n→\n%s\n%s", tt.name, beforeA, beforeB, afterA, afterB)
		}
	}
}

// A body without Content-Length is cut off at the limit all the same.
func TestPutStatusTooLargeWithoutContentLength(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	before := h.snapshot(a)
	body := `{"presence":"online","status_msg":"` + strings.Repeat("x", maxBodyBytes) + `"}`
	req := httptestRequest("PUT", statusPath(a.UserID)+"?access_token="+a.AccessToken, body)
	req.ContentLength = -1 // as a chunked upload arrives
	r := h.serve(req)
	expectError(t, r, http.StatusRequestEntityTooLarge, "M_TOO_LARGE")
	if after := h.snapshot(a); after != before {
		t.Errorf("changed state: %s → %s", before, after)
	}
	// Exactly at the limit is allowed.
	msg := strings.Repeat("x", maxBodyBytes-len(`{"presence":"online","status_msg":""}`))
	mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"`+msg+`"}`))
}

func TestGetStatusVisibility(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	b := h.register("bob")
	c := h.register("carol")
	mustOK(t, h.as(b.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"online","status_msg":"bob here"}`))
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@bob:localhost"]}`))
	h.clock.Advance(7 * time.Millisecond)

	// alice listed bob: she sees him, with his message.
	r := mustOK(t, h.as(a.AccessToken, "GET", statusPath(b.UserID), ""))
	if string(r.body) != `{"presence":"online","last_active_ago":7,"status_msg":"bob here"}` {
		t.Errorf("alice reads bob: %s", r.body)
	}
	// Seeing is one-way, and a user nobody listed is as invisible as one
	// who does not exist: same status, same body.
	notFound := h.as(a.AccessToken, "GET", statusPath("@nobody:localhost"), "")
	expectError(t, notFound, http.StatusNotFound, "M_NOT_FOUND")
	for _, tt := range []struct {
		viewer Account
		target string
	}{
		{b, a.UserID},            // bob did not list alice
		{a, c.UserID},            // alice did not list carol
		{c, b.UserID},            // carol did not list bob
		{a, "@bob:elsewhere"},    // remote
		{a, "@Bob:localhost"},    // user IDs are compared exactly
		{a, "@nobody:localhost"}, // no such user
	} {
		r := h.as(tt.viewer.AccessToken, "GET", statusPath(tt.target), "")
		if r.status != notFound.status || string(r.body) != string(notFound.body) {
			t.Errorf("%s reads %s: %s; want exactly %s", tt.viewer.UserID, tt.target, r, notFound)
		}
	}
	expectError(t, h.as(a.AccessToken, "GET", statusPath("bob"), ""), http.StatusBadRequest, "M_INVALID_PARAM")

	// Dropping bob hides him again.
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"drop":["@bob:localhost"]}`))
	if r := h.as(a.AccessToken, "GET", statusPath(b.UserID), ""); string(r.body) != string(notFound.body) {
		t.Errorf("after the drop: %s", r)
	}
}
