package mockserver

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/schemas"
)

// Every response whose status the seed documents for its operation must
// validate against the seed's schema for it, and every error body against
// the seed's error definition.
func TestResponsesValidateAgainstTheSeed(t *testing.T) {
	doc, err := schemas.LoadSeed()
	if err != nil {
		t.Fatal(err)
	}
	errorSchema := doc.Operation("PUT", "/presence/{userId}/status").Responses[http.StatusTooManyRequests].Schema
	if errorSchema == nil {
		t.Fatal("the seed's 429 response has no schema")
	}

	h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1000 })
	a := h.register("alice")
	b := h.register("bob")
	h.register("carol")
	tight := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1 })
	l := tight.register("limited")

	type exchange struct {
		op   string // method and path template, as the seed names the operation
		resp response
	}
	var seen []exchange
	record := func(op string, r response) { seen = append(seen, exchange{op, r}) }
	statusOp, listOp := "/presence/{userId}/status", "/presence/list/{userId}"

	record("GET "+statusOp, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")) // 200, status_msg null
	record("PUT "+statusOp, h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"online","status_msg":"hi"}`))
	record("GET "+statusOp, h.as(a.AccessToken, "GET", statusPath(a.UserID), "")) // 200, with status_msg
	record("GET "+statusOp, h.as(a.AccessToken, "GET", statusPath(b.UserID), "")) // 404
	record("GET "+listOp, h.as(a.AccessToken, "GET", listPath(a.UserID), ""))     // 200, []
	record("POST "+listOp, h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@bob:localhost","@carol:localhost"]}`))
	mustOK(t, h.as(b.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"free_for_chat","status_msg":"bob"}`))
	record("GET "+listOp, h.as(a.AccessToken, "GET", listPath(a.UserID), ""))     // 200, two events
	record("GET "+statusOp, h.as(a.AccessToken, "GET", statusPath(b.UserID), "")) // 200, a listed user
	for _, op := range []struct{ method, template, path, body string }{
		{"PUT", statusOp, statusPath(l.UserID), `{"presence":"online"}`},
		{"POST", listOp, listPath(l.UserID), `{}`},
	} {
		tight.clock.Advance(time.Hour)
		mustOK(t, tight.as(l.AccessToken, op.method, op.path, op.body))
		record(op.method+" "+op.template, tight.as(l.AccessToken, op.method, op.path, op.body)) // 429
	}

	documented := map[string]bool{}
	for _, ex := range seen {
		method, template, _ := strings.Cut(ex.op, " ")
		op := doc.Operation(method, template)
		if op == nil {
			t.Fatalf("the seed has no operation %s", ex.op)
		}
		if _, ok := op.Responses[ex.resp.status]; !ok {
			t.Errorf("%s answered %d, which it does not document: %s", ex.op, ex.resp.status, ex.resp.body)
			continue
		}
		documented[ex.op+" "+strconv.Itoa(ex.resp.status)] = true
		if err := op.ValidateResponse(ex.resp.status, ex.resp.body); err != nil {
			t.Errorf("%s → %d %s: %v", ex.op, ex.resp.status, ex.resp.body, err)
		}
	}
	// Every documented status was produced and checked.
	for _, op := range doc.Operations {
		for _, status := range op.DocumentedStatuses() {
			if key := op.String() + " " + strconv.Itoa(status); !documented[key] {
				t.Errorf("no test response for %s", key)
			}
		}
	}

	// Error bodies of every kind the server produces, documented or not.
	errorBodies := []response{
		h.request("GET", "/nowhere", "", nil),
		h.request("DELETE", statusPath(a.UserID), "", nil),
		h.request("GET", statusPath(a.UserID), "", nil),
		h.as("nope", "GET", statusPath(a.UserID), ""),
		h.as(a.AccessToken, "GET", statusPath("bad"), ""),
		h.as(a.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"online"}`),
		h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"`+strings.Repeat("x", maxBodyBytes)+`"}`),
		h.as(a.AccessToken, "PUT", statusPath(a.UserID), `nope`),
		h.as(a.AccessToken, "PUT", statusPath(a.UserID), `{"presence":"\u0000\u2028é"}`),
		h.as(a.AccessToken, "POST", listPath(a.UserID), `{"invite":["@nobody:localhost"]}`),
		h.request("POST", v1Prefix+"/register", `{"type":"m.login.password","user":"alice","password":"x"}`, nil),
		h.request("POST", v1Prefix+"/register", `{"type":"m.login.password","user":"Alice","password":"x"}`, nil),
		h.request("POST", v1Prefix+"/login", `{"type":"m.login.password","user":"alice","password":"x"}`, nil),
		h.request("POST", v1Prefix+"/login", `{"type":"x"}`, nil),
	}
	for _, r := range errorBodies {
		if r.status < 400 {
			t.Errorf("expected an error, got %s", r)
		}
		if err := errorSchema.Validate(r.body); err != nil {
			t.Errorf("%d %s: %v", r.status, r.body, err)
		}
	}
}

// Under r0 and v3, likewise: every response to a status the version's
// document gives its operation validates against that document, and every
// error body of every route under the prefix against its error definition.
func TestResponsesValidateAgainstTheLaterDocuments(t *testing.T) {
	for _, version := range []string{"r0", "v3"} {
		t.Run(version, func(t *testing.T) {
			doc, err := schemas.LoadVersion(version)
			if err != nil {
				t.Fatal(err)
			}
			prefix := doc.BasePath
			statusOp := "/presence/{userId}/status"
			errorSchema := doc.Operation("GET", statusOp).Responses[http.StatusNotFound].Schema
			if errorSchema == nil {
				t.Fatal("the document's GET status 404 has no schema")
			}

			h := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1000 })
			a := h.register("alice")
			b := h.register("bob")
			tight := newHarness(t, func(o *Options) { o.NoRateLimit = false; o.RateLimit = 1 })
			l := tight.register("limited")

			type exchange struct {
				op   string
				resp response
			}
			var seen []exchange
			record := func(op string, r response) { seen = append(seen, exchange{op, r}) }
			get, put := "GET "+statusOp, "PUT "+statusOp

			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), "")) // status_msg null, not active
			record(put, h.as(a.AccessToken, "PUT", statusPathIn(prefix, a.UserID), `{"presence":"online","status_msg":"hi"}`))
			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, a.UserID), "")) // active, with a message
			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, b.UserID), "")) // 404: no shared room
			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, "@nobody:localhost"), ""))
			mustOK(t, h.joinRoom(prefix, b, h.createRoom(prefix, a, b.UserID)))
			mustOK(t, h.as(b.AccessToken, "PUT", statusPath(b.UserID), `{"presence":"free_for_chat"}`)) // v1's state
			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, b.UserID), ""))                 // 200, shared, reported as online
			h.clock.Advance(time.Hour)
			record(get, h.as(a.AccessToken, "GET", statusPathIn(prefix, b.UserID), "")) // online, not active
			tight.clock.Advance(time.Hour)
			mustOK(t, tight.as(l.AccessToken, "PUT", statusPathIn(prefix, l.UserID), `{"presence":"offline"}`))
			record(put, tight.as(l.AccessToken, "PUT", statusPathIn(prefix, l.UserID), `{"presence":"offline"}`)) // 429

			documented := map[string]bool{}
			for _, ex := range seen {
				method, template, _ := strings.Cut(ex.op, " ")
				op := doc.Operation(method, template)
				if _, ok := op.Responses[ex.resp.status]; !ok {
					t.Errorf("%s answered %d, which it does not document: %s", ex.op, ex.resp.status, ex.resp.body)
					continue
				}
				documented[ex.op+" "+strconv.Itoa(ex.resp.status)] = true
				if err := op.ValidateResponse(ex.resp.status, ex.resp.body); err != nil {
					t.Errorf("%s → %d %s: %v", ex.op, ex.resp.status, ex.resp.body, err)
				}
			}
			for _, op := range doc.Operations {
				for _, status := range op.DocumentedStatuses() {
					key := op.String() + " " + strconv.Itoa(status)
					// The mock answers a user hidden from you as one who does
					// not exist, 404, so that the answer reveals nothing; the
					// 403 the document allows is never given.
					if key == get+" 403" {
						continue
					}
					if !documented[key] {
						t.Errorf("no test response for %s", key)
					}
				}
			}

			// Error bodies of every kind the version's routes produce.
			auth := func(acct Account) http.Header { return http.Header{"Authorization": {"Bearer " + acct.AccessToken}} }
			roomID := h.createRoom(prefix, a)
			s := expectChallenge(t, h.request("POST", prefix+"/register", `{}`, nil)).Session
			errorBodies := []response{
				h.request("GET", prefix+"/presence/list/"+a.UserID, "", auth(a)),
				h.request("DELETE", statusPathIn(prefix, a.UserID), "", nil),
				h.request("GET", statusPathIn(prefix, a.UserID), "", nil),
				h.request("GET", statusPathIn(prefix, a.UserID), "", http.Header{"Authorization": {"Bearer nope"}}),
				h.request("GET", statusPathIn(prefix, "bad"), "", auth(a)),
				h.request("PUT", statusPathIn(prefix, b.UserID), `{"presence":"online"}`, auth(a)),
				h.request("PUT", statusPathIn(prefix, a.UserID), `{"presence":"free_for_chat"}`, auth(a)),
				h.request("PUT", statusPathIn(prefix, a.UserID), `nope`, auth(a)),
				h.request("POST", prefix+"/createRoom", `{"invite":["@nobody:localhost"]}`, auth(a)),
				h.request("POST", prefix+"/createRoom", `{"invite":["bad"]}`, auth(a)),
				h.request("POST", prefix+"/join/"+roomID, ``, auth(b)),
				h.request("POST", prefix+"/join/%23alias:localhost", ``, auth(b)),
				h.request("POST", prefix+"/rooms/bad/join", ``, auth(b)),
				h.request("POST", prefix+"/rooms/"+roomID+"/leave", ``, auth(b)),
				h.request("GET", prefix+"/register", "", nil),
				h.request("POST", prefix+"/register", `{"username":"alice"}`, nil),
				h.request("POST", prefix+"/register", `{"username":"Alice"}`, nil),
				h.request("POST", prefix+"/register", `{"username":"x","auth":{"type":"m.login.dummy","session":"nope"}}`, nil),
				h.request("POST", prefix+"/register", `{"username":"x","auth":{"type":"m.login.password","session":"`+s+`"}}`, nil),
				h.request("POST", prefix+"/register?kind=guest", `{}`, nil),
				h.request("POST", prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.user","user":"alice"},"password":"x"}`, nil),
				h.request("POST", prefix+"/login", `{"type":"m.login.password","identifier":{"type":"m.id.phone"},"password":"x"}`, nil),
				h.request("POST", prefix+"/login", `{"type":"x"}`, nil),
			}
			for _, r := range errorBodies {
				if r.status < 400 {
					t.Errorf("expected an error, got %s", r)
				}
				if err := errorSchema.Validate(r.body); err != nil {
					t.Errorf("%d %s: %v", r.status, r.body, err)
				}
			}
		})
	}
}
