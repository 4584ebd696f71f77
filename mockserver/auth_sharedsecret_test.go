package mockserver

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// refMAC is the MAC as the admin API's documentation defines it, written
// out independently of the server's.
func refMAC(secret, nonce, username, password string, admin bool) string {
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(nonce + "\x00" + username + "\x00" + password + "\x00" + kind))
	return hex.EncodeToString(m.Sum(nil))
}

func (h *harness) nonce() string {
	h.t.Helper()
	var n struct {
		Nonce string `json:"nonce"`
	}
	r := mustOK(h.t, h.request("GET", adminRegisterPath, "", nil))
	if err := json.Unmarshal(r.body, &n); err != nil || n.Nonce == "" {
		h.t.Fatalf("GET nonce: %s", r.body)
	}
	return n.Nonce
}

func adminBody(nonce, username, password string, admin bool, mac string) string {
	b, _ := json.Marshal(map[string]any{"nonce": nonce, "username": username, "password": password, "admin": admin, "mac": mac})
	return string(b)
}

// adminRegister registers through the shared-secret API as a client that
// knows secret does.
func (h *harness) adminRegister(secret, username, password string, admin bool) response {
	h.t.Helper()
	nonce := h.nonce()
	return h.request("POST", adminRegisterPath, adminBody(nonce, username, password, admin, refMAC(secret, nonce, username, password, admin)), nil)
}

func TestSharedSecretRegistration(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RegistrationSharedSecret = "s3cret"; o.ServerName = "example.org" })
	a := decodeDeviceAccount(t, h.adminRegister("s3cret", "alice", "pw", false))
	if a.UserID != "@alice:example.org" || a.HomeServer != "example.org" {
		t.Errorf("registered %+v", a)
	}
	for _, prefix := range []string{v1Prefix, r0Prefix, v3Prefix} {
		mustOK(t, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
	}
	mustOK(t, h.request("POST", v3Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"pw"}`, nil))
	// admin: true is covered by the MAC; the account is an ordinary one.
	decodeDeviceAccount(t, h.adminRegister("s3cret", "root", "pw", true))
	// user_type, when given, is in the MAC after a NUL; null means none.
	nonce := h.nonce()
	m := hmac.New(sha1.New, []byte("s3cret"))
	m.Write([]byte(nonce + "\x00bot\x00pw\x00notadmin\x00bot"))
	body := `{"nonce":"` + nonce + `","username":"bot","password":"pw","mac":"` + hex.EncodeToString(m.Sum(nil)) + `","user_type":"bot","displayname":"Bot"}`
	decodeDeviceAccount(t, h.request("POST", adminRegisterPath, body, nil))
	nonce = h.nonce()
	body = `{"nonce":"` + nonce + `","username":"carol","password":"pw","mac":"` + refMAC("s3cret", nonce, "carol", "pw", false) + `","user_type":null,"displayname":null}`
	decodeDeviceAccount(t, h.request("POST", adminRegisterPath, body, nil))
	// Nonces are fresh each time.
	if x, y := h.nonce(), h.nonce(); x == y {
		t.Errorf("the same nonce twice: %s", x)
	}
}

func TestSharedSecretRefusals(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.RegistrationSharedSecret = "s3cret" })
	h.register("taken")
	check := func(name string, r response, status int, errcode, message string) {
		t.Helper()
		expectError(t, r, status, errcode)
		if !strings.Contains(string(r.body), message) {
			t.Errorf("%s: %s does not say %q", name, r.body, message)
		}
	}

	// Used, unknown and expired nonces.
	nonce := h.nonce()
	good := adminBody(nonce, "alice", "pw", false, refMAC("s3cret", nonce, "alice", "pw", false))
	mustOK(t, h.request("POST", adminRegisterPath, good, nil))
	before := h.world()
	check("a used nonce", h.request("POST", adminRegisterPath, good, nil), 400, "M_UNKNOWN", "unrecognised nonce")
	check("an unknown nonce", h.request("POST", adminRegisterPath, adminBody("nope", "bob", "pw", false, refMAC("s3cret", "nope", "bob", "pw", false)), nil), 400, "M_UNKNOWN", "unrecognised nonce")
	nonce = h.nonce()
	h.clock.Advance(nonceLifetime)
	check("an expired nonce", h.request("POST", adminRegisterPath, adminBody(nonce, "bob", "pw", false, refMAC("s3cret", nonce, "bob", "pw", false)), nil), 400, "M_UNKNOWN", "unrecognised nonce")
	h.unchanged("bad nonces", before)
	nonce = h.nonce()
	h.clock.Advance(nonceLifetime - time.Millisecond)
	mustOK(t, h.request("POST", adminRegisterPath, adminBody(nonce, "bob", "pw", false, refMAC("s3cret", nonce, "bob", "pw", false)), nil))

	// A wrong MAC is refused, and spends the nonce: one guess per nonce.
	for _, tt := range []struct {
		name string
		mac  func(nonce string) string
	}{
		{"another secret", func(n string) string { return refMAC("guess", n, "carol", "pw", false) }},
		{"admin claimed but notadmin signed", func(n string) string { return refMAC("s3cret", n, "carol", "pw", true) }},
		{"another password signed", func(n string) string { return refMAC("s3cret", n, "carol", "pw2", false) }},
		{"capital hex", func(n string) string { return strings.ToUpper(refMAC("s3cret", n, "carol", "pw", false)) }},
		{"empty", func(string) string { return "" }},
		{"truncated", func(n string) string { return refMAC("s3cret", n, "carol", "pw", false)[:39] }},
	} {
		nonce := h.nonce()
		before := h.world()
		body := adminBody(nonce, "carol", "pw", false, tt.mac(nonce))
		check(tt.name, h.request("POST", adminRegisterPath, body, nil), 403, "M_FORBIDDEN", "HMAC incorrect")
		h.unchanged(tt.name, before)
		if h.srv.nonces.valid(nonce, h.clock.Now()) {
			t.Errorf("%s: the nonce is still live", tt.name)
		}
	}

	// Bad bodies: refused before the nonce is looked at, so it stays live.
	for _, tt := range []struct {
		name, body, errcode, inError string
	}{
		{"not JSON", `nonce=x`, "M_NOT_JSON", ""},
		{"not an object", `[]`, "M_BAD_JSON", "object"},
		{"no nonce", `{"username":"dave","password":"pw","mac":"x"}`, "M_BAD_JSON", "nonce"},
		{"no username", `{"nonce":"N","password":"pw","mac":"x"}`, "M_BAD_JSON", "username"},
		{"no password", `{"nonce":"N","username":"dave","mac":"x"}`, "M_BAD_JSON", "password"},
		{"empty password", `{"nonce":"N","username":"dave","password":"","mac":"x"}`, "M_BAD_JSON", "password"},
		{"no mac", `{"nonce":"N","username":"dave","password":"pw"}`, "M_BAD_JSON", "mac"},
		{"nonce not a string", `{"nonce":1,"username":"dave","password":"pw","mac":"x"}`, "M_BAD_JSON", "nonce"},
		{"admin not a boolean", `{"nonce":"N","username":"dave","password":"pw","mac":"x","admin":"no"}`, "M_BAD_JSON", "admin"},
		{"user_type not a string", `{"nonce":"N","username":"dave","password":"pw","mac":"x","user_type":5}`, "M_BAD_JSON", "user_type"},
		{"mac twice", `{"nonce":"N","username":"dave","password":"pw","mac":"x","mac":"y"}`, "M_BAD_JSON", "mac"},
	} {
		nonce := h.nonce()
		before := h.world()
		check(tt.name, h.request("POST", adminRegisterPath, strings.ReplaceAll(tt.body, `"N"`, `"`+nonce+`"`), nil), 400, tt.errcode, tt.inError)
		h.unchanged(tt.name, before)
		if !h.srv.nonces.valid(nonce, h.clock.Now()) {
			t.Errorf("%s: the nonce was spent", tt.name)
		}
	}

	// With a good MAC, the username rules are those of every registration.
	for _, tt := range []struct{ name, username, errcode string }{
		{"taken", "taken", "M_USER_IN_USE"},
		{"upper case", "Dave", "M_INVALID_USERNAME"},
		{"another server", "@dave:elsewhere", "M_INVALID_USERNAME"},
		{"empty", "", "M_INVALID_USERNAME"},
	} {
		before := h.world()
		expectError(t, h.adminRegister("s3cret", tt.username, "pw", false), http.StatusBadRequest, tt.errcode)
		h.unchanged(tt.name, before)
	}
}

// Off by default: both methods say so, and nothing is issued.
func TestSharedSecretOff(t *testing.T) {
	h := newHarness(t)
	for _, method := range []string{"GET", "POST"} {
		r := h.request(method, adminRegisterPath, adminBody("n", "alice", "pw", false, refMAC("", "n", "alice", "pw", false)), nil)
		expectError(t, r, http.StatusBadRequest, "M_UNKNOWN")
		if !strings.Contains(string(r.body), "shared secret registration is not enabled") {
			t.Errorf("%s: %s", method, r.body)
		}
	}
	if h.userCount() != 0 || h.liveCodes(&h.srv.nonces) != 0 {
		t.Error("a server without a secret issued a nonce or made a user")
	}
	r := h.request("PUT", adminRegisterPath, "{}", nil)
	expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
	if got := r.header.Get("Allow"); got != "GET, HEAD, POST, OPTIONS" {
		t.Errorf("Allow %q", got)
	}
}
