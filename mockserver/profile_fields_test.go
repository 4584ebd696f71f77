package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

func profilePath(prefix, userID string) string { return prefix + "/profile/" + userID }

// Anyone may read a profile, with no token; only its owner sets it; an
// empty value clears a field, and a cleared field is absent.
func TestProfile(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		b := h.register("bob")
		p := profilePath(prefix, a.UserID)

		if r := mustOK(t, h.request("GET", p, "", nil)); string(r.body) != "{}" {
			t.Errorf("%s a new profile: %s, want {}", prefix, r.body)
		}
		expectError(t, h.request("GET", p+"/displayname", "", nil), http.StatusNotFound, "M_NOT_FOUND")
		expectError(t, h.request("GET", p+"/avatar_url", "", nil), http.StatusNotFound, "M_NOT_FOUND")

		mustOK(t, h.as(a.AccessToken, "PUT", p+"/displayname", `{"displayname":"Alice \"A\" ☃"}`))
		mustOK(t, h.as(a.AccessToken, "PUT", p+"/avatar_url", `{"avatar_url":"mxc://example.org:8448/Ab_c-9","extra":[1]}`))
		for _, tt := range []struct{ path, want string }{
			{p, `{"avatar_url":"mxc://example.org:8448/Ab_c-9","displayname":"Alice \"A\" ☃"}`},
			{p + "/displayname", `{"displayname":"Alice \"A\" ☃"}`},
			{p + "/avatar_url", `{"avatar_url":"mxc://example.org:8448/Ab_c-9"}`},
		} {
			// The owner, another user and nobody at all read the same.
			for _, r := range []response{h.request("GET", tt.path, "", nil), h.as(b.AccessToken, "GET", tt.path, ""), h.as(a.AccessToken, "GET", tt.path, "")} {
				if r.status != http.StatusOK || string(r.body) != tt.want {
					t.Errorf("%s GET %s: %s, want %s", prefix, tt.path, r, tt.want)
				}
			}
		}
		// The same store under the other prefix.
		other := r0Prefix
		if prefix == r0Prefix {
			other = v3Prefix
		}
		if r := mustOK(t, h.request("GET", profilePath(other, a.UserID)+"/displayname", "", nil)); !strings.Contains(string(r.body), "Alice") {
			t.Errorf("%s: the display name is not seen through %s: %s", prefix, other, r.body)
		}

		mustOK(t, h.as(a.AccessToken, "PUT", p+"/displayname", `{"displayname":""}`))
		expectError(t, h.request("GET", p+"/displayname", "", nil), http.StatusNotFound, "M_NOT_FOUND")
		if r := mustOK(t, h.request("GET", p, "", nil)); string(r.body) != `{"avatar_url":"mxc://example.org:8448/Ab_c-9"}` {
			t.Errorf("%s after clearing the display name: %s", prefix, r.body)
		}
		// Setting a profile is not presence: it changes no status.
		if st := h.srv.userByID(a.UserID).state(); st.presence != "offline" {
			t.Errorf("%s: setting a profile changed presence to %s", prefix, st.presence)
		}
	}
	expectError(t, newHarness(t).request("GET", profilePath(v1Prefix, "@alice:localhost"), "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
}

// Every refusal answers its error and changes nothing.
func TestProfileRefusals(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		b := h.register("bob")
		p := profilePath(prefix, a.UserID)
		mustOK(t, h.as(a.AccessToken, "PUT", p+"/displayname", `{"displayname":"Alice"}`))
		mustOK(t, h.as(a.AccessToken, "PUT", p+"/avatar_url", `{"avatar_url":"mxc://localhost/a"}`))
		long := func(n int) string { return strings.Repeat("é", n) }
		for _, tt := range []struct {
			name, method, target, body string
			status                     int
			errcode                    string
		}{
			{"GET an unknown user", "GET", profilePath(prefix, "@nobody:localhost"), "", 404, "M_NOT_FOUND"},
			{"GET an unknown user's field", "GET", profilePath(prefix, "@nobody:localhost") + "/displayname", "", 404, "M_NOT_FOUND"},
			{"GET a user of another server", "GET", profilePath(prefix, "@alice:elsewhere.org"), "", 404, "M_NOT_FOUND"},
			{"GET a malformed user ID", "GET", profilePath(prefix, "alice"), "", 400, "M_INVALID_PARAM"},
			{"GET another field", "GET", p + "/m.tz", "", 404, "M_UNRECOGNIZED"},
			{"PUT with no token", "PUT", p + "/displayname", `{"displayname":"x"}`, 401, "M_MISSING_TOKEN"},
			{"PUT with an unknown token", "PUT", p + "/displayname?access_token=nope", `{"displayname":"x"}`, 401, "M_UNKNOWN_TOKEN"},
			{"PUT a malformed user ID", "PUT", profilePath(prefix, "alice") + "/displayname?access_token=" + b.AccessToken, `{"displayname":"x"}`, 400, "M_INVALID_PARAM"},
			{"PUT another's display name", "PUT", p + "/displayname?access_token=" + b.AccessToken, `{"displayname":"x"}`, 403, "M_FORBIDDEN"},
			{"PUT another's avatar", "PUT", p + "/avatar_url?access_token=" + b.AccessToken, `{"avatar_url":"mxc://localhost/x"}`, 403, "M_FORBIDDEN"},
			{"PUT an unknown user's", "PUT", profilePath(prefix, "@nobody:localhost") + "/displayname?access_token=" + b.AccessToken, `{"displayname":"x"}`, 403, "M_FORBIDDEN"},
			{"permission before body", "PUT", p + "/displayname?access_token=" + b.AccessToken, `nope`, 403, "M_FORBIDDEN"},
			{"DELETE", "DELETE", p + "/displayname?access_token=" + a.AccessToken, ``, 405, "M_UNRECOGNIZED"},
			{"PUT the whole profile", "PUT", p + "?access_token=" + a.AccessToken, `{"displayname":"x"}`, 405, "M_UNRECOGNIZED"},
			{"not JSON", "PUT", p + "/displayname?access_token=" + a.AccessToken, `nope`, 400, "M_NOT_JSON"},
			{"not an object", "PUT", p + "/displayname?access_token=" + a.AccessToken, `["x"]`, 400, "M_BAD_JSON"},
			{"no field", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"avatar_url":"mxc://localhost/x"}`, 400, "M_MISSING_PARAM"},
			{"no body", "PUT", p + "/displayname?access_token=" + a.AccessToken, ``, 400, "M_NOT_JSON"},
			{"null", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"displayname":null}`, 400, "M_BAD_JSON"},
			{"a number", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"displayname":7}`, 400, "M_BAD_JSON"},
			{"twice", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"displayname":"x","displayname":"y"}`, 400, "M_BAD_JSON"},
			{"too long", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"displayname":"` + long(257) + `"}`, 400, "M_INVALID_PARAM"},
			{"too large", "PUT", p + "/displayname?access_token=" + a.AccessToken, `{"displayname":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE"},
			{"avatar not mxc", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"avatar_url":"https://example.org/a.png"}`, 400, "M_INVALID_PARAM"},
			{"avatar without media ID", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"avatar_url":"mxc://localhost/"}`, 400, "M_INVALID_PARAM"},
			{"avatar with a bad server", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"avatar_url":"mxc://bad server/a"}`, 400, "M_INVALID_PARAM"},
			{"avatar with a bad media ID", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"avatar_url":"mxc://localhost/a/b"}`, 400, "M_INVALID_PARAM"},
			{"avatar too long", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"avatar_url":"mxc://localhost/` + strings.Repeat("a", 1000) + `"}`, 400, "M_INVALID_PARAM"},
			{"avatar given as the display name", "PUT", p + "/avatar_url?access_token=" + a.AccessToken, `{"displayname":"mxc://localhost/x"}`, 400, "M_MISSING_PARAM"},
		} {
			before := h.world()
			expectError(t, h.request(tt.method, tt.target, tt.body, nil), tt.status, tt.errcode)
			h.unchanged(prefix+" "+tt.name, before)
		}
		// The limits are in characters: 256 of them, two bytes each, pass.
		mustOK(t, h.as(a.AccessToken, "PUT", p+"/displayname", `{"displayname":"`+long(256)+`"}`))
	}
}
