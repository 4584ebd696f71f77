package mockserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// authChallenge is a 401 of user-interactive auth.
type authChallenge struct {
	Flows []struct {
		Stages []string `json:"stages"`
	} `json:"flows"`
	Params  map[string]any `json:"params"`
	Session string         `json:"session"`
	Errcode string         `json:"errcode"`
	Error   string         `json:"error"`
}

// expectChallenge asserts a 401 offering the one m.login.dummy flow, and
// returns it.
func expectChallenge(t testing.TB, r response) authChallenge {
	t.Helper()
	var c authChallenge
	if r.status != http.StatusUnauthorized || json.Unmarshal(r.body, &c) != nil {
		t.Fatalf("want a 401 challenge, got %s", r)
	}
	if len(c.Flows) != 1 || strings.Join(c.Flows[0].Stages, ",") != "m.login.dummy" || c.Params == nil || len(c.Params) != 0 || c.Session == "" {
		t.Fatalf("not the dummy flow with a session: %s", r.body)
	}
	return c
}

// deviceAccountBody is what r0 and v3 answer a registration or login with.
type deviceAccountBody struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	HomeServer  string `json:"home_server"`
	DeviceID    string `json:"device_id"`
}

func decodeDeviceAccount(t testing.TB, r response) deviceAccountBody {
	t.Helper()
	var a deviceAccountBody
	if err := json.Unmarshal(mustOK(t, r).body, &a); err != nil {
		t.Fatal(err)
	}
	if a.UserID == "" || a.AccessToken == "" || a.HomeServer == "" || a.DeviceID == "" {
		t.Fatalf("incomplete account: %s", r.body)
	}
	return a
}

// registerInteractively goes through both steps of r0/v3 registration.
func (h *harness) registerInteractively(prefix, body string) response {
	h.t.Helper()
	c := expectChallenge(h.t, h.request("POST", prefix+"/register", body, nil))
	withAuth := strings.TrimSuffix(strings.TrimSpace(body), "}")
	if strings.TrimSpace(withAuth) != "{" {
		withAuth += ","
	}
	withAuth += `"auth":{"type":"m.login.dummy","session":"` + c.Session + `"}}`
	return h.request("POST", prefix+"/register", withAuth, nil)
}

func TestInteractiveRegistration(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t, func(o *Options) { o.ServerName = "example.org" })
		// The first request learns the flow; the session is fresh each time.
		first := expectChallenge(t, h.request("POST", prefix+"/register", `{"username":"alice","password":"pw"}`, nil))
		again := expectChallenge(t, h.request("POST", prefix+"/register?kind=user", `{}`, nil))
		if first.Session == again.Session || first.Errcode != "" {
			t.Errorf("%s: sessions %q, %q, errcode %q: want two fresh sessions, no error", prefix, first.Session, again.Session, first.Errcode)
		}
		if users := h.userCount(); users != 0 {
			t.Fatalf("%s: the challenge made %d users", prefix, users)
		}
		r := h.request("POST", prefix+"/register?kind=user", `{"username":"alice","password":"pw","device_id":"PHONE","initial_device_display_name":"my phone","auth":{"type":"m.login.dummy","session":"`+first.Session+`","extra":1}}`, nil)
		a := decodeDeviceAccount(t, r)
		if a.UserID != "@alice:example.org" || a.HomeServer != "example.org" || a.DeviceID != "PHONE" || !strings.HasPrefix(a.AccessToken, tokenPrefix) {
			t.Errorf("%s: registered %s", prefix, r.body)
		}
		// The account works everywhere, with its token and its password.
		mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""))
		mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		mustOK(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"pw"}`, nil))

		// No username: the server picks one. No device: the server names one.
		picked := decodeDeviceAccount(t, h.registerInteractively(prefix, `{"password":"pw"}`))
		if picked.UserID != "@1:example.org" || len(picked.DeviceID) != 10 {
			t.Errorf("%s: picked %+v", prefix, picked)
		}
		// inhibit_login: an account, no token, no device.
		users := h.userCount()
		r = h.registerInteractively(prefix, `{"username":"quiet","password":"pw","inhibit_login":true}`)
		if string(mustOK(t, r).body) != `{"user_id":"@quiet:example.org","home_server":"example.org"}` {
			t.Errorf("%s: inhibit_login: %s", prefix, r.body)
		}
		if h.userCount() != users+1 {
			t.Errorf("%s: inhibit_login made no account", prefix)
		}
		mustOK(t, h.request("POST", prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"quiet"},"password":"pw"}`, nil))
		h.clock.Advance(time.Second)
		r = mustOK(t, h.as(picked.AccessToken, "GET", statusPathIn(prefix, picked.UserID), ""))
		if want := `{"presence":"offline","last_active_ago":1000,"status_msg":null,"currently_active":false}`; string(r.body) != want {
			t.Errorf("%s: a new account's status: %s", prefix, r.body)
		}
	}
}

// A session is single-use and expires; a bad one gets a new session and
// the flow again, with the reason, and changes nothing.
func TestInteractiveRegistrationSessions(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t)
		session := func() string { return expectChallenge(t, h.request("POST", prefix+"/register", `{}`, nil)).Session }
		register := func(name, session, authType string) response {
			return h.request("POST", prefix+"/register",
				`{"username":"`+name+`","password":"pw","auth":{"type":"`+authType+`","session":"`+session+`"}}`, nil)
		}
		refused := func(what string, r response, wantSession string) {
			t.Helper()
			c := expectChallenge(t, r)
			if c.Errcode != "M_FORBIDDEN" || c.Error == "" {
				t.Errorf("%s %s: errcode %q error %q, want M_FORBIDDEN with a reason", prefix, what, c.Errcode, c.Error)
			}
			if wantSession != "" && c.Session != wantSession {
				t.Errorf("%s %s: session %q, want the same %q", prefix, what, c.Session, wantSession)
			}
			if wantSession == "" && !h.srv.uiaAuth.valid(c.Session, h.clock.Now()) {
				t.Errorf("%s %s: the new session %q does not work", prefix, what, c.Session)
			}
		}

		used := session()
		mustOK(t, register("alice", used, "m.login.dummy"))
		for _, tt := range []struct {
			what, body string
		}{
			{"a used session", `{"username":"bob","password":"pw","auth":{"type":"m.login.dummy","session":"` + used + `"}}`},
			{"an unknown session", `{"username":"bob","password":"pw","auth":{"type":"m.login.dummy","session":"nope"}}`},
			{"no session, another stage", `{"username":"bob","password":"pw","auth":{"type":"m.login.password"}}`},
			{"an empty auth", `{"username":"bob","password":"pw","auth":{}}`},
		} {
			before, live := h.world(), h.liveCodes(&h.srv.uiaAuth)
			refused(tt.what, h.request("POST", prefix+"/register", tt.body, nil), "")
			h.unchanged(prefix+" "+tt.what, before)
			if got := h.liveCodes(&h.srv.uiaAuth); got != live+1 {
				t.Errorf("%s %s: %d live sessions, want %d (one new)", prefix, tt.what, got, live+1)
			}
		}

		// Another stage: refused in the same session, which still works.
		s := session()
		before := h.world()
		refused("another stage", register("bob", s, "m.login.password"), s)
		refused("no stage", h.request("POST", prefix+"/register", `{"username":"bob","password":"pw","auth":{"session":"`+s+`"}}`, nil), s)
		h.unchanged(prefix+" another stage", before)
		mustOK(t, register("bob", s, "m.login.dummy"))

		// Sessions expire after ten minutes.
		s = session()
		h.clock.Advance(uiaSessionLifetime - time.Millisecond)
		mustOK(t, register("carol", s, "m.login.dummy"))
		s = session()
		h.clock.Advance(uiaSessionLifetime)
		before = h.world()
		refused("an expired session", register("dave", s, "m.login.dummy"), "")
		h.unchanged(prefix+" an expired session", before)

		// A request that fails on the body does not spend its session.
		s = session()
		before = h.world()
		for _, body := range []string{
			`{"username":"alice","password":"pw","auth":{"type":"m.login.dummy","session":"` + s + `"}}`, // taken
			`{"username":"Eve","password":"pw","auth":{"type":"m.login.dummy","session":"` + s + `"}}`,   // invalid
			`{"username":"eve","auth":{"type":"m.login.dummy","session":"` + s + `"}}`,                   // no password
		} {
			if r := h.request("POST", prefix+"/register", body, nil); r.status != http.StatusBadRequest {
				t.Errorf("%s %s: %s, want 400", prefix, body, r)
			}
		}
		h.unchanged(prefix+" failed registrations", before)
		mustOK(t, register("eve", s, "m.login.dummy"))
	}
}

func TestInteractiveRegistrationRefusals(t *testing.T) {
	h := newHarness(t)
	h.register("taken")
	long := strings.Repeat("a", maxUserIDLength-len("@:localhost"))
	for _, prefix := range laterPrefixes {
		s := expectChallenge(t, h.request("POST", prefix+"/register", `{}`, nil)).Session
		auth := `"auth":{"type":"m.login.dummy","session":"` + s + `"}`
		for _, tt := range []struct {
			name, query, body string
			status            int
			errcode           string
			inError           string
		}{
			{"taken", "", `{"username":"taken","password":"pw",` + auth + `}`, 400, "M_USER_IN_USE", ""},
			{"taken, before the auth", "", `{"username":"taken","password":"pw"}`, 400, "M_USER_IN_USE", ""},
			{"taken by full ID", "", `{"username":"@taken:localhost","password":"pw",` + auth + `}`, 400, "M_USER_IN_USE", ""},
			{"upper case", "", `{"username":"Alice","password":"pw",` + auth + `}`, 400, "M_INVALID_USERNAME", ""},
			{"upper case, before the auth", "", `{"username":"Alice"}`, 400, "M_INVALID_USERNAME", ""},
			{"historical character", "", `{"username":"al!ce","password":"pw",` + auth + `}`, 400, "M_INVALID_USERNAME", ""},
			{"empty username", "", `{"username":"","password":"pw",` + auth + `}`, 400, "M_INVALID_USERNAME", ""},
			{"another server", "", `{"username":"@alice:elsewhere","password":"pw",` + auth + `}`, 400, "M_INVALID_USERNAME", ""},
			{"too long", "", `{"username":"` + long + `a","password":"pw",` + auth + `}`, 400, "M_INVALID_USERNAME", ""},
			{"no password", "", `{"username":"alice",` + auth + `}`, 400, "M_BAD_JSON", "password"},
			{"empty password", "", `{"username":"alice","password":""}`, 400, "M_BAD_JSON", "password"},
			{"username not a string", "", `{"username":7,"password":"pw"}`, 400, "M_BAD_JSON", "username"},
			{"username null", "", `{"username":null,"password":"pw"}`, 400, "M_BAD_JSON", "username"},
			{"password not a string", "", `{"username":"alice","password":["pw"]}`, 400, "M_BAD_JSON", "password"},
			{"device_id not a string", "", `{"device_id":1}`, 400, "M_BAD_JSON", "device_id"},
			{"device_id empty", "", `{"device_id":""}`, 400, "M_BAD_JSON", "device_id"},
			{"display name not a string", "", `{"initial_device_display_name":{}}`, 400, "M_BAD_JSON", "initial_device_display_name"},
			{"inhibit_login not a boolean", "", `{"inhibit_login":"true"}`, 400, "M_BAD_JSON", "inhibit_login"},
			{"auth null", "", `{"auth":null}`, 400, "M_BAD_JSON", "auth"},
			{"auth a string", "", `{"auth":"m.login.dummy"}`, 400, "M_BAD_JSON", "auth"},
			{"auth.type not a string", "", `{"auth":{"type":1,"session":"` + s + `"}}`, 400, "M_BAD_JSON", "auth.type"},
			{"auth.session not a string", "", `{"auth":{"type":"m.login.dummy","session":1}}`, 400, "M_BAD_JSON", "auth.session"},
			{"auth.session twice", "", `{"auth":{"type":"m.login.dummy","session":"a","session":"b"}}`, 400, "M_BAD_JSON", "auth.session"},
			{"username twice", "", `{"username":"a","username":"b"}`, 400, "M_BAD_JSON", "username"},
			{"not an object", "", `[]`, 400, "M_BAD_JSON", "object"},
			{"not JSON", "", `username=alice`, 400, "M_NOT_JSON", ""},
			{"empty body", "", ``, 400, "M_NOT_JSON", ""},
			{"too large", "", `{"password":"` + strings.Repeat("p", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE", ""},
			{"one step, taken", "", `{"username":"taken","password":"pw","auth":{"type":"m.login.dummy"}}`, 400, "M_USER_IN_USE", ""},
			{"one step, upper case", "", `{"username":"Alice","password":"pw","auth":{"type":"m.login.dummy"}}`, 400, "M_INVALID_USERNAME", ""},
			{"one step, no password", "", `{"username":"alice","auth":{"type":"m.login.dummy"}}`, 400, "M_BAD_JSON", "password"},
			{"one step, auth.type twice", "", `{"username":"alice","password":"pw","auth":{"type":"m.login.dummy","type":"m.login.dummy"}}`, 400, "M_BAD_JSON", "auth.type"},
			{"guest", "?kind=guest", `{}`, 403, "M_GUEST_ACCESS_FORBIDDEN", ""},
			{"unknown kind", "?kind=admin", `{}`, 400, "M_INVALID_PARAM", "kind"},
			{"kind before the body", "?kind=admin", `nope`, 400, "M_INVALID_PARAM", "kind"},
		} {
			before, live := h.world(), h.liveCodes(&h.srv.uiaAuth)
			r := h.request("POST", prefix+"/register"+tt.query, tt.body, nil)
			expectError(t, r, tt.status, tt.errcode)
			if !strings.Contains(string(r.body), tt.inError) {
				t.Errorf("%s %s: error %s does not name %q", prefix, tt.name, r.body, tt.inError)
			}
			h.unchanged(prefix+" "+tt.name, before)
			if got := h.liveCodes(&h.srv.uiaAuth); got != live {
				t.Errorf("%s %s: %d live sessions, %d before", prefix, tt.name, got, live)
			}
		}
	}
}

// GET /register is v1's alone.
func TestNoGetRegisterInLaterVersions(t *testing.T) {
	h := newHarness(t)
	for _, prefix := range laterPrefixes {
		r := h.request("GET", prefix+"/register", "", nil)
		expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
		if got := r.header.Get("Allow"); got != "POST, OPTIONS" {
			t.Errorf("%s: Allow %q", prefix, got)
		}
	}
}

// With registration closed, open registration is refused in every version,
// whatever the body; accounts come from the operator.
func TestClosedRegistration(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ClosedRegistration = true; o.RegistrationSharedSecret = "s3cret" })
	a := h.register("alice") // the operator's own accounts still work
	for _, tt := range []struct{ path, body string }{
		{v1Prefix + "/register", `{"type":"m.login.password","user":"bob","password":"pw"}`},
		{v1Prefix + "/register", `not even JSON`},
		{r0Prefix + "/register", `{}`},
		{v3Prefix + "/register", `{"username":"bob","password":"pw","auth":{"type":"m.login.dummy","session":"x"}}`},
		{v3Prefix + "/register?kind=guest", `{}`},
	} {
		before, live := h.world(), h.liveCodes(&h.srv.uiaAuth)
		r := h.request("POST", tt.path, tt.body, nil)
		expectError(t, r, http.StatusForbidden, "M_FORBIDDEN")
		if !strings.Contains(string(r.body), "registration is disabled") {
			t.Errorf("POST %s: %s", tt.path, r.body)
		}
		h.unchanged("closed registration", before)
		if h.liveCodes(&h.srv.uiaAuth) != live {
			t.Errorf("POST %s: a session was issued", tt.path)
		}
	}
	// Login still works, and so does shared-secret registration.
	mustOK(t, h.request("POST", v3Prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"secret-alice"}`, nil))
	mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(v3Prefix, a.UserID), ""))
	b := decodeDeviceAccount(t, h.adminRegister("s3cret", "bob", "pw", false))
	mustOK(t, h.as(b.AccessToken, "GET", statusPathIn(r0Prefix, b.UserID), ""))
}

// The dummy stage sent at once, without a session, registers in one
// request, as real homeservers allow and bots do; it spends no session.
func TestOneRequestRegistration(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t, func(o *Options) { o.ServerName = "example.org" })
		s := expectChallenge(t, h.request("POST", prefix+"/register", `{}`, nil)).Session
		live := h.liveCodes(&h.srv.uiaAuth)
		r := h.request("POST", prefix+"/register", `{"username":"bot","password":"pw","device_id":"BOT","auth":{"type":"m.login.dummy"}}`, nil)
		a := decodeDeviceAccount(t, r)
		if a.UserID != "@bot:example.org" || a.DeviceID != "BOT" || !strings.HasPrefix(a.AccessToken, tokenPrefix) {
			t.Errorf("%s: registered %s", prefix, r.body)
		}
		mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		mustOK(t, h.request("POST", prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"bot"},"password":"pw"}`, nil))
		if got := h.liveCodes(&h.srv.uiaAuth); got != live {
			t.Errorf("%s: %d live sessions after a one-request registration, %d before", prefix, got, live)
		}
		// The session issued earlier is untouched and still registers.
		mustOK(t, h.request("POST", prefix+"/register", `{"username":"later","password":"pw","auth":{"type":"m.login.dummy","session":"`+s+`"}}`, nil))
		// No username: the server picks one; inhibit_login: no token.
		picked := decodeDeviceAccount(t, h.request("POST", prefix+"/register", `{"password":"pw","auth":{"type":"m.login.dummy"}}`, nil))
		if !strings.HasSuffix(picked.UserID, ":example.org") || picked.UserID == a.UserID {
			t.Errorf("%s: picked %s", prefix, picked.UserID)
		}
		r = mustOK(t, h.request("POST", prefix+"/register", `{"username":"quiet","password":"pw","inhibit_login":true,"auth":{"type":"m.login.dummy"}}`, nil))
		if string(r.body) != `{"user_id":"@quiet:example.org","home_server":"example.org"}` {
			t.Errorf("%s: inhibit_login: %s", prefix, r.body)
		}
		// Any other stage without a session gets the flow and a new session.
		before := h.world()
		c := expectChallenge(t, h.request("POST", prefix+"/register", `{"username":"eve","password":"pw","auth":{"type":"m.login.password"}}`, nil))
		if c.Errcode != "M_FORBIDDEN" || !h.srv.uiaAuth.valid(c.Session, h.clock.Now()) {
			t.Errorf("%s: another stage without a session: %+v", prefix, c)
		}
		h.unchanged(prefix+" another stage without a session", before)
	}
}
