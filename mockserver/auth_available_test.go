package mockserver

import (
	"net/http"
	"net/url"
	"testing"
)

// GET /register/available answers as POST /register would judge the name
// now, and reserves nothing.
func TestRegisterAvailable(t *testing.T) {
	for _, prefix := range laterPrefixes {
		h := newHarness(t, func(o *Options) { o.ServerName = "example.org" })
		h.register("taken")
		available := func(name string) response {
			return h.request("GET", prefix+"/register/available?username="+url.QueryEscape(name), "", nil)
		}
		for _, name := range []string{"free", "@free:example.org", "a.b_c=d-e/f"} {
			before := h.world()
			if r := mustOK(t, available(name)); string(r.body) != `{"available":true}` {
				t.Errorf("%s %q: %s", prefix, name, r.body)
			}
			h.unchanged(prefix+" available "+name, before)
		}
		// Asking reserves nothing: the name registers, then is taken.
		mustOK(t, h.request("POST", prefix+"/register", `{"username":"free","password":"pw","auth":{"type":"m.login.dummy"}}`, nil))
		for _, tt := range []struct {
			name, query string
			status      int
			errcode     string
		}{
			{"taken", "username=taken", 400, "M_USER_IN_USE"},
			{"taken as an ID", "username=%40taken%3Aexample.org", 400, "M_USER_IN_USE"},
			{"registered since", "username=free", 400, "M_USER_IN_USE"},
			{"capitals", "username=Taken", 400, "M_INVALID_USERNAME"},
			{"empty", "username=", 400, "M_INVALID_USERNAME"},
			{"another server", "username=%40x%3Aelsewhere.org", 400, "M_INVALID_USERNAME"},
			{"not an ID", "username=%40x", 400, "M_INVALID_USERNAME"},
			{"missing", "", 400, "M_MISSING_PARAM"},
			{"another parameter", "user=free", 400, "M_MISSING_PARAM"},
		} {
			before := h.world()
			expectError(t, h.request("GET", prefix+"/register/available?"+tt.query, "", nil), tt.status, tt.errcode)
			h.unchanged(prefix+" "+tt.name, before)
		}
		expectError(t, h.request("POST", prefix+"/register/available?username=x", "{}", nil), http.StatusMethodNotAllowed, "M_UNRECOGNIZED")

		// Registration closed: no name is available, as registering says.
		closed := newHarness(t, func(o *Options) { o.ClosedRegistration = true })
		before := closed.world()
		expectError(t, closed.request("GET", prefix+"/register/available?username=free", "", nil), http.StatusForbidden, "M_FORBIDDEN")
		closed.unchanged(prefix+" closed", before)
	}
	expectError(t, newHarness(t).request("GET", v1Prefix+"/register/available?username=x", "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
}
