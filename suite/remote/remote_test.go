package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/federation"
)

// stubTarget is a target homeserver as far as the remote server needs one:
// a key server, and a /send that verifies what the remote server sends.
type stubTarget struct {
	name string
	key  *federation.SigningKey
	srv  *httptest.Server
	auth *federation.ServerAuth

	mu       sync.Mutex
	received []stubReceived
}

type stubReceived struct {
	authErr string
	body    []byte
	header  string
}

// toServer sends matrix-federation://NAME/... to https://NAME/..., without
// verifying the certificate: what a test homeserver does for 127.0.0.1:PORT.
type toServer struct{ next http.RoundTripper }

func (t toServer) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.URL.Scheme = "https"
	return t.next.RoundTrip(out)
}

func newStubTarget(t *testing.T) *stubTarget {
	st := &stubTarget{name: "stub.example", key: federation.GenerateSigningKey()}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	c := &federation.Client{HTTP: &http.Client{Transport: toServer{tr}}, ServerName: st.name, Key: st.key, ResponseSizeLimit: mautrix.DefaultResponseSizeLimit}
	st.auth = federation.NewServerAuth(c, federation.NewInMemoryCache(), func(federation.XMatrixAuth) string { return st.name })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/key/v2/server", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, st.key.GenerateKeyResponse(st.name, nil))
	})
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnId}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := stubReceived{body: body, header: r.Header.Get("Authorization")}
		if _, rerr := st.auth.Authenticate(r); rerr != nil {
			rec.authErr = rerr.Err
		}
		st.mu.Lock()
		st.received = append(st.received, rec)
		st.mu.Unlock()
		if rec.authErr != "" {
			writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", rec.authErr)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"pdus": map[string]any{}})
	})
	st.srv = httptest.NewServer(mux)
	t.Cleanup(st.srv.Close)
	return st
}

func startRemote(t *testing.T, st *stubTarget) *Server {
	t.Helper()
	s, err := Start(context.Background(), Options{Target: st.srv.URL, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRemoteServerIsNamedByItsAddressAndServesItsKey(t *testing.T) {
	st := newStubTarget(t)
	s := startRemote(t, st)
	if !strings.HasPrefix(s.Name(), "127.0.0.1:") {
		t.Errorf("name %q, want 127.0.0.1:PORT", s.Name())
	}
	if s.TargetName() != st.name {
		t.Errorf("target name %q, want %q (from the target's keys)", s.TargetName(), st.name)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := hc.Get("https://" + s.Name() + "/_matrix/key/v2/server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || len(resp.TLS.PeerCertificates[0].IPAddresses) == 0 ||
		!resp.TLS.PeerCertificates[0].IPAddresses[0].Equal([]byte{127, 0, 0, 1}) {
		t.Errorf("the certificate does not name 127.0.0.1: %+v", resp.TLS)
	}
	var keys federation.ServerKeyResponse
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	if keys.ServerName != s.Name() {
		t.Errorf("key response names %q, want %q", keys.ServerName, s.Name())
	}
	if err := keys.VerifySelfSignature(); err != nil {
		t.Errorf("the key response does not verify: %v", err)
	}
}

func TestStartFailsWhenTheTargetServesNoKeys(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if s, err := Start(context.Background(), Options{Target: srv.URL, Timeout: 2 * time.Second}); err == nil {
		s.Close()
		t.Fatal("Start succeeded against a target with no key server")
	}
}

// sendTo sends a transaction to the remote server as the stub target,
// signed by key as origin (nil: unsigned), addressed to destination.
func sendTo(t *testing.T, s *Server, st *stubTarget, key *federation.SigningKey, destination string, body any) (int, string) {
	t.Helper()
	c := &federation.Client{
		HTTP:       &http.Client{Transport: toServer{&http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}},
		ServerName: st.name, Key: key, ResponseSizeLimit: mautrix.DefaultResponseSizeLimit,
	}
	if key == nil {
		c.Key = st.key
	}
	// The request goes to the remote server's address; the X-Matrix
	// destination is what the test names.
	c.HTTP.Transport = rewriteHost{to: s.Name(), next: c.HTTP.Transport}
	_, resp, err := c.MakeFullRequest(context.Background(), federation.RequestParams{
		ServerName: destination, Method: http.MethodPut, Path: federation.URLPath{"v1", "send", "t" + time.Now().Format("150405.000000000")},
		Authenticate: key != nil, RequestJSON: body,
	})
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	var herr mautrix.HTTPError
	errcode := ""
	if err != nil && errors.As(err, &herr) && herr.RespError != nil {
		errcode = herr.RespError.ErrCode
	}
	return resp.StatusCode, errcode
}

type rewriteHost struct {
	to   string
	next http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Host = r.to
	return r.next.RoundTrip(out)
}

func presenceTxn(origin string, items ...any) map[string]any {
	return map[string]any{"origin": origin, "origin_server_ts": 1, "pdus": []any{}, "edus": []any{PresenceEDU(items...)}}
}

func TestTransactionsAreVerifiedAndRecorded(t *testing.T) {
	st := newStubTarget(t)
	s := startRemote(t, st)
	item := map[string]any{"user_id": "@a:stub.example", "presence": "online", "status_msg": "hi", "last_active_ago": 5}

	status, _ := sendTo(t, s, st, st.key, s.Name(), presenceTxn(st.name, item))
	if status != http.StatusOK {
		t.Fatalf("a signed transaction: status %d, want 200", status)
	}
	other := federation.GenerateSigningKey()
	other.ID = st.key.ID
	for _, tc := range []struct {
		name        string
		key         *federation.SigningKey
		destination string
	}{
		{"unsigned", nil, s.Name()},
		{"signed with another key", other, s.Name()},
		{"for another destination", st.key, "elsewhere.example"},
	} {
		status, errcode := sendTo(t, s, st, tc.key, tc.destination, presenceTxn(st.name, item))
		if status != http.StatusUnauthorized || errcode != "M_UNAUTHORIZED" {
			t.Errorf("%s: %d %s, want 401 M_UNAUTHORIZED", tc.name, status, errcode)
		}
	}

	txns := s.Transactions()
	if len(txns) != 4 {
		t.Fatalf("%d transactions recorded, want all 4 (refused ones too)", len(txns))
	}
	if txns[0].AuthErr != "" || txns[0].XMatrix.Destination != s.Name() || txns[0].XMatrix.Origin != st.name {
		t.Errorf("the signed transaction: auth error %q, X-Matrix %+v", txns[0].AuthErr, txns[0].XMatrix)
	}
	for _, txn := range txns[1:] {
		if txn.AuthErr == "" {
			t.Errorf("a refused transaction recorded as verified: %s", txn.Auth)
		}
	}
	push := txns[0].PresenceEDUs()
	if len(push) != 1 || len(push[0]) != 1 || push[0][0].UserID != "@a:stub.example" || *push[0][0].StatusMsg != "hi" || *push[0][0].LastActiveAgo != 5 {
		t.Errorf("decoded push: %+v", push)
	}

	since := txns[0].Arrived.Add(-time.Second)
	got, txn, ok := s.Await(context.Background(), since, time.Now().Add(time.Second), func(p PushItem) bool { return p.UserID == "@a:stub.example" })
	if !ok || txn != txns[0] || got.Presence != "online" {
		t.Errorf("Await: %+v %v", got, ok)
	}
	if _, _, ok := s.Await(context.Background(), since, time.Now().Add(50*time.Millisecond), func(p PushItem) bool { return p.UserID == "@b:stub.example" }); ok {
		t.Error("Await found a user no transaction carried")
	}
	items, _ := s.Between(since, time.Now(), func(PushItem) bool { return true })
	if len(items) != 4 {
		t.Errorf("Between: %d items, want 4 (one per transaction)", len(items))
	}
}

func TestAwaitWakesOnArrival(t *testing.T) {
	st := newStubTarget(t)
	s := startRemote(t, st)
	since := time.Now()
	// Await returns once the transaction is recorded, which can be before
	// its response is written: the test waits for the sender, so that the
	// server is not closed under it.
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		time.Sleep(100 * time.Millisecond)
		sendTo(t, s, st, st.key, s.Name(), presenceTxn(st.name, map[string]any{"user_id": "@late:stub.example", "presence": "unavailable", "last_active_ago": 0}))
	}()
	_, _, ok := s.Await(context.Background(), since, time.Now().Add(5*time.Second), func(p PushItem) bool { return p.UserID == "@late:stub.example" })
	<-sent
	if !ok {
		t.Fatal("Await did not see a transaction that arrived while it waited")
	}
}

func TestSendTransactionSignsAsAsked(t *testing.T) {
	st := newStubTarget(t)
	s := startRemote(t, st)
	edu := PresenceEDU(map[string]any{"user_id": s.UserID("r"), "presence": "online", "last_active_ago": 0})
	for _, tc := range []struct {
		signing Signing
		status  int
	}{{Signed, http.StatusOK}, {Unsigned, http.StatusUnauthorized}, {WrongKey, http.StatusUnauthorized}} {
		resp, err := s.SendTransaction(context.Background(), "txn-"+tc.signing.String(), []any{edu}, tc.signing)
		if err != nil {
			t.Fatalf("%s: %v", tc.signing, err)
		}
		if resp.Status != tc.status {
			t.Errorf("%s: the stub answered %d, want %d (%s)", tc.signing, resp.Status, tc.status, resp.Body)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.received) != 3 {
		t.Fatalf("the stub received %d transactions, want 3", len(st.received))
	}
	signed := federation.ParseXMatrixAuth(st.received[0].header)
	if signed.Origin != s.Name() || signed.Destination != st.name {
		t.Errorf("X-Matrix %+v, want origin %s and destination %s", signed, s.Name(), st.name)
	}
	if st.received[1].header != "" {
		t.Errorf("an unsigned transaction carried %q", st.received[1].header)
	}
	var body map[string]any
	if err := json.Unmarshal(st.received[0].body, &body); err != nil || body["origin"] != s.Name() {
		t.Errorf("transaction body %s", st.received[0].body)
	}
}
