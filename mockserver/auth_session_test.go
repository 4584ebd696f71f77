package mockserver

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
)

// login logs acct in again through prefix, naming the device when one is
// given, and returns the new token's account.
func (h *harness) login(prefix string, acct Account, deviceID string) deviceAccountBody {
	h.t.Helper()
	body := `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"` + acct.UserID + `"},"password":"secret-` + localpartOf(acct.UserID) + `"`
	if deviceID != "" {
		body += `,"device_id":"` + deviceID + `"`
	}
	return decodeDeviceAccount(h.t, h.request("POST", prefix+"/login", body+"}", nil))
}

func localpartOf(userID string) string {
	lp, _, _ := splitUserID(userID)
	return lp
}

type whoamiBody struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
}

func (h *harness) whoami(prefix, token string) whoamiBody {
	h.t.Helper()
	var w whoamiBody
	r := mustOK(h.t, h.as(token, "GET", prefix+"/account/whoami", ""))
	if err := json.Unmarshal(r.body, &w); err != nil {
		h.t.Fatal(err)
	}
	return w
}

// whoami names the token's user and the device the token belongs to: the
// one the client named, or the one the server named and answered with.
func TestWhoami(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		if got := h.whoami(prefix, a.AccessToken); got.UserID != a.UserID || got.DeviceID == "" {
			t.Errorf("%s whoami of a Go API token: %+v", prefix, got)
		}
		named := h.login(prefix, a, "PHONE")
		if got := h.whoami(prefix, named.AccessToken); got != (whoamiBody{a.UserID, "PHONE"}) {
			t.Errorf("%s whoami after a login on PHONE: %+v", prefix, got)
		}
		picked := h.login(prefix, a, "")
		if got := h.whoami(prefix, picked.AccessToken); got != (whoamiBody{a.UserID, picked.DeviceID}) {
			t.Errorf("%s whoami after a login on a device the server named %q: %+v", prefix, picked.DeviceID, got)
		}
		reg := decodeDeviceAccount(t, h.request("POST", prefix+"/register", `{"username":"bob","password":"pw","device_id":"BOT","auth":{"type":"m.login.dummy"}}`, nil))
		if got := h.whoami(prefix, reg.AccessToken); got != (whoamiBody{"@bob:localhost", "BOT"}) {
			t.Errorf("%s whoami after registering on BOT: %+v", prefix, got)
		}
		before := h.world()
		expectError(t, h.request("GET", prefix+"/account/whoami", "", nil), http.StatusUnauthorized, "M_MISSING_TOKEN")
		expectError(t, h.as("nope", "GET", prefix+"/account/whoami", ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		h.unchanged(prefix+" whoami refused", before)
	}
	expectError(t, newHarness(t).request("GET", v1Prefix+"/account/whoami", "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
}

// POST /logout ends the token that made it, at once and under every
// prefix; the user's other tokens go on working.
func TestLogout(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		other := h.login(prefix, a, "OTHER")
		b := h.register("bob")
		for _, body := range []string{"", "{}"} {
			tok := h.login(prefix, a, "").AccessToken
			r := mustOK(t, h.as(tok, "POST", prefix+"/logout", body))
			if string(r.body) != "{}" {
				t.Errorf("%s logout: %s", prefix, r.body)
			}
			for _, p := range []string{v1Prefix, r0Prefix, v3Prefix} {
				expectError(t, h.as(tok, "GET", statusPathIn(p, a.UserID), ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
			}
			expectError(t, h.as(tok, "POST", prefix+"/logout", ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		}
		mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		mustOK(t, h.as(other.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		mustOK(t, h.as(b.AccessToken, "GET", statusPathIn(prefix, b.UserID), ""))
		// Logging out leaves the account: the password still logs in.
		mustOK(t, h.as(h.login(prefix, a, "").AccessToken, "GET", prefix+"/account/whoami", ""))
	}
}

// POST /logout/all ends every token of the user, the one that made it
// included; other users' tokens, and later logins, work.
func TestLogoutAll(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		b := h.register("bob")
		tokens := []string{a.AccessToken, h.login(prefix, a, "ONE").AccessToken, h.login(prefix, a, "").AccessToken}
		v1Login := decodeAccount(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"secret-alice"}`, nil))
		tokens = append(tokens, v1Login.AccessToken)
		mustOK(t, h.as(tokens[1], "POST", prefix+"/logout/all", ""))
		for _, tok := range tokens {
			expectError(t, h.as(tok, "GET", statusPathIn(prefix, a.UserID), ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		}
		mustOK(t, h.as(b.AccessToken, "GET", statusPathIn(prefix, b.UserID), ""))
		if n := h.srv.userByID(a.UserID).tokenCount(); n != 0 {
			t.Errorf("%s: alice holds %d tokens after logout/all", prefix, n)
		}
		again := h.login(prefix, a, "")
		mustOK(t, h.as(again.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
	}
}

// A logout that is refused ends no token.
func TestLogoutRefusals(t *testing.T) {
	for _, prefix := range laterPrefixes {
		for _, path := range []string{"/logout", "/logout/all"} {
			h := newHarness(t)
			a := h.register("alice")
			for _, tt := range []struct {
				name, target, body string
				status             int
				errcode            string
			}{
				{"no token", prefix + path, "", 401, "M_MISSING_TOKEN"},
				{"unknown token", prefix + path + "?access_token=nope", "", 401, "M_UNKNOWN_TOKEN"},
				{"a body that is not JSON", prefix + path + "?access_token=" + a.AccessToken, "nope", 400, "M_NOT_JSON"},
				{"a body that is not an object", prefix + path + "?access_token=" + a.AccessToken, "[]", 400, "M_BAD_JSON"},
			} {
				before := h.world()
				expectError(t, h.request("POST", tt.target, tt.body, nil), tt.status, tt.errcode)
				h.unchanged(prefix+path+" "+tt.name, before)
			}
			mustOK(t, h.as(a.AccessToken, "GET", prefix+"/account/whoami", ""))
		}
	}
}

func (u *user) tokenCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.tokens)
}

// Requests and new logins go on while logout/all runs: every token issued
// before it began fails once it has answered, whatever raced it.
func TestLogoutAllWhileBusy(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	u := h.srv.userByID(a.UserID)
	var old []string
	for range 32 {
		old = append(old, h.srv.issueToken(u))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for n := i; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				h.as(old[n%len(old)], "GET", v3Prefix+"/account/whoami", "")
				h.srv.issueToken(u)
			}
		})
	}
	mustOK(t, h.as(old[0], "POST", v3Prefix+"/logout/all", ""))
	close(stop)
	wg.Wait()
	for _, tok := range old {
		expectError(t, h.as(tok, "GET", v3Prefix+"/account/whoami", ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
	}
}

// Logging in again on a known device ID keeps the device's earlier token
// (the spec lets a server end it, or not); a logout deletes the device,
// and with it every token on it.
func TestLogoutDeletesTheDevice(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		a := h.register("alice")
		first := h.login(prefix, a, "PHONE")
		second := h.login(prefix, a, "PHONE")
		laptop := h.login(prefix, a, "LAPTOP")
		mustOK(t, h.as(first.AccessToken, "GET", prefix+"/account/whoami", ""))
		mustOK(t, h.as(second.AccessToken, "POST", prefix+"/logout", ""))
		for _, tok := range []string{first.AccessToken, second.AccessToken} {
			expectError(t, h.as(tok, "GET", prefix+"/account/whoami", ""), http.StatusUnauthorized, "M_UNKNOWN_TOKEN")
		}
		for _, tok := range []string{laptop.AccessToken, a.AccessToken} {
			mustOK(t, h.as(tok, "GET", prefix+"/account/whoami", ""))
		}
		// The device ID is free to log in on again.
		again := h.login(prefix, a, "PHONE")
		if got := h.whoami(prefix, again.AccessToken); got.DeviceID != "PHONE" {
			t.Errorf("%s: after logging PHONE out and in: %+v", prefix, got)
		}
	}
}
