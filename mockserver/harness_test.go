package mockserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	v1Prefix = "/_matrix/client/api/v1"
	r0Prefix = "/_matrix/client/r0"
	v3Prefix = "/_matrix/client/v3"

	adminRegisterPath = "/_synapse/admin/v1/register"
)

// laterPrefixes are the versions with rooms and user-interactive
// registration; their rules are the same, and every test of them runs on
// both.
var laterPrefixes = []string{r0Prefix, v3Prefix}

// fakeClock moves only when told, so last_active_ago and the rate limiter
// are exact in tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2015, 8, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is a server under test on a fake clock, driven in-process.
type harness struct {
	t     testing.TB
	srv   *Server
	clock *fakeClock
}

// newHarness starts a server without rate limiting unless opts ask for it.
func newHarness(t testing.TB, opts ...func(*Options)) *harness {
	t.Helper()
	clock := newFakeClock()
	o := Options{Clock: clock.Now, NoRateLimit: true}
	for _, f := range opts {
		f(&o)
	}
	return &harness{t: t, srv: New(o), clock: clock}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errcode() string {
	var e struct {
		Errcode string `json:"errcode"`
	}
	json.Unmarshal(r.body, &e)
	return e.Errcode
}

func (r response) String() string { return http.StatusText(r.status) + " " + string(r.body) }

// request sends a request; target is a path (with query) relative to the
// server root, exactly as it goes on the wire.
func (h *harness) request(method, target, body string, header http.Header) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	res := rec.Result()
	out, _ := io.ReadAll(res.Body)
	checkEveryResponse(h.t, method, res.StatusCode, res.Header, out)
	return response{status: res.StatusCode, header: res.Header, body: out}
}

// checkEveryResponse asserts what holds for every response the server
// gives: JSON, said to be JSON, open to every origin.
func checkEveryResponse(t testing.TB, method string, status int, header http.Header, body []byte) {
	t.Helper()
	if got := header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s → %d: Content-Type %q, want application/json", method, status, got)
	}
	if got := header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("%s → %d: Access-Control-Allow-Origin %q, want *", method, status, got)
	}
	if method != http.MethodHead && !json.Valid(body) {
		t.Errorf("%s → %d: body is not JSON: %q", method, status, body)
	}
}

// as sends a request with token in the access_token query parameter.
func (h *harness) as(token, method, path, body string) response {
	h.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return h.request(method, path+sep+"access_token="+url.QueryEscape(token), body, nil)
}

func (h *harness) register(localpart string) Account {
	h.t.Helper()
	acct, err := h.srv.Register(localpart, "secret-"+localpart)
	if err != nil {
		h.t.Fatal(err)
	}
	return acct
}

func statusPath(userID string) string { return v1Prefix + "/presence/" + userID + "/status" }

func statusPathIn(prefix, userID string) string { return prefix + "/presence/" + userID + "/status" }
func listPath(userID string) string             { return v1Prefix + "/presence/list/" + userID }

// mustOK fails the test unless the response is a 200.
func mustOK(t testing.TB, r response) response {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want 200, got %s", r)
	}
	return r
}

// snapshot reads back, through the API, everything a request by or about
// acct could have changed: its own status and its own list. On the fake
// clock it is byte-exact, so two snapshots compare equal iff nothing
// changed.
func (h *harness) snapshot(acct Account) string {
	h.t.Helper()
	st := mustOK(h.t, h.as(acct.AccessToken, "GET", statusPath(acct.UserID), ""))
	ls := mustOK(h.t, h.as(acct.AccessToken, "GET", listPath(acct.UserID), ""))
	return string(st.body) + "\n" + string(ls.body)
}

// expectError asserts a Matrix error: status, errcode, and a body that is a
// JSON object with a string error message.
func expectError(t testing.TB, r response, status int, errcode string) {
	t.Helper()
	if r.status != status || r.errcode() != errcode {
		t.Fatalf("want %d %s, got %s", status, errcode, r)
	}
	var e map[string]any
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not a JSON object: %v: %s", err, r.body)
	}
	if msg, ok := e["error"].(string); !ok || msg == "" {
		t.Fatalf("error body has no message: %s", r.body)
	}
}

// decodeJSON decodes a response body that must be JSON.
func decodeJSON(t testing.TB, body []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return v
}

func httptestRequest(method, target, body string) *http.Request {
	return httptest.NewRequest(method, target, strings.NewReader(body))
}

// serve sends a request built by the caller.
func (h *harness) serve(req *http.Request) response {
	h.t.Helper()
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, req)
	res := rec.Result()
	out, _ := io.ReadAll(res.Body)
	checkEveryResponse(h.t, req.Method, res.StatusCode, res.Header, out)
	return response{status: res.StatusCode, header: res.Header, body: out}
}

// world describes, from the store itself, everything a request could
// change but the one-time codes: every user's presence, list and rooms,
// every room's members, how many tokens there are. It spends no rate limit,
// and on the fake clock two descriptions are equal iff nothing changed.
func (h *harness) world() string {
	h.t.Helper()
	var lines []string
	h.srv.users.Range(func(_, v any) bool {
		u := v.(*user)
		u.mu.Lock()
		var listed, rooms []string
		for _, l := range u.list {
			listed = append(listed, l.id)
		}
		for rm := range u.joinedRooms {
			rooms = append(rooms, rm.id)
		}
		slices.Sort(rooms)
		lines = append(lines, fmt.Sprintf("user %s %s msg=%q/%v active=%v list=%v rooms=%v profile=%q/%q tokens=%d",
			u.id, u.presence, u.statusMsg, u.hasStatusMsg, u.lastActive.UnixMilli(), listed, rooms,
			u.profile.displayName, u.profile.avatarURL, len(u.tokens)))
		u.mu.Unlock()
		return true
	})
	h.srv.rooms.Range(func(_, v any) bool {
		rm := v.(*room)
		rm.mu.Lock()
		var members []string
		for u, m := range rm.members {
			members = append(members, fmt.Sprintf("%s=%d", u.id, m))
		}
		rm.mu.Unlock()
		slices.Sort(members)
		lines = append(lines, fmt.Sprintf("room %s public=%v %v", rm.id, rm.public, members))
		return true
	})
	tokens := 0
	h.srv.tokens.Range(func(any, any) bool { tokens++; return true })
	slices.Sort(lines)
	return strings.Join(lines, "\n") + fmt.Sprintf("\ntokens %d", tokens)
}

// unchanged fails the test when the world is not as before.
func (h *harness) unchanged(what, before string) {
	h.t.Helper()
	if after := h.world(); after != before {
		h.t.Errorf("%s changed state:\n%s\n→\n%s", what, before, after)
	}
}

// liveCodes counts the one-time codes of a set that are still live.
func (h *harness) liveCodes(o *oneTimeCodes) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, expires := range o.live {
		if h.clock.Now().Before(expires) {
			n++
		}
	}
	return n
}
