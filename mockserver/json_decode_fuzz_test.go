package mockserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets check the server against independent references:
// encoding/json for the body decoders, regular expressions transcribed from
// the spec's grammar for user IDs, url.ParseQuery for the token parameter.
// Beyond agreeing with the reference, no input may cause a panic or a 5xx.
// Seed corpora are in testdata/fuzz/<target>/.

// refUserID is the historical user ID grammar, transcribed from the spec.
var refUserID = regexp.MustCompile(`^@[\x21-\x39\x3b-\x7e]+:(?:[0-9A-Za-z.\-]{1,255}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$`)

func refValidUserID(id string) bool { return len(id) <= 255 && refUserID.MatchString(id) }

var refNewLocalpart = regexp.MustCompile(`^[a-z0-9._=\-/]+$`)

type refMember struct {
	key   string
	value any
}

// refMembers decodes a body with encoding/json: the errcode when it is not
// JSON or not an object, else its members in order, duplicates kept.
func refMembers(body []byte) ([]refMember, string) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, "M_NOT_JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, "M_BAD_JSON"
	}
	var members []refMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			panic(err) // json.Valid said it was valid
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			panic(err)
		}
		members = append(members, refMember{tok.(string), v})
	}
	return members, ""
}

// pick collects the named members, refusing any given twice.
func pick(members []refMember, names ...string) (map[string]any, bool) {
	got := map[string]any{}
	for _, m := range members {
		if !slices.Contains(names, m.key) {
			continue
		}
		if _, dup := got[m.key]; dup {
			return nil, false
		}
		got[m.key] = m.value
	}
	return got, true
}

func expectStatusIn(t *testing.T, r response, allowed ...int) {
	t.Helper()
	if !slices.Contains(allowed, r.status) {
		t.Fatalf("status %d not in %v: %s", r.status, allowed, r.body)
	}
}

func FuzzPutStatusBody(f *testing.F) {
	states := []string{"online", "offline", "unavailable", "free_for_chat"}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		a := h.register("alice")
		mustOK(t, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"unavailable","status_msg":"before"}`))
		before := h.snapshot(a)
		r := h.as(a.AccessToken, "PUT", statusPath(a.UserID), string(body))
		expectStatusIn(t, r, 200, 400, 413)

		wantCode, wantPresence, wantMsg := "", "", any(nil)
		members, code := refMembers(body)
		got, unique := pick(members, "presence", "status_msg")
		switch {
		case len(body) > maxBodyBytes:
			wantCode = "M_TOO_LARGE"
		case code != "":
			wantCode = code
		case !unique:
			wantCode = "M_BAD_JSON"
		default:
			p, isString := got["presence"].(string)
			msg, hasMsg := got["status_msg"]
			_, msgIsString := msg.(string)
			if !isString || !slices.Contains(states, p) || hasMsg && !msgIsString {
				wantCode = "M_BAD_JSON"
			}
			wantPresence, wantMsg = p, msg
		}
		if r.errcode() != wantCode {
			t.Fatalf("errcode %q, reference says %q: %s", r.errcode(), wantCode, r.body)
		}
		after := h.snapshot(a)
		if wantCode != "" {
			if after != before {
				t.Fatalf("a refused PUT changed state: %s → %s", before, after)
			}
			return
		}
		var st struct {
			Presence  string
			StatusMsg any `json:"status_msg"`
		}
		json.Unmarshal(mustOK(t, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")).body, &st)
		if st.Presence != wantPresence || st.StatusMsg != wantMsg {
			t.Fatalf("after PUT: %+v, reference says %q %q", st, wantPresence, wantMsg)
		}
	})
}

func FuzzListBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		a := h.register("alice")
		h.register("bob")
		h.register("carol")
		mustOK(t, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@bob:localhost"]}`))
		before := h.snapshot(a)
		r := h.as(a.AccessToken, "POST", listPath(a.UserID), string(body))
		expectStatusIn(t, r, 200, 400, 404, 413)

		exists := func(id string) bool {
			return id == "@alice:localhost" || id == "@bob:localhost" || id == "@carol:localhost"
		}
		wantCode, wantList := "", []string{"@bob:localhost"}
		members, code := refMembers(body)
		got, unique := pick(members, "invite", "drop")
		lists := map[string][]string{}
	decide:
		switch {
		case len(body) > maxBodyBytes:
			wantCode = "M_TOO_LARGE"
		case code != "":
			wantCode = code
		case !unique:
			wantCode = "M_BAD_JSON"
		default:
			for _, field := range []string{"invite", "drop"} {
				v, present := got[field]
				if !present {
					continue
				}
				arr, ok := v.([]any)
				if !ok {
					wantCode = "M_BAD_JSON"
					break decide
				}
				lists[field] = []string{}
				for _, e := range arr {
					s, ok := e.(string)
					if !ok {
						wantCode = "M_BAD_JSON"
						break decide
					}
					lists[field] = append(lists[field], s)
				}
			}
			// Document order decides which bad member is reported first, but
			// every one of these is M_BAD_JSON, so the errcode does not depend
			// on it. From here on the order is the server's: form first.
			for _, id := range append(slices.Clone(lists["invite"]), lists["drop"]...) {
				if !refValidUserID(id) {
					wantCode = "M_INVALID_PARAM"
					break decide
				}
			}
			for _, id := range lists["invite"] {
				if id == a.UserID {
					wantCode = "M_INVALID_PARAM"
					break decide
				}
				if !exists(id) {
					wantCode = "M_NOT_FOUND"
					break decide
				}
			}
			for _, id := range lists["drop"] {
				if id != a.UserID && !exists(id) {
					wantCode = "M_NOT_FOUND"
					break decide
				}
			}
			for _, id := range lists["invite"] {
				if !slices.Contains(wantList, id) {
					wantList = append(wantList, id)
				}
			}
			for _, id := range lists["drop"] {
				wantList = slices.DeleteFunc(wantList, func(x string) bool { return x == id })
			}
		}
		if r.errcode() != wantCode {
			t.Fatalf("errcode %q, reference says %q: %s", r.errcode(), wantCode, r.body)
		}
		if wantCode != "" {
			if after := h.snapshot(a); after != before {
				t.Fatalf("a refused POST changed state: %s → %s", before, after)
			}
			return
		}
		if got := h.listedIDs(a); !slices.Equal(got, wantList) {
			t.Fatalf("list %v, reference says %v", got, wantList)
		}
	})
}

func FuzzUserIDPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, segment string) {
		target := statusPath(segment)
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip("net/http refuses such a request line before any handler sees it")
		}
		h := newHarness(t)
		a := h.register("alice")
		req := &http.Request{Method: "GET", URL: u, RequestURI: target, Header: http.Header{"Authorization": {"Bearer " + a.AccessToken}}, Body: http.NoBody}
		r := h.serve(req)
		expectStatusIn(t, r, 200, 400, 404)

		// What the server should make of it, worked out independently.
		wantCode := "M_UNRECOGNIZED"
		segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), v1Prefix+"/"), "/")
		if strings.HasPrefix(u.EscapedPath(), v1Prefix+"/") && len(segs) == 3 {
			first, err1 := url.PathUnescape(segs[0])
			id, err2 := url.PathUnescape(segs[1])
			last, err3 := url.PathUnescape(segs[2])
			switch {
			case err1 != nil || err2 != nil || err3 != nil || first != "presence":
			case id == "list": // the list route: the list of "status"
				wantCode = "M_INVALID_PARAM"
			case last != "status":
			case id == a.UserID:
				wantCode = ""
			case refValidUserID(id):
				wantCode = "M_NOT_FOUND"
			default:
				wantCode = "M_INVALID_PARAM"
			}
		}
		if r.errcode() != wantCode {
			t.Fatalf("GET %s: %s; reference says %q", target, r, wantCode)
		}
		if validUserID(segment) != refValidUserID(segment) {
			t.Fatalf("validUserID(%q) = %v, the grammar says %v", segment, validUserID(segment), refValidUserID(segment))
		}
	})
}

func FuzzCredentialsBody(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		h := newHarness(t)
		a := h.register("alice")
		members, code := refMembers(body)
		got, unique := pick(members, "type", "user", "password")
		var user, password string
		var hasUser bool
		switch {
		case len(body) > maxBodyBytes:
			code = "M_TOO_LARGE"
		case code != "":
		case !unique:
			code = "M_BAD_JSON"
		case got["type"] != "m.login.password":
			code = "M_UNKNOWN"
		default:
			var ok bool
			password, ok = got["password"].(string)
			if !ok || password == "" {
				code = "M_BAD_JSON"
				break
			}
			var v any
			v, hasUser = got["user"]
			if user, ok = v.(string); hasUser && !ok {
				code = "M_BAD_JSON"
			}
		}

		loginCode := code
		if code == "" {
			id := user
			if !strings.HasPrefix(user, "@") {
				id = "@" + user + ":localhost"
			}
			switch {
			case !hasUser:
				loginCode = "M_BAD_JSON"
			case id != a.UserID || password != "secret-alice":
				loginCode = "M_FORBIDDEN"
			}
		}
		r := h.request("POST", v1Prefix+"/login", string(body), nil)
		expectStatusIn(t, r, 200, 400, 403, 413)
		if r.errcode() != loginCode {
			t.Fatalf("login: %s; reference says %q", r, loginCode)
		}

		registerCode := code
		if code == "" && hasUser {
			localpart := refLocalpart(user)
			switch {
			case !refNewLocalpart.MatchString(localpart) || len(localpart)+len("@:localhost") > 255:
				registerCode = "M_INVALID_USERNAME"
			case localpart == "alice":
				registerCode = "M_USER_IN_USE"
			}
		}
		users := h.userCount()
		r = h.request("POST", v1Prefix+"/register", string(body), nil)
		expectStatusIn(t, r, 200, 400, 413)
		if r.errcode() != registerCode {
			t.Fatalf("register: %s; reference says %q", r, registerCode)
		}
		if wantUsers := users + map[bool]int{true: 1}[registerCode == ""]; h.userCount() != wantUsers {
			t.Fatalf("%d users after register, want %d", h.userCount(), wantUsers)
		}
	})
}

// FuzzRequest sends anything net/http would hand a handler: no input may
// panic or cause a 5xx, and every answer is JSON with the CORS header.
func FuzzRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, method, target string, body []byte, withToken bool) {
		if !validMethod(method) {
			t.Skip("net/http refuses such a method")
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Skip("net/http refuses such a request line")
		}
		h := newHarness(t)
		a := h.register("alice")
		h.register("bob")
		req := &http.Request{Method: method, URL: u, RequestURI: target, Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		if withToken {
			req.Header.Set("Authorization", "Bearer "+a.AccessToken)
		}
		r := h.serve(req)
		if r.status >= 500 || r.status < 200 {
			t.Fatalf("%s %s: %s", method, target, r)
		}
		// The one error without an errcode is the first step of
		// user-interactive auth: a 401 that offers flows in a session.
		if r.status >= 400 && r.errcode() == "" && !isAuthChallenge(r) {
			t.Fatalf("%s %s: an error without an errcode: %s", method, target, r)
		}
	})
}

func isAuthChallenge(r response) bool {
	var c struct {
		Flows   []any  `json:"flows"`
		Session string `json:"session"`
	}
	return r.status == http.StatusUnauthorized && json.Unmarshal(r.body, &c) == nil && len(c.Flows) > 0 && c.Session != ""
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func FuzzAccessTokenQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, rawQuery string) {
		checkQueryValue(t, rawQuery)
	})
}

// FuzzObjectMembers checks the JSON reader against encoding/json: the same
// members, in the same order, with the same values.
func FuzzObjectMembers(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		members, code := refMembers(body)
		if isJSONText(body) != (code != "M_NOT_JSON") {
			t.Fatalf("isJSONText = %v, reference says %q", isJSONText(body), code)
		}
		if code == "M_NOT_JSON" {
			return
		}
		obj, isObject := readObject(body)
		if isObject != (code == "") {
			t.Fatalf("readObject ok = %v, reference says %q", isObject, code)
		}
		if !isObject {
			return
		}
		i := 0
		for key, value, ok := obj.next(); ok; key, value, ok = obj.next() {
			if i >= len(members) {
				t.Fatalf("more members than encoding/json finds: %s", key)
			}
			var want string
			json.Unmarshal(key, &want)
			if got := unquote(key); got != want || members[i].key != want || !keyIs(key, want) {
				t.Fatalf("member %d key %q, encoding/json says %q", i, got, members[i].key)
			}
			dec := json.NewDecoder(bytes.NewReader(value))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("member %d value %q is not one JSON value: %v", i, value, err)
			}
			if !jsonEqual(v, members[i].value) {
				t.Fatalf("member %d value %s, encoding/json says %v", i, value, members[i].value)
			}
			if s, ok := stringValue(value); ok != (value[0] == '"') || ok && s != v {
				t.Fatalf("stringValue(%s) = %q, %v", value, s, ok)
			}
			if list, bad, ok := stringArray(value); ok {
				for j, s := range list {
					if v.([]any)[j] != s {
						t.Fatalf("stringArray(%s)[%d] = %q", value, j, s)
					}
				}
			} else if arr, isArray := v.([]any); isArray && (bad < 0 || bad >= len(arr)) {
				t.Fatalf("stringArray(%s): bad index %d", value, bad)
			}
			i++
		}
		if i != len(members) {
			t.Fatalf("%d members, encoding/json finds %d", i, len(members))
		}
	})
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// FuzzJSONString checks appendString against encoding/json's encoder and
// unquote against its decoder.
func FuzzJSONString(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := string(appendString(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Fatalf("appendString(%q) = %s, encoding/json says %s", s, got, want.String())
		}
		// unquote takes exactly one string literal, as the reader slices it
		// out: quotes at both ends, no space around.
		var decoded string
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' && utf8.ValidString(s) && json.Unmarshal([]byte(s), &decoded) == nil {
			if got := unquote([]byte(s)); got != decoded {
				t.Fatalf("unquote(%s) = %q, encoding/json says %q", s, got, decoded)
			}
		}
	})
}

// refLocalpart is the localpart a registration names: the name itself, or
// the localpart of a full user ID on localhost; "" (invalid) for any other.
func refLocalpart(name string) string {
	if !strings.HasPrefix(name, "@") {
		return name
	}
	lp, server, _ := strings.Cut(name[1:], ":")
	if !refValidUserID(name) || server != "localhost" {
		return ""
	}
	return lp
}
