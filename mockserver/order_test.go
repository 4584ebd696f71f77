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
	return string(appendStatus(nil, st, h.clock.Now())) + strings.Join(ids, ",")
}
