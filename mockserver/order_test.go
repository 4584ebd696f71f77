package mockserver

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each case breaks two rules at once, and the earlier check in the
// documented order must answer: route and method, token, rate limit, path
// user ID, permission, body size, body. The rate limit allows one request a
// second; only the "limited" user has spent theirs.
func TestCheckOrder(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1 })
	a := h.register("alice")
	b := h.register("bob")
	limited := h.register("limited")
	huge := `{"presence":` + strings.Repeat(" ", maxBodyBytes) + `"online"}`
	hugeBad := "{" + strings.Repeat("x", maxBodyBytes)
	for _, tt := range []struct {
		name    string
		method  string
		target  string
		body    string
		status  int
		errcode string
		spend   bool // the limited user spends their token first
		header  http.Header
	}{
		{"unknown path before token", "GET", v1Prefix + "/presence/x", "", 404, "M_UNRECOGNIZED", false, nil},
		{"method before token", "DELETE", statusPath("bad"), "", 405, "M_UNRECOGNIZED", false, nil},
		{"token before rate limit", "GET", statusPath(limited.UserID) + "?access_token=" + limited.AccessToken, "", 401, "M_MISSING_TOKEN", true,
			http.Header{"Authorization": {"Bearer " + limited.AccessToken}}}, // the token is given twice
		{"token before path ID", "PUT", statusPath("bad"), "{}", 401, "M_MISSING_TOKEN", false, nil},
		{"rate limit before path ID", "PUT", statusPath("bad") + "?access_token=" + limited.AccessToken, "{}", 429, "M_LIMIT_EXCEEDED", true, nil},
		{"path ID before permission", "PUT", statusPath("@bob") + "?access_token=" + a.AccessToken, `{"presence":"online"}`, 400, "M_INVALID_PARAM", false, nil},
		{"permission before body size", "PUT", statusPath(b.UserID) + "?access_token=" + a.AccessToken, huge, 403, "M_FORBIDDEN", false, nil},
		{"list permission before body", "POST", listPath(b.UserID) + "?access_token=" + a.AccessToken, "not json", 403, "M_FORBIDDEN", false, nil},
		{"body size before body", "PUT", statusPath(a.UserID) + "?access_token=" + a.AccessToken, hugeBad, 413, "M_TOO_LARGE", false, nil},
		{"list body size before body", "POST", listPath(a.UserID) + "?access_token=" + a.AccessToken, hugeBad, 413, "M_TOO_LARGE", false, nil},
	} {
		h.clock.Advance(time.Second) // every bucket full again: one request each
		if tt.spend {
			mustOK(t, h.as(limited.AccessToken, "GET", statusPath(limited.UserID), "")) // spends its token
		}
		beforeA, beforeB := h.stateOf(a), h.stateOf(b)
		r := h.request(tt.method, tt.target, tt.body, tt.header)
		if r.status != tt.status || r.errcode() != tt.errcode {
			t.Errorf("%s: %s, want %d %s", tt.name, r, tt.status, tt.errcode)
		}
		if afterA, afterB := h.stateOf(a), h.stateOf(b); afterA != beforeA || afterB != beforeB {
			t.Errorf("%s changed state", tt.name)
		}
	}
}

// stateOf reads a user's state directly, without spending their rate
// limit as the API would.
func (h *harness) stateOf(acct Account) string {
	u := h.srv.userByID(acct.UserID)
	st := u.state()
	var ids []string
	for _, l := range u.listCopy() {
		ids = append(ids, l.id)
	}
	api, _ := v1Facts()
	return string(appendStatus(nil, api, st, h.clock.Now())) + strings.Join(ids, ",")
}

// The same order holds on the routes r0 and v3 add: route and method,
// token, rate limit, path room ID, the room, permission, body size, body.
// Registration and the admin API, which take no token, check what the
// client chose before whether it may: the query, then whether registration
// is open, then the body, the name, and the auth last.
func TestCheckOrderLaterRoutes(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1; o.RegistrationSharedSecret = "s3cret" })
	a := h.register("alice")
	b := h.register("bob")
	limited := h.register("limited")
	h.register("taken")
	closed := newHarness(t, func(o *Options) { o.ClosedRegistration = true })
	roomID := h.createRoom(v3Prefix, a)
	hugeBad := "{" + strings.Repeat("x", maxBodyBytes)
	tok := func(acct Account) string { return "?access_token=" + acct.AccessToken }
	for _, tt := range []struct {
		name    string
		h       *harness
		method  string
		target  string
		body    string
		status  int
		errcode string
		spend   bool
	}{
		{"unknown path before token", h, "POST", v3Prefix + "/rooms/x", "", 404, "M_UNRECOGNIZED", false},
		{"method before token", h, "GET", v3Prefix + "/createRoom", "", 405, "M_UNRECOGNIZED", false},
		{"token before body", h, "POST", v3Prefix + "/createRoom", "nope", 401, "M_MISSING_TOKEN", false},
		{"token before room ID", h, "POST", v3Prefix + "/join/bad", "", 401, "M_MISSING_TOKEN", false},
		{"rate limit before room ID", h, "POST", r0Prefix + "/join/bad" + tok(limited), "", 429, "M_LIMIT_EXCEEDED", true},
		{"rate limit before body", h, "POST", r0Prefix + "/createRoom" + tok(limited), "nope", 429, "M_LIMIT_EXCEEDED", true},
		{"room ID before room", h, "POST", v3Prefix + "/rooms/bad/leave" + tok(b), "", 400, "M_INVALID_PARAM", false},
		{"room before permission", h, "POST", v3Prefix + "/rooms/!nope:localhost/join" + tok(b), hugeBad, 404, "M_NOT_FOUND", false},
		{"join permission before body size", h, "POST", v3Prefix + "/join/" + roomID + tok(b), hugeBad, 403, "M_FORBIDDEN", false},
		{"leave permission before body", h, "POST", v3Prefix + "/rooms/" + roomID + "/leave" + tok(b), "nope", 403, "M_FORBIDDEN", false},
		{"join body size before body", h, "POST", v3Prefix + "/join/" + roomID + tok(a), hugeBad, 413, "M_TOO_LARGE", false},
		{"createRoom body size before body", h, "POST", v3Prefix + "/createRoom" + tok(a), hugeBad, 413, "M_TOO_LARGE", false},
		{"createRoom body before invitees", h, "POST", v3Prefix + "/createRoom" + tok(a), `{"invite":["bad"],"preset":"x"}`, 400, "M_BAD_JSON", false},
		{"invitee form before existence", h, "POST", v3Prefix + "/createRoom" + tok(a), `{"invite":["@nobody:localhost","bad"]}`, 400, "M_INVALID_PARAM", false},
		{"kind before closed registration", closed, "POST", r0Prefix + "/register?kind=x", "", 400, "M_INVALID_PARAM", false},
		{"closed registration before guests", closed, "POST", r0Prefix + "/register?kind=guest", "", 403, "M_FORBIDDEN", false},
		{"closed registration before body size", closed, "POST", v3Prefix + "/register", hugeBad, 403, "M_FORBIDDEN", false},
		{"register body size before body", h, "POST", v3Prefix + "/register", hugeBad, 413, "M_TOO_LARGE", false},
		{"register body before username", h, "POST", v3Prefix + "/register", `{"username":"taken","password":7}`, 400, "M_BAD_JSON", false},
		{"username before auth", h, "POST", v3Prefix + "/register", `{"username":"taken","password":"pw","auth":{"type":"m.login.dummy","session":"x"}}`, 400, "M_USER_IN_USE", false},
		{"secret off before body", closed, "POST", adminRegisterPath, "nope", 400, "M_UNKNOWN", false},
		{"admin body before nonce", h, "POST", adminRegisterPath, `{"nonce":"x","username":"dave","password":"pw"}`, 400, "M_BAD_JSON", false},
		{"nonce before MAC", h, "POST", adminRegisterPath, `{"nonce":"x","username":"taken","password":"pw","mac":"bad"}`, 400, "M_UNKNOWN", false},
	} {
		h.clock.Advance(time.Second) // every bucket full again: one request each
		if tt.spend {
			mustOK(t, h.as(limited.AccessToken, "GET", statusPath(limited.UserID), ""))
		}
		before := tt.h.world()
		r := tt.h.request(tt.method, tt.target, tt.body, nil)
		if r.status != tt.status || r.errcode() != tt.errcode {
			t.Errorf("%s: %s, want %d %s", tt.name, r, tt.status, tt.errcode)
		}
		tt.h.unchanged(tt.name, before)
	}
	// The MAC before the name: without the secret, nothing about names.
	nonce := h.nonce()
	r := h.request("POST", adminRegisterPath, adminBody(nonce, "taken", "pw", false, "bad"), nil)
	if r.status != http.StatusForbidden || r.errcode() != "M_FORBIDDEN" {
		t.Errorf("MAC before username: %s", r)
	}
}

// The start-up calls keep the order: route and method, token, rate limit,
// path user ID, permission, body size, body. Refused, none changes state,
// and a refused logout leaves its token working.
func TestCheckOrderStartupRoutes(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1 })
	a := h.register("alice")
	b := h.register("bob")
	limited := h.register("limited")
	closed := newHarness(t, func(o *Options) { o.ClosedRegistration = true })
	hugeBad := "{" + strings.Repeat("x", maxBodyBytes)
	tok := func(acct Account) string { return "?access_token=" + acct.AccessToken }
	name := v3Prefix + "/profile/" + a.UserID + "/displayname"
	for _, tt := range []struct {
		name    string
		h       *harness
		method  string
		target  string
		body    string
		status  int
		errcode string
		spend   bool
	}{
		{"unknown path before token", h, "GET", v3Prefix + "/profile/" + a.UserID + "/m.tz", "", 404, "M_UNRECOGNIZED", false},
		{"method before token", h, "DELETE", v3Prefix + "/logout", "", 405, "M_UNRECOGNIZED", false},
		{"token before body", h, "POST", v3Prefix + "/logout", "nope", 401, "M_MISSING_TOKEN", false},
		{"token before user ID", h, "PUT", v3Prefix + "/profile/bad/displayname", "nope", 401, "M_MISSING_TOKEN", false},
		{"rate limit before user ID", h, "PUT", r0Prefix + "/profile/bad/displayname" + tok(limited), "nope", 429, "M_LIMIT_EXCEEDED", true},
		{"rate limit before logout", h, "POST", r0Prefix + "/logout" + tok(limited), "", 429, "M_LIMIT_EXCEEDED", true},
		{"rate limit before logout/all", h, "POST", r0Prefix + "/logout/all" + tok(limited), "", 429, "M_LIMIT_EXCEEDED", true},
		{"user ID before permission", h, "PUT", v3Prefix + "/profile/bad/displayname" + tok(b), "nope", 400, "M_INVALID_PARAM", false},
		{"permission before body size", h, "PUT", name + tok(b), hugeBad, 403, "M_FORBIDDEN", false},
		{"profile body size before body", h, "PUT", name + tok(a), hugeBad, 413, "M_TOO_LARGE", false},
		{"logout body size before body", h, "POST", v3Prefix + "/logout" + tok(a), hugeBad, 413, "M_TOO_LARGE", false},
		{"logout body before logout", h, "POST", v3Prefix + "/logout" + tok(a), "nope", 400, "M_NOT_JSON", false},
		{"user ID before the profile", h, "GET", v3Prefix + "/profile/bad", "", 400, "M_INVALID_PARAM", false},
		{"closed registration before the username", closed, "GET", v3Prefix + "/register/available?username=Bad", "", 403, "M_FORBIDDEN", false},
		{"username given before its form", h, "GET", v3Prefix + "/register/available", "", 400, "M_MISSING_PARAM", false},
	} {
		h.clock.Advance(time.Second) // every bucket full again: one request each
		if tt.spend {
			mustOK(t, h.as(limited.AccessToken, "GET", statusPath(limited.UserID), ""))
		}
		before := tt.h.world()
		r := tt.h.request(tt.method, tt.target, tt.body, nil)
		if r.status != tt.status || r.errcode() != tt.errcode {
			t.Errorf("%s: %s, want %d %s", tt.name, r, tt.status, tt.errcode)
		}
		tt.h.unchanged(tt.name, before)
	}
	h.clock.Advance(time.Second)
	mustOK(t, h.as(limited.AccessToken, "GET", v3Prefix+"/account/whoami", ""))
	h.clock.Advance(time.Second)
	mustOK(t, h.as(a.AccessToken, "GET", v3Prefix+"/account/whoami", ""))
}
