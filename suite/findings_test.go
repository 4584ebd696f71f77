package suite

import (
	"net/url"
	"slices"
	"testing"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
)

func exchangeOf(t *testing.T, api client.API, op client.Operation, method, rawURL string, status int, body string) *client.Exchange {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	ex := &client.Exchange{Operation: op, Request: client.RecordedRequest{Method: method, URL: u},
		Response: &client.RecordedResponse{Status: status, Body: []byte(body)}}
	if op != (client.Operation{}) {
		ex.SchemaErr = api.Document.Operation(op.Method, op.Path).ValidateResponse(status, []byte(body))
	}
	return ex
}

func TestSchemaFindingsNameNoUserAndNoIndex(t *testing.T) {
	v1, err := client.ForVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	v3, err := client.ForVersion("v3")
	if err != nil {
		t.Fatal(err)
	}
	get := "GET /presence/{userId}/status"
	cases := []struct {
		name string
		api  client.API
		ex   *client.Exchange
		want []report.Signature
	}{
		{"empty presence", v3, exchangeOf(t, v3, client.GetStatus, "GET", "http://hs/_matrix/client/v3/presence/@mxp-a1:hs/status", 200,
			`{"presence":"","last_active_ago":5,"currently_active":false}`),
			[]report.Signature{{Operation: get, Status: 200, Pointer: "/presence", Rule: "enum", Found: "empty string"}}},
		{"missing and mistyped", v3, exchangeOf(t, v3, client.GetStatus, "GET", "http://hs/_matrix/client/v3/presence/@mxp-b2:hs/status", 200,
			`{"last_active_ago":"1234","currently_active":false}`),
			[]report.Signature{
				{Operation: get, Status: 200, Pointer: "/last_active_ago", Rule: "type", Found: "string"},
				{Operation: get, Status: 200, Pointer: "/presence", Rule: "required", Found: "absent"},
			}},
		{"a list's events, whichever index", v1, exchangeOf(t, v1, client.GetList, "GET", "http://hs/_matrix/client/api/v1/presence/list/@mxp-c3:hs", 200,
			`[{"type":1,"content":{"user_id":"@a:hs","presence":"online"}},{"type":2,"content":{"user_id":"@b:hs","presence":"online"}}]`),
			[]report.Signature{
				{Operation: "GET /presence/list/{userId}", Status: 200, Pointer: "/*/type", Rule: "type", Found: "number"},
				{Operation: "GET /presence/list/{userId}", Status: 200, Pointer: "/*/type", Rule: "type", Found: "number"},
			}},
		{"not JSON", v1, exchangeOf(t, v1, client.GetStatus, "GET", "http://hs/_matrix/client/api/v1/presence/@mxp-d4:hs/status", 200, `presence=online`),
			[]report.Signature{{Operation: get, Status: 200, Rule: "JSON", Found: "body not JSON"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.ex.SchemaErr == nil {
				t.Fatal("the body passes its schema")
			}
			got := schemaFindings(c.api, c.ex)
			slices.SortFunc(got, func(a, b report.Signature) int { return cmpPointer(a, b) })
			if !slices.Equal(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func cmpPointer(a, b report.Signature) int {
	switch {
	case a.Pointer < b.Pointer:
		return -1
	case a.Pointer > b.Pointer:
		return 1
	}
	return 0
}

func TestOperationOfRequestsOutsideTheOperations(t *testing.T) {
	v3, err := client.ForVersion("v3")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ex   *client.Exchange
		want string
	}{
		{exchangeOf(t, v3, client.Operation{}, "GET", "http://hs/_matrix/client/v3/presence/%40mxp-x%3Ahs/no-such-endpoint", 404, `{}`), "GET /presence/{userId}/no-such-endpoint"},
		{exchangeOf(t, v3, client.Operation{}, "POST", "http://hs/_matrix/client/v3/join/%21abc%3Ahs", 200, `{}`), "POST /join/{roomId}"},
		{exchangeOf(t, v3, client.GetStatus, "OPTIONS", "http://hs/_matrix/client/v3/presence/@mxp-y:hs/status", 200, `{}`), "OPTIONS /presence/{userId}/status"},
	}
	for _, c := range cases {
		if got := operationOf(v3, c.ex); got != c.want {
			t.Errorf("operationOf(%s %s) = %q, want %q", c.ex.Request.Method, c.ex.Request.URL, got, c.want)
		}
	}
}

func TestFindingLogCountsAResponseOncePerSignature(t *testing.T) {
	sig := report.Signature{Operation: "GET /presence/list/{userId}", Status: 200, Pointer: "/*/type", Rule: "type", Found: "number"}
	var log findingLog
	log.add("PRES-LIST-GET-02", sig, sig) // two events of one response
	log.add("PRES-LIST-POST-01", sig)
	got := log.list()
	if len(got) != 1 || got[0].Responses != 2 || !slices.Equal(got[0].Requirements, []string{"PRES-LIST-GET-02", "PRES-LIST-POST-01"}) {
		t.Errorf("%+v", got)
	}
}
