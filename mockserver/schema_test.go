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
