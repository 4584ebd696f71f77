package match_test

import (
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func TestMissedSaysWhatWasWrong(t *testing.T) {
	forbidden := exchange(403, "application/json", `{"errcode":"M_FORBIDDEN","error":"no"}`)
	created := exchange(201, "application/json", `{}`)
	html := exchange(404, "text/html; charset=utf-8", `<h1>Not Found</h1>`)
	noResponse := &client.Exchange{Request: forbidden.Request, Err: http.ErrHandlerTimeout}
	cors := exchange(200, "application/json", `{}`)
	cors.Response.Header.Set("Access-Control-Allow-Methods", "GET, PUT")
	cases := []struct {
		name    string
		matcher types.GomegaMatcher
		ex      *client.Exchange
		want    match.Miss
	}{
		{"wrong status, Matrix error", match.HaveStatus(200), forbidden, match.Miss{Rule: "status 2xx", Found: "M_FORBIDDEN"}},
		{"wrong code in the right class", match.HaveStatus(200), created, match.Miss{Rule: "status 200", Found: "object without errcode"}},
		{"not refused", match.BeRejected(), created, match.Miss{Rule: "status 4xx", Found: "object without errcode"}},
		{"wrong errcode", match.BeMatrixError(403, "M_UNKNOWN_TOKEN"), forbidden, match.Miss{Pointer: "/errcode", Rule: "errcode M_UNKNOWN_TOKEN", Found: "M_FORBIDDEN"}},
		{"wrong status for an error", match.BeMatrixError(404, "M_NOT_FOUND"), created, match.Miss{Rule: "status 4xx", Found: "object without errcode"}},
		{"right status, not an error body", match.BeMatrixError(404, "M_NOT_FOUND"), html, match.Miss{Pointer: "/errcode", Rule: "errcode M_NOT_FOUND", Found: "body not JSON"}},
		{"no error body", match.HaveMatrixErrorBody(), html, match.Miss{Pointer: "/errcode", Rule: "Matrix error body", Found: "body not JSON"}},
		{"content type", match.HaveJSONContentType(), html, match.Miss{Pointer: "header Content-Type", Rule: "application/json", Found: "text/html"}},
		{"header list lacks one", match.HaveHeaderListing("Access-Control-Allow-Methods", "GET", "POST"), cors, match.Miss{Pointer: "header Access-Control-Allow-Methods", Rule: "lists GET, POST", Found: "lacks POST"}},
		{"header absent", match.HaveHeader("Access-Control-Allow-Origin", "*"), cors, match.Miss{Pointer: "header Access-Control-Allow-Origin", Rule: "*", Found: "absent"}},
		{"no response", match.HaveStatus(200), noResponse, match.Miss{Rule: match.NoResponseRule, Found: "no response"}},
		{"inside And, the part that failed", gomega.And(match.HaveStatus(403), match.HaveErrcodeIn("M_NOT_JSON", "M_BAD_JSON")), forbidden, match.Miss{Pointer: "/errcode", Rule: "errcode M_NOT_JSON or M_BAD_JSON", Found: "M_FORBIDDEN"}},
		{"inside And, a wrong status first", gomega.And(match.HaveStatus(404), match.HaveMatrixErrorBody()), forbidden, match.Miss{Rule: "status 404", Found: "M_FORBIDDEN"}},
		{"inside Or", gomega.Or(match.HaveStatus(200), match.HaveStatus(204)), forbidden, match.Miss{Rule: "status 2xx", Found: "M_FORBIDDEN"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, ok := match.Missed(c.matcher); ok {
				t.Fatal("a matcher that has not failed reports a miss")
			}
			if ok, _ := c.matcher.Match(c.ex); ok {
				t.Fatal("matched")
			}
			got, ok := match.Missed(c.matcher)
			if !ok || got != c.want {
				t.Errorf("Missed = %+v, %v; want %+v", got, ok, c.want)
			}
		})
	}
}

func TestMissedClearsOnAMatch(t *testing.T) {
	m := match.HaveStatus(201)
	m.Match(exchange(200, "application/json", `{}`))
	m.Match(exchange(201, "application/json", `{}`))
	if miss, ok := match.Missed(m); ok {
		t.Errorf("after a match, Missed still reports %+v", miss)
	}
}

// One response, many requirements: a 200 where a missing user's 404 was
// due fails a requirement asking for the status, one asking for the
// status and errcode, and one asking for any refusal. It is one defect, so
// all three must word it the same way.
func TestOneWrongStatusIsOneMiss(t *testing.T) {
	ok := exchange(200, "application/json", `{"presence":"offline"}`)
	var misses []match.Miss
	for _, m := range []types.GomegaMatcher{
		match.HaveStatus(404), match.BeMatrixError(404, "M_NOT_FOUND"), match.BeRejected(),
		gomega.And(match.HaveStatus(404), match.HaveMatrixErrorBody()),
	} {
		if matched, _ := m.Match(ok); matched {
			t.Fatal("matched")
		}
		miss, found := match.Missed(m)
		if !found {
			t.Fatal("no miss")
		}
		misses = append(misses, miss)
	}
	for _, miss := range misses[1:] {
		if miss != misses[0] {
			t.Errorf("%+v differs from %+v", miss, misses[0])
		}
	}
}

func TestStatusRule(t *testing.T) {
	cases := []struct {
		want, found int
		rule        string
	}{
		{404, 200, "status 4xx"}, {404, 400, "status 404"}, {200, 500, "status 2xx"}, {4, 200, "status 4xx"}, {400, 403, "status 400"},
	}
	for _, c := range cases {
		if got := match.StatusRule(c.want, c.found); got != c.rule {
			t.Errorf("StatusRule(%d, %d) = %q, want %q", c.want, c.found, got, c.rule)
		}
	}
}
