package federation

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver/federation/fedtest"
	"maunium.net/go/mautrix/id"
)

// onlyTo lets outbound requests reach one address alone: a fuzzed header
// names any origin, and its keys must not be fetched from the network.
type onlyTo struct {
	addr string
	next http.RoundTripper
}

func (o onlyTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.addr {
		return nil, errors.New("not the test peer")
	}
	return o.next.RoundTrip(r)
}

// FuzzSend throws bodies and X-Matrix headers at PUT /send: bodies signed
// rightly by a real peer, or sent with the fuzzed header. Whatever comes,
// the answer is a JSON object with a status the API has; anything but 200
// applies nothing; a fuzzed header never gets in; and what is applied is
// only ever about the signing origin's own users, in the three states.
func FuzzSend(f *testing.F) {
	home := newFakeHome("localhost")
	// The peer needs the federation's handler and the federation the peer's
	// address: a handler that forwards to the federation once it exists.
	var fed *Federation
	forward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fed.Handler().ServeHTTP(w, r) })
	p := fedtest.NewPeer(f, forward)
	var err error
	fed, err = New(home, Config{ServerName: "localhost", Transport: onlyTo{p.Name, p.Srv.Client().Transport}})
	if err != nil {
		f.Fatal(err)
	}
	good := `{"origin":"` + p.Name + `","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"@bob:` + p.Name + `","presence":"online","last_active_ago":1}]}}]}`
	f.Add([]byte(good), "", true)
	f.Add([]byte(good), `X-Matrix origin="`+p.Name+`",destination="localhost",key="ed25519:x",sig="AAAA"`, false)
	f.Add([]byte(`{"origin":"`+p.Name+`","origin_server_ts":1,"pdus":[],"edus":[{"edu_type":"m.presence","content":{"push":[{"user_id":"@alice:localhost","presence":"online","last_active_ago":1},{"user_id":1},null]}},7,{"edu_type":"m.presence","content":{}}]}`), "", true)
	f.Add([]byte(`[]`), "X-Matrix ", true)
	f.Add([]byte(`not json`), `X-Matrix origin=a,key=b,sig=c`, false)
	f.Add([]byte(`{"origin":"x","pdus":[]}`), "Bearer x", false)
	var txn atomic.Int64 // a new ID each time, so that nothing is skipped as a retry
	f.Fuzz(func(t *testing.T, body []byte, header string, sign bool) {
		txnID := strconv.FormatInt(txn.Add(1), 10)
		before := len(home.appliedCopy())
		var r *http.Request
		if sign && json.Valid(body) {
			if r, _ = p.Sign("localhost", http.MethodPut, sendPath(txnID), nil, json.RawMessage(body)); r == nil {
				return // the library cannot put it in canonical JSON, so cannot sign it
			}
		} else {
			sign = false
			r = httptest.NewRequest(http.MethodPut, "/_matrix/federation/v1/send/"+txnID, strings.NewReader(string(body)))
			if header != "" && !strings.ContainsAny(header, "\r\n\x00") {
				r.Header.Set("Authorization", header)
			}
		}
		rec := httptest.NewRecorder()
		fed.Handler().ServeHTTP(rec, r)
		var answer map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &answer) != nil {
			t.Fatalf("%d, not a JSON object: %q", rec.Code, rec.Body)
		}
		switch rec.Code {
		case 200, 400, 401, 413:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Code != 200 {
			if answer["errcode"] == nil || answer["error"] == nil {
				t.Fatalf("%d without errcode and error: %s", rec.Code, rec.Body)
			}
		}
		if !sign && rec.Code == 200 {
			t.Fatalf("a fuzzed header %q was let in", header)
		}
		applied := home.appliedCopy()[before:]
		if rec.Code != 200 && len(applied) > 0 {
			t.Fatalf("refused with %d, yet applied %+v", rec.Code, applied)
		}
		for _, a := range applied {
			_, server, err := id.UserID(a.UserID).Parse()
			if err != nil || server != p.Name {
				t.Fatalf("applied an item about %q, not of the origin %s", a.UserID, p.Name)
			}
			if a.Presence != "online" && a.Presence != "unavailable" && a.Presence != "offline" || a.LastActiveAgo < 0 {
				t.Fatalf("applied %+v", a)
			}
		}
	})
}
