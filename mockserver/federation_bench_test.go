package mockserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// okTransport answers every outbound federation request 200 at once, in
// memory, so that a benchmark measures the mock and not a peer.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"pdus":{}}`)), Request: r}, nil
}

// BenchmarkPutStatusFederation is PUT status with federation off (the hook
// is a nil check: the allocations must equal BenchmarkPutStatus's) and on,
// with a remote member in the user's room, so that every change is queued
// for a peer.
func BenchmarkPutStatusFederation(b *testing.B) {
	for _, c := range []struct {
		name string
		fed  *FederationOptions
	}{
		{"federation=off", nil},
		{"federation=on", &FederationOptions{Transport: okTransport{}, BatchDelay: 5 * time.Millisecond}},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := benchServer(b, Options{NoRateLimit: true, Federation: c.fed})
			a := mustRegister(b, srv, "alice")
			if c.fed != nil {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, httptest.NewRequest("POST", v3Prefix+"/createRoom?access_token="+a.AccessToken, strings.NewReader(`{"preset":"public_chat"}`)))
				roomID := strings.Split(rec.Body.String(), `"`)[3]
				if err := (fedHome{srv}).Join(roomID, "@bob:127.0.0.1:9"); err != nil {
					b.Fatal(err)
				}
			}
			req := httptest.NewRequest("PUT", statusPath(a.UserID)+"?access_token="+a.AccessToken, nil)
			benchServe(b, srv, req, []byte(`{"presence":"online","status_msg":"I am here."}`))
		})
	}
}
