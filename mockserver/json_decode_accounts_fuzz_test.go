package mockserver

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for the account bodies of r0, v3 and the admin API, each
// checked against a reference built on encoding/json that follows the
// order of checks the README gives. Seed corpora are in testdata/fuzz/.

// refRawMembers is refMembers keeping each value as raw JSON, so that
// objects nested in a body can be read member by member too.
func refRawMembers(body []byte) ([]refMember, string) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, "M_NOT_JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, "M_BAD_JSON"
	}
	var members []refMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic(err) // json.Valid said it was valid
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			panic(err)
		}
		members = append(members, refMember{tok.(string), v})
	}
	return members, ""
}

// refValue decodes one raw member picked by pick from refRawMembers.
func refValue(got map[string]any, name string) (v any, present bool) {
	raw, present := got[name]
	if !present {
		return nil, false
	}
	json.Unmarshal(raw.(json.RawMessage), &v)
	return v, true
}

// refString: absent is fine; present must be a string, and non-empty when
// nonEmpty. ok is false when the member breaks that.
func refString(got map[string]any, name string, nonEmpty bool) (s string, present, ok bool) {
	v, present := refValue(got, name)
	if !present {
		return "", false, true
	}
	s, isString := v.(string)
	return s, true, isString && !(nonEmpty && s == "")
}

// refNewUserCode is the errcode registering name gets on a server named
// localhost where only "taken" exists.
func refNewUserCode(name string) string {
	localpart := refLocalpart(name)
	switch {
	case !refNewLocalpart.MatchString(localpart) || len(localpart)+len("@:localhost") > 255:
		return "M_INVALID_USERNAME"
	case localpart == "taken":
		return "M_USER_IN_USE"
	}
	return ""
}

// FuzzInteractiveRegistrationBody sends a body to r0's POST /register. The
// text SESSION in it stands for a live session.
func FuzzInteractiveRegistrationBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		h.register("taken")
		session := expectChallenge(t, h.request("POST", r0Prefix+"/register", `{}`, nil)).Session
		body = bytes.ReplaceAll(body, []byte("SESSION"), []byte(session))

		wantStatus, wantCode, sessions := refInteractiveRegistration(body, session)
		users, live := h.userCount(), h.liveCodes(&h.srv.uiaAuth)
		r := h.request("POST", r0Prefix+"/register", string(body), nil)
		if r.status != wantStatus || r.errcode() != wantCode {
			t.Fatalf("%s; reference says %d %q", r, wantStatus, wantCode)
		}
		wantUsers, wantLive := users, live+sessions
		if wantStatus == 200 {
			wantUsers = users + 1
		}
		if h.userCount() != wantUsers || h.liveCodes(&h.srv.uiaAuth) != wantLive {
			t.Fatalf("%d users and %d sessions, want %d and %d", h.userCount(), h.liveCodes(&h.srv.uiaAuth), wantUsers, wantLive)
		}
	})
}

// refInteractiveRegistration also says how the number of live sessions
// changes: one more for a 401 with a new session, one fewer for a
// registration that spends the client's.
func refInteractiveRegistration(body []byte, session string) (status int, errcode string, sessions int) {
	if len(body) > maxBodyBytes {
		return 413, "M_TOO_LARGE", 0
	}
	members, code := refRawMembers(body)
	if code != "" {
		return 400, code, 0
	}
	got, unique := pick(members, "username", "password", "device_id", "initial_device_display_name", "inhibit_login", "auth")
	if !unique {
		return 400, "M_BAD_JSON", 0
	}
	username, hasUsername, ok1 := refString(got, "username", false)
	_, hasPassword, ok2 := refString(got, "password", true)
	_, _, ok3 := refString(got, "device_id", true)
	_, _, ok4 := refString(got, "initial_device_display_name", false)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 400, "M_BAD_JSON", 0
	}
	if v, present := refValue(got, "inhibit_login"); present {
		if _, isBool := v.(bool); !isBool {
			return 400, "M_BAD_JSON", 0
		}
	}
	var authType, authSession string
	var hasAuth, hasType, hasSession bool
	if raw, present := got["auth"]; present {
		hasAuth = true
		authMembers, code := refRawMembers(raw.(json.RawMessage))
		if code != "" {
			return 400, "M_BAD_JSON", 0
		}
		auth, unique := pick(authMembers, "type", "session")
		var okType, okSession bool
		authType, hasType, okType = refString(auth, "type", false)
		authSession, hasSession, okSession = refString(auth, "session", false)
		if !unique || !okType || !okSession {
			return 400, "M_BAD_JSON", 0
		}
	}
	if hasUsername {
		if code := refNewUserCode(username); code != "" {
			return 400, code, 0
		}
	}
	dummy := hasType && authType == "m.login.dummy"
	switch {
	case !hasAuth:
		return 401, "", 1
	case !hasSession && dummy && !hasPassword:
		return 400, "M_BAD_JSON", 0
	case !hasSession && dummy: // one request, no session
		return 200, "", 0
	case !hasSession || authSession != session:
		return 401, "M_FORBIDDEN", 1
	case !dummy:
		return 401, "M_FORBIDDEN", 0
	case !hasPassword:
		return 400, "M_BAD_JSON", 0
	}
	return 200, "", -1
}

// FuzzIdentifiedLoginBody sends a body to v3's POST /login.
func FuzzIdentifiedLoginBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		h.register("alice")
		wantStatus, wantCode := refIdentifiedLogin(body)
		tokens := func() int { n := 0; h.srv.tokens.Range(func(any, any) bool { n++; return true }); return n }
		before := tokens()
		r := h.request("POST", v3Prefix+"/login", string(body), nil)
		if r.status != wantStatus || r.errcode() != wantCode {
			t.Fatalf("%s; reference says %d %q", r, wantStatus, wantCode)
		}
		if want := before + map[bool]int{true: 1}[wantStatus == 200]; tokens() != want {
			t.Fatalf("%d tokens, want %d", tokens(), want)
		}
	})
}

func refIdentifiedLogin(body []byte) (status int, errcode string) {
	if len(body) > maxBodyBytes {
		return 413, "M_TOO_LARGE"
	}
	members, code := refRawMembers(body)
	if code != "" {
		return 400, code
	}
	got, unique := pick(members, "type", "identifier", "user", "password", "device_id", "initial_device_display_name")
	if !unique {
		return 400, "M_BAD_JSON"
	}
	if t, _ := refValue(got, "type"); t != "m.login.password" {
		return 400, "M_UNKNOWN"
	}
	password, hasPassword, ok := refString(got, "password", true)
	if !hasPassword || !ok {
		return 400, "M_BAD_JSON"
	}
	var user string
	raw, hasIdentifier := got["identifier"]
	if hasIdentifier {
		idMembers, code := refRawMembers(raw.(json.RawMessage))
		if code != "" {
			return 400, "M_BAD_JSON"
		}
		id, unique := pick(idMembers, "type", "user")
		if !unique {
			return 400, "M_BAD_JSON"
		}
		idType, present, ok := refString(id, "type", false)
		if !present || !ok {
			return 400, "M_BAD_JSON"
		}
		if idType != "m.id.user" {
			return 400, "M_UNKNOWN"
		}
		if user, present, ok = refString(id, "user", false); !present || !ok {
			return 400, "M_BAD_JSON"
		}
	}
	legacy, hasLegacy, ok := refString(got, "user", false)
	if !ok || !hasIdentifier && !hasLegacy {
		return 400, "M_BAD_JSON"
	}
	_, _, ok1 := refString(got, "device_id", true)
	_, _, ok2 := refString(got, "initial_device_display_name", false)
	if !ok1 || !ok2 {
		return 400, "M_BAD_JSON"
	}
	resolve := func(name string) string {
		if strings.HasPrefix(name, "@") {
			return name
		}
		return "@" + name + ":localhost"
	}
	if !hasIdentifier {
		user = legacy
	} else if hasLegacy && resolve(legacy) != resolve(user) {
		return 400, "M_BAD_JSON"
	}
	if resolve(user) != "@alice:localhost" || password != "secret-alice" {
		return 403, "M_FORBIDDEN"
	}
	return 200, ""
}

// FuzzSharedSecretBody sends a body to the admin API's POST register. The
// text NONCE stands for a live nonce, and a mac of "MAC" for the right MAC
// over the body's own fields.
func FuzzSharedSecretBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t, func(o *Options) { o.RegistrationSharedSecret = "s3cret" })
		h.register("taken")
		nonce := h.nonce()
		body = bytes.ReplaceAll(body, []byte("NONCE"), []byte(nonce))
		body = withRightMAC(body)

		wantStatus, wantCode, spent := refSharedSecret(body, nonce)
		users := h.userCount()
		r := h.request("POST", adminRegisterPath, string(body), nil)
		if r.status != wantStatus || r.errcode() != wantCode {
			t.Fatalf("%s; reference says %d %q", r, wantStatus, wantCode)
		}
		if want := users + map[bool]int{true: 1}[wantStatus == 200]; h.userCount() != want {
			t.Fatalf("%d users, want %d", h.userCount(), want)
		}
		if h.srv.nonces.valid(nonce, h.clock.Now()) == spent {
			t.Fatalf("nonce live: %v; the reference says spent: %v", !spent, spent)
		}
	})
}

// withRightMAC puts the right MAC in place of a mac of "MAC", when the
// body is readable enough to compute one.
func withRightMAC(body []byte) []byte {
	var fields struct {
		Nonce, Username, Password string
		Admin                     bool
		UserType                  string `json:"user_type"`
	}
	if !bytes.Contains(body, []byte(`"MAC"`)) || json.Unmarshal(body, &fields) != nil {
		return body
	}
	m := hmac.New(sha1.New, []byte("s3cret"))
	kind := "notadmin"
	if fields.Admin {
		kind = "admin"
	}
	m.Write([]byte(fields.Nonce + "\x00" + fields.Username + "\x00" + fields.Password + "\x00" + kind))
	if fields.UserType != "" {
		m.Write([]byte("\x00" + fields.UserType))
	}
	return bytes.ReplaceAll(body, []byte(`"MAC"`), []byte(`"`+hex.EncodeToString(m.Sum(nil))+`"`))
}

func refSharedSecret(body []byte, nonce string) (status int, errcode string, spent bool) {
	if len(body) > maxBodyBytes {
		return 413, "M_TOO_LARGE", false
	}
	members, code := refRawMembers(body)
	if code != "" {
		return 400, code, false
	}
	got, unique := pick(members, "nonce", "username", "password", "admin", "mac", "user_type")
	if !unique {
		return 400, "M_BAD_JSON", false
	}
	fields := map[string]string{}
	for _, name := range []string{"nonce", "username", "password", "mac"} {
		s, present, ok := refString(got, name, name == "password")
		if !present || !ok {
			return 400, "M_BAD_JSON", false
		}
		fields[name] = s
	}
	admin := false
	if v, present := refValue(got, "admin"); present {
		var isBool bool
		if admin, isBool = v.(bool); !isBool {
			return 400, "M_BAD_JSON", false
		}
	}
	userType := ""
	if v, present := refValue(got, "user_type"); present && v != nil {
		var isString bool
		if userType, isString = v.(string); !isString {
			return 400, "M_BAD_JSON", false
		}
	}
	if fields["nonce"] != nonce {
		return 400, "M_UNKNOWN", false // an unknown nonce spends nothing; the live one is untouched
	}
	kind := "notadmin"
	if admin {
		kind = "admin"
	}
	m := hmac.New(sha1.New, []byte("s3cret"))
	m.Write([]byte(fields["nonce"] + "\x00" + fields["username"] + "\x00" + fields["password"] + "\x00" + kind))
	if userType != "" {
		m.Write([]byte("\x00" + userType))
	}
	if fields["mac"] != hex.EncodeToString(m.Sum(nil)) {
		return 403, "M_FORBIDDEN", true
	}
	if code := refNewUserCode(fields["username"]); code != "" {
		return 400, code, true
	}
	return 200, "", true
}
