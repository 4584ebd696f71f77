// Package fedtest is a remote homeserver for tests of the mock's
// federation: an httptest TLS server named 127.0.0.1:PORT with a fresh
// ed25519 key, which signs requests with mautrix and records the
// transactions it receives, their X-Matrix headers checked by mautrix
// against the mock's published key.
package fedtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/util/exhttp"
	"maunium.net/go/mautrix"
	mfed "maunium.net/go/mautrix/federation"
)

// A peer is a remote homeserver on an httptest TLS server: its name is
// 127.0.0.1:PORT, it serves its key, signs its requests with the library,
// and records the transactions it receives, with their X-Matrix headers
// checked by the library against the mock's published key.
type Peer struct {
	t      testing.TB
	Srv    *httptest.Server
	Name   string
	Key    *mfed.SigningKey
	client *mfed.Client // signs; its transport only captures
	verify *mfed.ServerAuth

	mu   sync.Mutex
	txns []Txn
	got  chan struct{}
}

type Txn struct {
	Origin      string
	Destination string
	AuthErr     string // the library's verdict on the X-Matrix header
	Body        struct {
		Origin string            `json:"origin"`
		EDUs   []json.RawMessage `json:"edus"`
		PDUs   []json.RawMessage `json:"pdus"`
	}
}

// NewPeer starts a remote server; mock is the federation under test,
// reached in-process for key fetches.
func NewPeer(t testing.TB, mock http.Handler) *Peer {
	t.Helper()
	p := &Peer{t: t, Key: mfed.GenerateSigningKey(), got: make(chan struct{}, 1000)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/key/v2/server", func(w http.ResponseWriter, _ *http.Request) {
		body, _ := json.Marshal(p.Key.GenerateKeyResponse(p.Name, nil))
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnId}", func(w http.ResponseWriter, r *http.Request) {
		var rt Txn
		signed, rerr := p.verify.Authenticate(r)
		if rerr != nil {
			rt.AuthErr = rerr.Err
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &rt.Body)
		} else {
			rt.Origin = mfed.OriginServerNameFromRequest(signed)
			rt.Destination = mfed.DestinationServerNameFromRequest(signed)
			body, _ := io.ReadAll(signed.Body)
			json.Unmarshal(body, &rt.Body)
		}
		p.mu.Lock()
		p.txns = append(p.txns, rt)
		p.mu.Unlock()
		p.got <- struct{}{}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"pdus":{}}`))
	})
	p.Srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.Srv.Close)
	p.Name = strings.TrimPrefix(p.Srv.URL, "https://")
	p.client = mfed.NewClient(p.Name, p.Key, nil, exhttp.ClientSettings{})
	p.client.HTTP = &http.Client{Transport: captureTransport{}}
	// The peer checks the mock's headers with the library, fetching the
	// mock's key from its handler in-process.
	keyClient := mfed.NewClient(p.Name, p.Key, nil, exhttp.ClientSettings{})
	keyClient.HTTP = &http.Client{Transport: handlerTransport{mock}}
	p.verify = mfed.NewServerAuth(keyClient, mfed.NewInMemoryCache(), func(mfed.XMatrixAuth) string { return p.Name })
	return p
}

// Received returns the transactions received so far.
func (p *Peer) Received() []Txn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.txns)
}

// WaitFor waits until n transactions have come, or the deadline.
func (p *Peer) WaitFor(n int, within time.Duration) []Txn {
	deadline := time.After(within)
	for {
		if got := p.Received(); len(got) >= n {
			return got
		}
		select {
		case <-p.got:
		case <-deadline:
			return p.Received()
		}
	}
}

// captureTransport answers nothing: it hands the signed request back
// through errCaptured, for the test to send where it likes.
type captureTransport struct{}

type capturedError struct{ req *http.Request }

func (capturedError) Error() string { return "captured" }

func (captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, capturedError{r}
}

// Signed builds a request signed by the peer for the server named dest:
// method, path (under /_matrix/federation), query and JSON body. It fails
// the test if the library cannot sign it.
func (p *Peer) Signed(dest, method string, path mautrix.PrefixableURLPath, query map[string][]string, body any) *http.Request {
	p.t.Helper()
	r, err := p.Sign(dest, method, path, query, body)
	if err != nil {
		p.t.Fatalf("signing a request: %v", err)
	}
	return r
}

// Sign is Signed, returning the library's error (a body it cannot put in
// canonical JSON, say) instead of failing the test.
func (p *Peer) Sign(dest, method string, path mautrix.PrefixableURLPath, query map[string][]string, body any) (*http.Request, error) {
	_, _, err := p.client.MakeFullRequest(context.Background(), mfed.RequestParams{
		ServerName: dest, Method: method, Path: path, Query: query, Authenticate: true, RequestJSON: body,
	})
	var ce capturedError
	if !asCaptured(err, &ce) {
		return nil, err
	}
	var raw []byte
	if ce.req.Body != nil {
		raw, _ = io.ReadAll(ce.req.Body)
	}
	r := httptest.NewRequest(method, ce.req.URL.RequestURI(), bytes.NewReader(raw))
	r.Header.Set("Authorization", ce.req.Header.Get("Authorization"))
	r.Header.Set("Content-Type", "application/json")
	return r, nil
}

func asCaptured(err error, ce *capturedError) bool {
	for err != nil {
		if c, ok := err.(capturedError); ok {
			*ce = c
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// handlerTransport serves matrix-federation:// requests with a handler,
// in-process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	r = r.Clone(r.Context())
	r.URL.Scheme = "http"
	r.RequestURI = r.URL.RequestURI()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// PushItem is an m.presence push item as received.
type PushItem struct {
	UserID          string  `json:"user_id"`
	Presence        string  `json:"presence"`
	StatusMsg       *string `json:"status_msg"`
	LastActiveAgo   *int64  `json:"last_active_ago"`
	CurrentlyActive *bool   `json:"currently_active"`
}

// Items decodes every m.presence push item of the transactions; bad lists
// the EDUs that are not m.presence EDUs with a non-empty push.
func Items(txns []Txn) (items []PushItem, bad []string) {
	for _, txn := range txns {
		for _, raw := range txn.Body.EDUs {
			var edu struct {
				Type    string `json:"edu_type"`
				Content struct {
					Push []PushItem `json:"push"`
				} `json:"content"`
			}
			if err := json.Unmarshal(raw, &edu); err != nil || edu.Type != "m.presence" || len(edu.Content.Push) == 0 {
				bad = append(bad, string(raw))
				continue
			}
			items = append(items, edu.Content.Push...)
		}
	}
	return items, bad
}
