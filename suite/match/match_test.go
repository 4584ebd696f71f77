package match_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
)

func exchange(status int, contentType, body string) *client.Exchange {
	u, _ := url.Parse("http://hs.example/_matrix/client/api/v1/presence/@a:b/status")
	return &client.Exchange{
		Request:  client.RecordedRequest{Method: "GET", URL: u, Header: http.Header{}},
		Response: &client.RecordedResponse{Status: status, Proto: "HTTP/1.1", Header: http.Header{"Content-Type": {contentType}}, Body: []byte(body)},
	}
}

func TestMatchers(t *testing.T) {
	forbidden := exchange(403, "application/json; charset=utf-8", `{"errcode":"M_FORBIDDEN","error":"no"}`)
	html := exchange(404, "text/html", `<h1>Not Found</h1>`)
	badError := exchange(400, "application/json", `{"errcode":7}`)
	noResponse := &client.Exchange{Request: forbidden.Request, Err: http.ErrHandlerTimeout}
	cases := []struct {
		name    string
		matcher types.GomegaMatcher
		ex      *client.Exchange
		want    bool
		message string // part of the failure message
	}{
		{"status matches", match.HaveStatus(403), forbidden, true, ""},
		{"status differs", match.HaveStatus(200), forbidden, false, "Expected status 200 OK, got status 403 Forbidden M_FORBIDDEN."},
		{"no response", match.HaveStatus(200), noResponse, false, "got no response"},
		{"rejected", match.BeRejected(), forbidden, true, ""},
		{"matrix error", match.BeMatrixError(403, "M_FORBIDDEN"), forbidden, true, ""},
		{"wrong errcode", match.BeMatrixError(403, "M_UNKNOWN_TOKEN"), forbidden, false, "with errcode M_UNKNOWN_TOKEN, got status 403 Forbidden M_FORBIDDEN"},
		{"html is no matrix error", match.BeMatrixError(404, "M_NOT_FOUND"), html, false, "whose body is not a JSON object"},
		{"errcode must be a string", match.HaveMatrixErrorBody(), badError, false, "has no string errcode"},
		{"json content type with charset", match.HaveJSONContentType(), forbidden, true, ""},
		{"html content type", match.HaveJSONContentType(), html, false, `Content-Type: "text/html"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.matcher.Match(c.ex)
			if err != nil || got != c.want {
				t.Fatalf("Match = %v, %v; want %v", got, err, c.want)
			}
			if !c.want {
				msg := c.matcher.FailureMessage(c.ex)
				if !strings.Contains(msg, c.message) || !strings.Contains(msg, "--> GET http://hs.example/") {
					t.Errorf("failure message lacks %q or the exchange:\n%s", c.message, msg)
				}
			}
		})
	}
}

func TestHeaderListing(t *testing.T) {
	ex := exchange(200, "application/json", `{}`)
	ex.Response.Header.Set("Access-Control-Allow-Methods", "GET, POST,PUT, OPTIONS")
	if ok, _ := match.HaveHeaderListing("Access-Control-Allow-Methods", "put", "GET").Match(ex); !ok {
		t.Error("listing with mixed case and spacing not matched")
	}
	if ok, _ := match.HaveHeaderListing("Access-Control-Allow-Methods", "DELETE").Match(ex); ok {
		t.Error("matched an item not listed")
	}
}

func TestNotAnExchange(t *testing.T) {
	if _, err := match.HaveStatus(200).Match("a string"); err == nil {
		t.Error("no error for an actual that is not an exchange")
	}
}
