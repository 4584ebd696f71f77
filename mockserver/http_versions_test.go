package mockserver

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each version's facts come from its own document.
func TestVersionFactsFromTheDocuments(t *testing.T) {
	vs, err := apiVersions()
	if err != nil {
		t.Fatal(err)
	}
	type facts struct {
		name, prefix, states   string
		lists, currentlyActive bool
		visibility             visibility
		registration           registration
		rooms                  bool
	}
	var got []facts
	for _, v := range vs {
		got = append(got, facts{v.name, strings.Join(v.prefix, "/"), strings.Join(v.presenceStates, ","),
			v.presenceLists, v.currentlyActive, v.visibility, v.registration, v.hasRooms()})
	}
	want := []facts{
		{"v1", "_matrix/client/api/v1", "online,offline,unavailable,free_for_chat", true, false, visibleByList, registerInOneStep, false},
		{"r0", "_matrix/client/r0", "online,offline,unavailable", false, true, visibleBySharedRoom, registerInteractive, true},
		{"v3", "_matrix/client/v3", "online,offline,unavailable", false, true, visibleBySharedRoom, registerInteractive, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("facts:\n%+v\nwant:\n%+v", got, want)
	}
	if got := New(Options{}).APIVersions(); !slices.Equal(got, []APIVersion{
		{"v1", "/_matrix/client/api/v1"}, {"r0", "/_matrix/client/r0"}, {"v3", "/_matrix/client/v3"},
	}) {
		t.Errorf("APIVersions() = %v", got)
	}
}

func TestVersionsEndpoint(t *testing.T) {
	h := newHarness(t)
	r := mustOK(t, h.request("GET", "/_matrix/client/versions", "", nil))
	// Only the releases whose calls the mock serves: none before r0.5.0,
	// whose r0 still had presence lists, and nothing after v1.1.
	want := `{"versions":["r0.5.0","r0.6.0","r0.6.1","v1.1"],"unstable_features":{}}`
	if string(r.body) != want {
		t.Errorf("GET /versions: %s", r.body)
	}
	// No token needed, and a bad one is not looked at.
	mustOK(t, h.request("GET", "/_matrix/client/versions?access_token=nope", "", nil))
	r = h.request("POST", "/_matrix/client/versions", "{}", nil)
	expectError(t, r, http.StatusMethodNotAllowed, "M_UNRECOGNIZED")
	if got := r.header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
		t.Errorf("Allow %q", got)
	}
	for _, path := range []string{"/_matrix/client/versions/", "/_matrix/client/r0/versions", "/_matrix/versions"} {
		expectError(t, h.request("GET", path, "", nil), http.StatusNotFound, "M_UNRECOGNIZED")
	}
}

// One store: an account made through any version is the same account in
// every version, and its tokens work under every prefix.
func TestOneStoreAcrossVersions(t *testing.T) {
	h := newHarness(t)
	a := h.register("alice")
	mustOK(t, h.as(a.AccessToken, "PUT", statusPathIn(r0Prefix, a.UserID), `{"presence":"unavailable","status_msg":"set through r0"}`))
	h.clock.Advance(20 * time.Millisecond)
	for _, tt := range []struct{ prefix, want string }{
		{v1Prefix, `{"presence":"unavailable","last_active_ago":20,"status_msg":"set through r0"}`},
		{r0Prefix, `{"presence":"unavailable","last_active_ago":20,"status_msg":"set through r0","currently_active":false}`},
		{v3Prefix, `{"presence":"unavailable","last_active_ago":20,"status_msg":"set through r0","currently_active":false}`},
	} {
		r := mustOK(t, h.request("GET", statusPathIn(tt.prefix, a.UserID), "", http.Header{"Authorization": {"Bearer " + a.AccessToken}}))
		if string(r.body) != tt.want {
			t.Errorf("GET through %s: %s, want %s", tt.prefix, r.body, tt.want)
		}
	}
	// A token from an r0 login works under v1 and v3; a v1 login's under r0.
	r0Login := decodeAccount(t, h.request("POST", r0Prefix+"/login",
		`{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"secret-alice"}`, nil))
	v1Login := decodeAccount(t, h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"secret-alice"}`, nil))
	for _, prefix := range []string{v1Prefix, r0Prefix, v3Prefix} {
		for _, tok := range []string{a.AccessToken, r0Login.AccessToken, v1Login.AccessToken} {
			mustOK(t, h.as(tok, "GET", statusPathIn(prefix, a.UserID), ""))
		}
	}
}
