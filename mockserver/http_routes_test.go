package mockserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestUnknownPathIsUnrecognized(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, path := range []string{
		"/", "/_matrix", "/_matrix/client", v1Prefix, v1Prefix + "/",
		"/_matrix/client/api/v2/presence/@alice:localhost/status",
		v3Prefix + "/presence/list/@alice:localhost", // lists are gone in r0 and v3
		r0Prefix + "/presence/list/@alice:localhost",
		"/_matrix/client/r1/presence/@alice:localhost/status",
		r0Prefix + "/tokenrefresh",
		"/_synapse/admin/v1/register/x",
		"/_synapse/admin/v2/register",
		v1Prefix + "/presence",
		v1Prefix + "/presence/@alice:localhost",
		v1Prefix + "/presence/@alice:localhost/status/",
		v1Prefix + "/presence/@alice:localhost/status/extra",
		v1Prefix + "/presence/list",
		v1Prefix + "/presence/list/@alice:localhost/",
		v1Prefix + "/PRESENCE/@alice:localhost/status",
		v1Prefix + "/register/",
		v1Prefix + "/tokenrefresh",
		v1Prefix + "/presence%2F@alice:localhost/status", // an encoded / does not split a literal segment
		v1Prefix + "/a/b/c/d/e/f/g/h/i/j/k",
	} {
		for _, method := range []string{"GET", "PUT", "POST"} {
			expectError(t, h.as(a.AccessToken, method, path, `{}`), http.StatusNotFound, "M_UNRECOGNIZED")
		}
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, tt := range []struct {
		path    string
		allow   string
		refused []string
	}{
		{v1Prefix + "/register", "GET, HEAD, POST, OPTIONS", []string{"PUT", "DELETE", "PATCH"}},
		{v1Prefix + "/login", "GET, HEAD, POST, OPTIONS", []string{"PUT", "DELETE", "PATCH"}},
		{statusPath(a.UserID), "GET, HEAD, PUT, OPTIONS", []string{"POST", "DELETE", "PATCH"}},
		{listPath(a.UserID), "GET, HEAD, POST, OPTIONS", []string{"PUT", "DELETE", "PATCH"}},
	} {
		before := h.snapshot(a)
		for _, method := range tt.refused {
			r := h.as(a.AccessToken, method, tt.path, `{"presence":"online","invite":["@bob:localhost"]}`)
			expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Errorf("%s %s: Allow %q, want %q", method, tt.path, got, tt.allow)
			}
		}
		if after := h.snapshot(a); after != before {
			t.Errorf("a refused method changed state:\n%s\n→\n%s", before, after)
		}
	}
}

func TestPreflight(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, tt := range []struct{ path, methods string }{
		{v1Prefix + "/register", "GET, HEAD, POST, OPTIONS"},
		{v1Prefix + "/login", "GET, HEAD, POST, OPTIONS"},
		{statusPath(a.UserID), "GET, HEAD, PUT, OPTIONS"},
		{statusPath("@nobody:localhost"), "GET, HEAD, PUT, OPTIONS"},
		{statusPath("not-an-id"), "GET, HEAD, PUT, OPTIONS"}, // no token, no ID check: a preflight only asks about the path
		{listPath(a.UserID), "GET, HEAD, POST, OPTIONS"},
	} {
		header := http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"PUT"}}
		r := h.request("OPTIONS", tt.path, "", header)
		if r.status != http.StatusOK || string(r.body) != "{}" {
			t.Errorf("OPTIONS %s: %s, want 200 {}", tt.path, r)
		}
		if got := r.header.Get("Access-Control-Allow-Methods"); got != tt.methods {
			t.Errorf("OPTIONS %s: Allow-Methods %q, want %q", tt.path, got, tt.methods)
		}
		if got, want := r.header.Get("Access-Control-Allow-Headers"), "Origin, X-Requested-With, Content-Type, Accept, Authorization"; got != want {
			t.Errorf("OPTIONS %s: Allow-Headers %q, want %q", tt.path, got, want)
		}
	}
}

// HEAD goes over a real server: net/http, not the handler, drops the body.
func TestHeadIsServedAsGet(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	ts := httptest.NewServer(h.srv)
	defer ts.Close()
	head := func(query string) (*http.Response, []byte) {
		res, err := ts.Client().Head(ts.URL + statusPath(a.UserID) + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	res, body := head("?access_token=" + a.AccessToken)
	if res.StatusCode != http.StatusOK || len(body) != 0 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD status: %d %q %v, want 200, no body, JSON headers", res.StatusCode, body, res.Header)
	}
	if res, _ := head(""); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("HEAD status without a token: %d, want 401", res.StatusCode)
	}
}

func TestEscapedPaths(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	slashed := h.register("a/b") // "/" is in the strict localpart grammar
	mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@a/b:localhost"]}`))
	want := string(mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")).body)
	for _, path := range []string{
		statusPath("%40alice%3Alocalhost"),
		statusPath("%40alice:localhost"),
		statusPath("@%61lice:localhost"),
		"/_matrix/client/api/v1/pres%65nce/@alice:localhost/status", // escaped literal segments are the same path
		"/%5Fmatrix/client/api/v1/presence/@alice:localhost/status",
	} {
		if r := h.as(a.AccessToken, "GET", path, ""); r.status != http.StatusOK || string(r.body) != want {
			t.Errorf("GET %s: %s, want 200 %s", path, r, want)
		}
	}
	// An encoded "/" stays inside the user ID.
	r := mustOK(t, h.as(a.AccessToken, "GET", statusPath("@a%2Fb:localhost"), ""))
	if got := decodeJSON(t, r.body).(map[string]any)["presence"]; got != "offline" {
		t.Errorf("GET status of @a/b:localhost: presence %v", got)
	}
	mustOK(t, h.as(slashed.AccessToken, "PUT", statusPath(url.PathEscape(slashed.UserID)), `{"presence":"online"}`))
	r = mustOK(t, h.as(a.AccessToken, "GET", statusPath("%40a%2Fb%3Alocalhost"), ""))
	if got := decodeJSON(t, r.body).(map[string]any)["presence"]; got != "online" {
		t.Errorf("after PUT via an escaped path: presence %v, want online", got)
	}
}

// /presence/list/status matches both route shapes; the literal "list"
// wins, so it is the list of the malformed user ID "status".
func TestListPathBeatsStatusPath(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	expectError(t, h.as(a.AccessToken, "GET", v1Prefix+"/presence/list/status", ""), http.StatusBadRequest, "M_INVALID_PARAM")
	r := h.as(a.AccessToken, "PUT", v1Prefix+"/presence/list/status", `{"presence":"online"}`)
	expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST, OPTIONS" {
		t.Errorf("Allow %q, want the list route's", got)
	}
}

// Every route r0 and v3 add, and the routes of no version, answer wrong
// methods and preflights as v1's do.
func TestLaterRoutesMethodsAndPreflight(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, prefix := range laterPrefixes {
		for _, tt := range []struct {
			path, allow string
			refused     []string
		}{
			{prefix + "/register", "POST, OPTIONS", []string{"GET", "PUT", "DELETE"}},
			{prefix + "/login", "GET, HEAD, POST, OPTIONS", []string{"PUT", "DELETE"}},
			{statusPathIn(prefix, a.UserID), "GET, HEAD, PUT, OPTIONS", []string{"POST", "DELETE"}},
			{prefix + "/createRoom", "POST, OPTIONS", []string{"GET", "PUT"}},
			{prefix + "/join/!a:localhost", "POST, OPTIONS", []string{"GET", "PUT"}},
			{prefix + "/rooms/!a:localhost/join", "POST, OPTIONS", []string{"GET", "PUT"}},
			{prefix + "/rooms/!a:localhost/leave", "POST, OPTIONS", []string{"GET", "DELETE"}},
			{prefix + "/capabilities", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{prefix + "/account/whoami", "GET, HEAD, OPTIONS", []string{"POST", "DELETE"}},
			{prefix + "/pushrules/", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{prefix + "/pushrules/global/", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{prefix + "/profile/" + a.UserID, "GET, HEAD, OPTIONS", []string{"PUT", "POST"}},
			{prefix + "/profile/" + a.UserID + "/displayname", "GET, HEAD, PUT, OPTIONS", []string{"POST", "DELETE"}},
			{prefix + "/profile/" + a.UserID + "/avatar_url", "GET, HEAD, PUT, OPTIONS", []string{"POST", "DELETE"}},
			{prefix + "/joined_rooms", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{prefix + "/logout", "POST, OPTIONS", []string{"GET", "PUT"}},
			{prefix + "/logout/all", "POST, OPTIONS", []string{"GET", "DELETE"}},
			{prefix + "/register/available", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{"/_matrix/client/versions", "GET, HEAD, OPTIONS", []string{"POST", "PUT"}},
			{adminRegisterPath, "GET, HEAD, POST, OPTIONS", []string{"PUT", "DELETE"}},
		} {
			before := h.world()
			for _, method := range tt.refused {
				r := h.as(a.AccessToken, method, tt.path, `{}`)
				expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
				if got := r.header.Get("Allow"); got != tt.allow {
					t.Errorf("%s %s: Allow %q, want %q", method, tt.path, got, tt.allow)
				}
			}
			h.unchanged("refused methods", before)
			// A preflight needs no token, and checks no ID.
			r := h.request("OPTIONS", strings.ReplaceAll(tt.path, "!a:localhost", "not-a-room"), "", http.Header{"Origin": {"https://app.example"}})
			if r.status != http.StatusOK || string(r.body) != "{}" || r.header.Get("Access-Control-Allow-Methods") != tt.allow {
				t.Errorf("OPTIONS %s: %s, Allow-Methods %q", tt.path, r, r.header.Get("Access-Control-Allow-Methods"))
			}
		}
	}
}

// A preflight on a path the mock does not serve is answered too, with the
// methods the spec recommends: a browser preflights before it learns the
// path is unknown, and the 404 that follows must reach it.
func TestPreflightOnAnyPath(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, path := range []string{
		"/",
		"/nowhere",
		"/_matrix/client/v3/keys/changes",
		"/_matrix/client/v3/rooms/!a:localhost/send/m.room.message/1",
		"/_matrix/media/v3/config",
		v1Prefix + "/a/b/c/d/e/f/g/h/i/j/k",
	} {
		before := h.world()
		r := h.request("OPTIONS", path, "", http.Header{"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"GET"}})
		if r.status != http.StatusOK || string(r.body) != "{}" {
			t.Errorf("OPTIONS %s: %s, want 200 {}", path, r)
		}
		if got := r.header.Get("Access-Control-Allow-Methods"); got != "GET, POST, PUT, DELETE, OPTIONS" {
			t.Errorf("OPTIONS %s: Allow-Methods %q", path, got)
		}
		if got := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(got, "Authorization") {
			t.Errorf("OPTIONS %s: Allow-Headers %q", path, got)
		}
		h.unchanged("OPTIONS "+path, before)
		// The request the preflight was for still gets its 404.
		expectError(t, h.as(a.AccessToken, "GET", path, ""), http.StatusNotFound, "M_UNRECOGNIZED")
	}
	// A preflight does nothing the path's methods do: no logout.
	mustOK(t, h.as(a.AccessToken, "OPTIONS", v3Prefix+"/logout", ""))
	mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(v3Prefix, a.UserID), ""))
}
