package mockserver

import (
	"net/http"
	"strings"
	"testing"
)

func TestLaterLoginFlows(t *testing.T) {
	h := newHarness(t)
	for _, prefix := range laterPrefixes {
		r := mustOK(t, h.request("GET", prefix+"/login", "", nil))
		if string(r.body) != `{"flows":[{"type":"m.login.password"}]}` {
			t.Errorf("GET %s/login: %s", prefix, r.body)
		}
	}
}

func TestLaterLogin(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	for _, prefix := range laterPrefixes {
		login := func(body string) response { return h.request("POST", prefix+"/login", body, nil) }
		for _, body := range []string{
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"secret-alice"}`,
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"@alice:localhost"},"password":"secret-alice"}`,
			`{"type":"m.login.password","user":"alice","password":"secret-alice"}`, // deprecated, still accepted
			`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"user":"@alice:localhost","password":"secret-alice"}`,
			`{"password":"secret-alice","identifier":{"user":"alice","type":"m.id.user","extra":1},"type":"m.login.password","medium":"ignored"}`,
		} {
			got := decodeDeviceAccount(t, login(body))
			if got.UserID != a.UserID || got.HomeServer != "localhost" || got.AccessToken == a.AccessToken || len(got.DeviceID) != 10 {
				t.Errorf("%s login %s: %+v", prefix, body, got)
			}
			mustOK(t, h.as(got.AccessToken, "GET", statusPathIn(prefix, a.UserID), ""))
		}
		got := decodeDeviceAccount(t, login(`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"secret-alice","device_id":"LAPTOP","initial_device_display_name":"my laptop"}`))
		if got.DeviceID != "LAPTOP" {
			t.Errorf("%s: device_id %q, want the client's", prefix, got.DeviceID)
		}

		// Wrong password and unknown user are indistinguishable, and as in v1.
		wrong := login(`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"guess"}`)
		expectError(t, wrong, http.StatusForbidden, "M_FORBIDDEN")
		v1Wrong := h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"guess"}`, nil)
		if string(v1Wrong.body) != string(wrong.body) {
			t.Errorf("%s: %s, v1 says %s", prefix, wrong.body, v1Wrong.body)
		}
		for _, user := range []string{"nobody", "@nobody:localhost", "@alice:elsewhere", "Alice", "@"} {
			r := login(`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"` + user + `"},"password":"secret-alice"}`)
			if r.status != wrong.status || string(r.body) != string(wrong.body) {
				t.Errorf("%s login as %q: %s; want exactly %s", prefix, user, r, wrong)
			}
		}

		for _, tt := range []struct {
			name, body, errcode, inError string
		}{
			{"no type", `{"identifier":{"type":"m.id.user","user":"alice"},"password":"secret-alice"}`, "M_UNKNOWN", "login type"},
			{"another type", `{"type":"m.login.token","token":"x"}`, "M_UNKNOWN", "login type"},
			{"type judged first", `{"type":"m.login.sso","identifier":7}`, "M_UNKNOWN", "login type"},
			{"third-party identifier", `{"type":"m.login.password","identifier":{"type":"m.id.thirdparty","medium":"email","address":"a@b.c"},"password":"pw"}`, "M_UNKNOWN", "identifier"},
			{"phone identifier", `{"type":"m.login.password","identifier":{"type":"m.id.phone","country":"GB","phone":"1"},"password":"pw"}`, "M_UNKNOWN", "identifier"},
			{"no user at all", `{"type":"m.login.password","password":"secret-alice"}`, "M_BAD_JSON", "identifier"},
			{"identifier without type", `{"type":"m.login.password","identifier":{"user":"alice"},"password":"secret-alice"}`, "M_BAD_JSON", "identifier.type"},
			{"identifier without user", `{"type":"m.login.password","identifier":{"type":"m.id.user"},"password":"secret-alice"}`, "M_BAD_JSON", "identifier.user"},
			{"identifier.user not a string", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":1},"password":"secret-alice"}`, "M_BAD_JSON", "identifier.user"},
			{"identifier.user twice", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice","user":"bob"},"password":"secret-alice"}`, "M_BAD_JSON", "identifier.user"},
			{"identifier not an object", `{"type":"m.login.password","identifier":"alice","password":"secret-alice"}`, "M_BAD_JSON", "identifier"},
			{"identifier and user disagree", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"user":"bob","password":"secret-alice"}`, "M_BAD_JSON", "user"},
			{"user not a string", `{"type":"m.login.password","user":["alice"],"password":"secret-alice"}`, "M_BAD_JSON", "user"},
			{"no password", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"}}`, "M_BAD_JSON", "password"},
			{"empty password", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":""}`, "M_BAD_JSON", "password"},
			{"password null", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":null}`, "M_BAD_JSON", "password"},
			{"device_id not a string", `{"type":"m.login.password","user":"alice","password":"secret-alice","device_id":5}`, "M_BAD_JSON", "device_id"},
			{"device_id empty", `{"type":"m.login.password","user":"alice","password":"secret-alice","device_id":""}`, "M_BAD_JSON", "device_id"},
			{"not an object", `"alice"`, "M_BAD_JSON", "object"},
			{"not JSON", `{"type":`, "M_NOT_JSON", ""},
		} {
			before := h.world()
			r := login(tt.body)
			expectError(t, r, http.StatusBadRequest, tt.errcode)
			if !strings.Contains(string(r.body), tt.inError) {
				t.Errorf("%s %s: error %s does not name %q", prefix, tt.name, r.body, tt.inError)
			}
			h.unchanged(prefix+" "+tt.name, before)
		}
	}
}
