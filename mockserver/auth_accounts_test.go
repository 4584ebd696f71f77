package mockserver

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

type accountBody struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	HomeServer  string `json:"home_server"`
}

func decodeAccount(t testing.TB, r response) accountBody {
	t.Helper()
	var a accountBody
	if err := json.Unmarshal(mustOK(t, r).body, &a); err != nil {
		t.Fatal(err)
	}
	if a.UserID == "" || a.AccessToken == "" || a.HomeServer == "" {
		t.Fatalf("incomplete account: %s", r.body)
	}
	return a
}

// userCount reads the store directly: the API has no way to list users,
// and a failed registration must not leave one behind.
func (h *harness) userCount() int {
	n := 0
	h.srv.users.Range(func(any, any) bool { n++; return true })
	return n
}

func TestLoginFlows(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{v1Prefix + "/register", v1Prefix + "/login"} {
		r := mustOK(t, h.request("GET", path, "", nil))
		if string(r.body) != `{"flows":[{"type":"m.login.password"}]}` {
			t.Errorf("GET %s: %s", path, r.body)
		}
	}
}

func TestRegister(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ServerName = "example.org:8448" })
	register := func(body string) response { return h.request("POST", v1Prefix+"/register", body, nil) }

	a := decodeAccount(t, register(`{"type":"m.login.password","user":"alice","password":"pw"}`))
	if a.UserID != "@alice:example.org:8448" || a.HomeServer != "example.org:8448" {
		t.Errorf("registered %+v", a)
	}
	mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), ""))

	b := decodeAccount(t, register(`{"type":"m.login.password","user":"@bob:example.org:8448","password":"pw","extra":[1]}`))
	if b.UserID != "@bob:example.org:8448" {
		t.Errorf("registered by full ID: %+v", b)
	}

	// Without a user the server picks the next free number.
	if _, err := h.srv.Register("2", "pw"); err != nil {
		t.Fatal(err)
	}
	first := decodeAccount(t, register(`{"type":"m.login.password","password":"pw"}`))
	second := decodeAccount(t, register(`{"type":"m.login.password","password":"pw"}`))
	if first.UserID != "@1:example.org:8448" || second.UserID != "@3:example.org:8448" {
		t.Errorf("picked %s then %s, want @1 then @3 (2 is taken)", first.UserID, second.UserID)
	}
	// Registration counts as activity, and a new account is offline.
	h.clock.Advance(1500 * time.Millisecond)
	r := mustOK(t, h.as(first.AccessToken, "GET", statusPath(first.UserID), ""))
	if string(r.body) != `{"presence":"offline","last_active_ago":1500,"status_msg":null}` {
		t.Errorf("a new account's status: %s", r.body)
	}
}

func TestRegisterRefusals(t *testing.T) {
	h := newHarness(t)
	taken := h.register("taken")
	long := strings.Repeat("a", maxUserIDLength-len("@:localhost"))
	for _, tt := range []struct {
		name    string
		body    string
		status  int
		errcode string
	}{
		{"taken", `{"type":"m.login.password","user":"taken","password":"pw"}`, 400, "M_USER_IN_USE"},
		{"taken by full ID", `{"type":"m.login.password","user":"@taken:localhost","password":"pw"}`, 400, "M_USER_IN_USE"},
		{"upper case", `{"type":"m.login.password","user":"Alice","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"space", `{"type":"m.login.password","user":"al ice","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"colon", `{"type":"m.login.password","user":"al:ice","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"historical character", `{"type":"m.login.password","user":"al!ce","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"empty", `{"type":"m.login.password","user":"","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"bare @", `{"type":"m.login.password","user":"@","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"another server", `{"type":"m.login.password","user":"@alice:elsewhere","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"full ID, bad localpart", `{"type":"m.login.password","user":"@Alice:localhost","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"too long", `{"type":"m.login.password","user":"` + long + `a","password":"pw"}`, 400, "M_INVALID_USERNAME"},
		{"no type", `{"user":"alice","password":"pw"}`, 400, "M_UNKNOWN"},
		{"other type", `{"type":"m.login.email.identity","user":"alice","password":"pw"}`, 400, "M_UNKNOWN"},
		{"type not a string", `{"type":1,"user":"alice","password":"pw"}`, 400, "M_UNKNOWN"},
		{"type judged before other fields", `{"type":"m.login.dummy","user":1}`, 400, "M_UNKNOWN"},
		{"no password", `{"type":"m.login.password","user":"alice"}`, 400, "M_BAD_JSON"},
		{"empty password", `{"type":"m.login.password","user":"alice","password":""}`, 400, "M_BAD_JSON"},
		{"password not a string", `{"type":"m.login.password","user":"alice","password":123}`, 400, "M_BAD_JSON"},
		{"user not a string", `{"type":"m.login.password","user":["alice"],"password":"pw"}`, 400, "M_BAD_JSON"},
		{"user null", `{"type":"m.login.password","user":null,"password":"pw"}`, 400, "M_BAD_JSON"},
		{"user twice", `{"type":"m.login.password","user":"alice","user":"bob","password":"pw"}`, 400, "M_BAD_JSON"},
		{"not an object", `["m.login.password"]`, 400, "M_BAD_JSON"},
		{"not JSON", `type=m.login.password`, 400, "M_NOT_JSON"},
		{"empty body", ``, 400, "M_NOT_JSON"},
		{"too large", `{"type":"m.login.password","user":"alice","password":"` + strings.Repeat("p", maxBodyBytes) + `"}`, 413, "M_TOO_LARGE"},
	} {
		users := h.userCount()
		expectError(t, h.request("POST", v1Prefix+"/register", tt.body, nil), tt.status, tt.errcode)
		if got := h.userCount(); got != users {
			t.Errorf("%s: %d users after, %d before", tt.name, got, users)
		}
	}
	// The taken account is untouched: its password and token still work.
	mustOK(t, h.as(taken.AccessToken, "GET", statusPath(taken.UserID), ""))
	mustOK(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"taken","password":"secret-taken"}`, nil))
}

func TestLogin(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	login := func(body string) response { return h.request("POST", v1Prefix+"/login", body, nil) }

	for _, user := range []string{"alice", "@alice:localhost"} {
		got := decodeAccount(t, login(`{"type":"m.login.password","user":"`+user+`","password":"secret-alice"}`))
		if got.UserID != a.UserID || got.HomeServer != "localhost" || got.AccessToken == a.AccessToken {
			t.Errorf("login as %s: %+v", user, got)
		}
		mustOK(t, h.as(got.AccessToken, "GET", statusPath(a.UserID), ""))
	}
	mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")) // older tokens stay valid

	// Wrong password and unknown user are indistinguishable.
	wrong := login(`{"type":"m.login.password","user":"alice","password":"guess"}`)
	expectError(t, wrong, http.StatusForbidden, "M_FORBIDDEN")
	for _, user := range []string{"nobody", "@nobody:localhost", "@alice:elsewhere", "Alice", "not an id", "@"} {
		r := login(`{"type":"m.login.password","user":"` + user + `","password":"guess"}`)
		if r.status != wrong.status || string(r.body) != string(wrong.body) {
			t.Errorf("login as %q: %s; want exactly the wrong-password answer %s", user, r, wrong)
		}
	}
	for _, tt := range []struct {
		name, body, errcode string
	}{
		{"no type", `{"user":"alice","password":"secret-alice"}`, "M_UNKNOWN"},
		{"other type", `{"type":"m.login.oauth2","user":"alice","password":"secret-alice"}`, "M_UNKNOWN"},
		{"no user", `{"type":"m.login.password","password":"secret-alice"}`, "M_BAD_JSON"},
		{"no password", `{"type":"m.login.password","user":"alice"}`, "M_BAD_JSON"},
		{"password not a string", `{"type":"m.login.password","user":"alice","password":null}`, "M_BAD_JSON"},
		{"not an object", `"alice"`, "M_BAD_JSON"},
		{"not JSON", `{"type":`, "M_NOT_JSON"},
	} {
		expectError(t, login(tt.body), http.StatusBadRequest, tt.errcode)
	}
}

func TestRegisterMethod(t *testing.T) {
	h := newHarness(t)
	a, err := h.srv.Register("alice", "pw")
	if err != nil || a.UserID != "@alice:localhost" || a.HomeServer != "localhost" || !strings.HasPrefix(a.AccessToken, tokenPrefix) {
		t.Fatalf("Register = %+v, %v", a, err)
	}
	if b, err := h.srv.Register("@bob:localhost", "pw"); err != nil || b.UserID != "@bob:localhost" {
		t.Errorf("Register by full ID = %+v, %v", b, err)
	}
	for _, tt := range []struct{ localpart, password, inError string }{
		{"alice", "pw", "M_USER_IN_USE"},
		{"Alice", "pw", "M_INVALID_USERNAME"},
		{"", "pw", "M_INVALID_USERNAME"},
		{"carol", "", "password is empty"},
	} {
		if _, err := h.srv.Register(tt.localpart, tt.password); err == nil || !strings.Contains(err.Error(), tt.inError) {
			t.Errorf("Register(%q, %q) error = %v, want one mentioning %s", tt.localpart, tt.password, err, tt.inError)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, name := range []string{"", "localhost", "example.org:8448", "[::1]:8008", "1.2.3.4"} {
		if err := (Options{ServerName: name}).Validate(); err != nil {
			t.Errorf("server name %q: %v", name, err)
		}
	}
	for _, name := range []string{"bad name", "host:port", "[::1", strings.Repeat("a", 253)} {
		if err := (Options{ServerName: name}).Validate(); err == nil {
			t.Errorf("server name %q: no error", name)
		}
	}
	if err := (Options{RateLimit: math.NaN()}).Validate(); err == nil {
		t.Error("a NaN rate limit: no error")
	}
}

// A server New was given a bad name for refuses to make accounts, loudly.
func TestMisconfiguredServerRefusesRegistration(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.ServerName = "not a server name" })
	expectError(t, h.request("POST", v1Prefix+"/register", `{"type":"m.login.password","user":"alice","password":"pw"}`, nil),
		http.StatusInternalServerError, "M_UNKNOWN")
	if _, err := h.srv.Register("alice", "pw"); err == nil || !strings.Contains(err.Error(), "misconfigured") {
		t.Errorf("Register on a misconfigured server: %v", err)
	}
}
