package mockserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestEveryPresenceOperationNeedsAToken(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	before := h.snapshot(a)
	ops := []struct{ method, path, body string }{
		{"GET", statusPath(a.UserID), ""},
		{"PUT", statusPath(a.UserID), `{"presence":"online"}`},
		{"GET", listPath(a.UserID), ""},
		{"POST", listPath(a.UserID), `{"invite":[]}`},
	}
	for _, op := range ops {
		for _, tt := range []struct {
			name    string
			query   string
			header  http.Header
			errcode string
		}{
			{"no token", "", nil, "M_MISSING_TOKEN"},
			{"empty query token", "?access_token=", nil, "M_MISSING_TOKEN"},
			{"unknown query token", "?access_token=mxp_nope", nil, "M_UNKNOWN_TOKEN"},
			{"a token's prefix", "?access_token=" + a.AccessToken[:len(a.AccessToken)-1], nil, "M_UNKNOWN_TOKEN"},
			{"a token with more", "?access_token=" + a.AccessToken + "x", nil, "M_UNKNOWN_TOKEN"},
			{"a very long token", "?access_token=" + strings.Repeat("x", 10000), nil, "M_UNKNOWN_TOKEN"},
			{"token under another name", "?token=" + a.AccessToken, nil, "M_MISSING_TOKEN"},
			{"unknown bearer token", "", http.Header{"Authorization": {"Bearer mxp_nope"}}, "M_UNKNOWN_TOKEN"},
			{"empty bearer token", "", http.Header{"Authorization": {"Bearer "}}, "M_MISSING_TOKEN"},
			{"basic auth", "", http.Header{"Authorization": {"Basic " + a.AccessToken}}, "M_MISSING_TOKEN"},
			{"no scheme", "", http.Header{"Authorization": {a.AccessToken}}, "M_MISSING_TOKEN"},
			{"two headers", "", http.Header{"Authorization": {"Bearer " + a.AccessToken, "Bearer " + a.AccessToken}}, "M_MISSING_TOKEN"},
			{"query and header", "?access_token=" + a.AccessToken, http.Header{"Authorization": {"Bearer " + a.AccessToken}}, "M_MISSING_TOKEN"},
		} {
			r := h.request(op.method, op.path+tt.query, op.body, tt.header)
			if r.status != http.StatusUnauthorized || r.errcode() != tt.errcode {
				t.Errorf("%s %s, %s: %s; want 401 %s", op.method, op.path, tt.name, r, tt.errcode)
			}
		}
	}
	if after := h.snapshot(a); after != before {
		t.Errorf("unauthenticated requests changed state:\n%s\n→\n%s", before, after)
	}
}

func TestTokenPlacement(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, tt := range []struct {
		name   string
		query  string
		header http.Header
	}{
		{"query", "?access_token=" + url.QueryEscape(a.AccessToken), nil},
		{"query among others", "?x=1&access_token=" + a.AccessToken + "&y=2", nil},
		{"first of two in the query", "?access_token=" + a.AccessToken + "&access_token=mxp_nope", nil},
		{"escaped parameter name", "?access%5Ftoken=" + a.AccessToken, nil},
		{"bearer header", "", http.Header{"Authorization": {"Bearer " + a.AccessToken}}},
		{"bearer scheme in lower case", "", http.Header{"Authorization": {"bearer " + a.AccessToken}}},
	} {
		if r := h.request("GET", statusPath(a.UserID)+tt.query, "", tt.header); r.status != http.StatusOK {
			t.Errorf("%s: %s, want 200", tt.name, r)
		}
	}
}

func TestTokensAreRandomAndPrefixed(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	seen := map[string]bool{a.AccessToken: true}
	for range 20 {
		r := mustOK(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"secret-alice"}`, nil))
		tok := decodeJSON(t, r.body).(map[string]any)["access_token"].(string)
		if !strings.HasPrefix(tok, tokenPrefix) || len(tok) != len(tokenPrefix)+43 || seen[tok] {
			t.Fatalf("token %q: want a fresh %s prefix and 32 bytes in base64url", tok, tokenPrefix)
		}
		seen[tok] = true
	}
	for tok := range seen { // every login's token stays valid
		mustOK(t, h.as(tok, "GET", statusPath(a.UserID), ""))
	}
}

// queryValue must agree with url.Values.Get on which value is the token.
func TestQueryValueMatchesParseQuery(t *testing.T) {
	for _, q := range []string{
		"", "access_token=a", "access_token=", "access_token", "x=1&access_token=a%20b", "access_token=a+b",
		"access_token=a&access_token=b", "access_token=%zz&access_token=b", "access_token=a;b&access_token=c",
		"a=1;access_token=x", "&&access_token=a&&", "access%5ftoken=a", "access+token=a", "=a&access_token=b",
	} {
		checkQueryValue(t, q)
	}
}

func checkQueryValue(t testing.TB, rawQuery string) {
	t.Helper()
	values, _ := url.ParseQuery(rawQuery)
	want, wantFound := values.Get("access_token"), values.Has("access_token")
	got, found := queryValue(rawQuery, "access_token")
	if got != want || found != wantFound {
		t.Errorf("queryValue(%q) = %q, %v; url.ParseQuery says %q, %v", rawQuery, got, found, want, wantFound)
	}
}
