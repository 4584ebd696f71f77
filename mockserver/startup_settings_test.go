package mockserver

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The capabilities say no to what the mock does not serve, yes to the
// profile it does.
func TestCapabilities(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		var got struct {
			Capabilities map[string]struct {
				Enabled *bool `json:"enabled"`
			} `json:"capabilities"`
		}
		if err := json.Unmarshal(mustOK(t, h.as(a.AccessToken, "GET", prefix+"/capabilities", "")).body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{
			"m.change_password": false, "m.3pid_changes": false, "m.get_login_token": false,
			"m.set_displayname": true, "m.set_avatar_url": true,
		}
		if len(got.Capabilities) != len(want) {
			t.Errorf("%s: capabilities %v, want %v", prefix, got.Capabilities, want)
		}
		for name, enabled := range want {
			if c, ok := got.Capabilities[name]; !ok || c.Enabled == nil || *c.Enabled != enabled {
				t.Errorf("%s: %s = %+v, want enabled %v", prefix, name, c, enabled)
			}
		}
		// What it says is so: there is no password change to call, and the
		// profile can be set.
		expectError(t, h.as(a.AccessToken, "POST", prefix+"/account/password", `{}`), http.StatusNotFound, "M_UNRECOGNIZED")
		mustOK(t, h.as(a.AccessToken, "PUT", profilePath(prefix, a.UserID)+"/displayname", `{"displayname":"A"}`))
		mustOK(t, h.as(a.AccessToken, "PUT", profilePath(prefix, a.UserID)+"/avatar_url", `{"avatar_url":"mxc://localhost/a"}`))
		before := h.world()
		expectError(t, h.request("GET", prefix+"/capabilities", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
		expectError(t, h.as(a.AccessToken, "PUT", prefix+"/capabilities", "{}"), http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
		h.unchanged(prefix+" capabilities refused", before)
	}
}

// Push rules: the global ruleset, each of its five kinds present and empty.
func TestPushRules(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		kinds := []string{"override", "content", "room", "sender", "underride"}
		checkRuleset := func(what string, set map[string]json.RawMessage) {
			t.Helper()
			if len(set) != len(kinds) {
				t.Errorf("%s %s: %d kinds, want %v", prefix, what, len(set), kinds)
			}
			for _, kind := range kinds {
				if string(set[kind]) != "[]" {
					t.Errorf("%s %s: %s = %s, want []", prefix, what, kind, set[kind])
				}
			}
		}
		var all struct {
			Global map[string]json.RawMessage `json:"global"`
		}
		r := mustOK(t, h.as(a.AccessToken, "GET", prefix+"/pushrules/", ""))
		if err := json.Unmarshal(r.body, &all); err != nil {
			t.Fatal(err)
		}
		checkRuleset("/pushrules/", all.Global)
		var global map[string]json.RawMessage
		if err := json.Unmarshal(mustOK(t, h.as(a.AccessToken, "GET", prefix+"/pushrules/global/", "")).body, &global); err != nil {
			t.Fatal(err)
		}
		checkRuleset("/pushrules/global/", global)
		before := h.world()
		expectError(t, h.request("GET", prefix+"/pushrules/", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
		expectError(t, h.as("nope", "GET", prefix+"/pushrules/global/", ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		h.unchanged(prefix+" push rules refused", before)
		// Only the paths the spec names, with their slash.
		for _, path := range []string{"/pushrules", "/pushrules/global", "/pushrules/device/"} {
			expectError(t, h.as(a.AccessToken, "GET", prefix+path, ""), http.StatusNotFound, "M_UNRECOGNIZED")
		}
	}
}
