package federation

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

// fakeHome is a homeserver of rooms and presence in memory, recording
// what the federation asks of it.
type fakeHome struct {
	name string

	mu       sync.Mutex
	rooms    map[string]*fakeRoom
	presence map[string]Presence // local users' presence
	applied  []Presence          // what ApplyPresence was given, in order
}

type fakeRoom struct {
	creator string
	public  bool
	members []string
}

func newFakeHome(name string) *fakeHome {
	return &fakeHome{name: name, rooms: map[string]*fakeRoom{}, presence: map[string]Presence{}}
}

func (h *fakeHome) addRoom(id, creator string, public bool, members ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rooms[id] = &fakeRoom{creator: creator, public: public, members: append([]string{creator}, members...)}
}

func (h *fakeHome) setPresence(p Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presence[p.UserID] = p
}

func (h *fakeHome) Room(roomID string) (RoomInfo, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return RoomInfo{}, false
	}
	return RoomInfo{Creator: rm.creator, Public: rm.public, Members: slices.Clone(rm.members)}, true
}

func (h *fakeHome) Join(roomID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return errNoRoomForTest
	}
	if !slices.Contains(rm.members, userID) {
		rm.members = append(rm.members, userID)
	}
	return nil
}

func (h *fakeHome) Leave(roomID, userID string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	rm := h.rooms[roomID]
	if rm == nil {
		return errNoRoomForTest
	}
	rm.members = slices.DeleteFunc(rm.members, func(m string) bool { return m == userID })
	return nil
}

func (h *fakeHome) members(roomID string) []string {
	info, _ := h.Room(roomID)
	return info.Members
}

func (h *fakeHome) LocalPresence(userID string) (Presence, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.presence[userID]
	return p, ok
}

func (h *fakeHome) Destinations(userID string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, rm := range h.rooms {
		if !slices.Contains(rm.members, userID) {
			continue
		}
		for _, m := range rm.members {
			_, server, _ := strings.Cut(m, ":")
			if server != h.name && !slices.Contains(out, server) {
				out = append(out, server)
			}
		}
	}
	return out
}

func (h *fakeHome) ApplyPresence(p Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.applied = append(h.applied, p)
}

func (h *fakeHome) appliedCopy() []Presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.applied)
}

var errNoRoomForTest = io.ErrUnexpectedEOF

// A peer is a remote homeserver on an httptest TLS server: its name is
// 127.0.0.1:PORT, it serves its key, signs its requests with the library,
// and records the transactions it receives, with their X-Matrix headers
// checked by the library against the mock's published key.
type peer struct {
	t      *testing.T
	srv    *httptest.Server
	name   string
	key    *mfed.SigningKey
	client *mfed.Client // signs; its transport only captures
	verify *mfed.ServerAuth

	mu   sync.Mutex
	txns []receivedTxn
	got  chan struct{}
}

type receivedTxn struct {
	Origin      string
	Destination string
	AuthErr     string // the library's verdict on the X-Matrix header
	Body        struct {
		Origin string            `json:"origin"`
		EDUs   []json.RawMessage `json:"edus"`
		PDUs   []json.RawMessage `json:"pdus"`
	}
}

// newPeer starts a remote server; mock is the federation under test,
// reached in-process for key fetches.
func newPeer(t *testing.T, mockName string, mock http.Handler) *peer {
	t.Helper()
	p := &peer{t: t, key: mfed.GenerateSigningKey(), got: make(chan struct{}, 1000)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/key/v2/server", func(w http.ResponseWriter, _ *http.Request) {
		body, _ := json.Marshal(p.key.GenerateKeyResponse(p.name, nil))
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnId}", func(w http.ResponseWriter, r *http.Request) {
		var rt receivedTxn
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
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	p.name = strings.TrimPrefix(p.srv.URL, "https://")
	p.client = mfed.NewClient(p.name, p.key, nil, exhttp.ClientSettings{})
	p.client.HTTP = &http.Client{Transport: captureTransport{}}
	// The peer checks the mock's headers with the library, fetching the
	// mock's key from its handler in-process.
	keyClient := mfed.NewClient(p.name, p.key, nil, exhttp.ClientSettings{})
	keyClient.HTTP = &http.Client{Transport: handlerTransport{mock}}
	p.verify = mfed.NewServerAuth(keyClient, mfed.NewInMemoryCache(), func(mfed.XMatrixAuth) string { return p.name })
	_ = mockName
	return p
}

// received returns the transactions received so far.
func (p *peer) received() []receivedTxn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.txns)
}

// waitFor waits until n transactions have come, or the deadline.
func (p *peer) waitFor(n int, within time.Duration) []receivedTxn {
	deadline := time.After(within)
	for {
		if got := p.received(); len(got) >= n {
			return got
		}
		select {
		case <-p.got:
		case <-deadline:
			return p.received()
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

// signed builds a request signed by the peer for the mock named dest:
// method, path (under /_matrix/federation) and JSON body.
func (p *peer) signed(dest, method string, path mautrix.PrefixableURLPath, query map[string][]string, body any) *http.Request {
	p.t.Helper()
	_, _, err := p.client.MakeFullRequest(context.Background(), mfed.RequestParams{
		ServerName: dest, Method: method, Path: path, Query: query, Authenticate: true, RequestJSON: body,
	})
	var ce capturedError
	if !asCaptured(err, &ce) {
		p.t.Fatalf("signing a request: %v", err)
	}
	var raw []byte
	if ce.req.Body != nil {
		raw, _ = io.ReadAll(ce.req.Body)
	}
	r := httptest.NewRequest(method, ce.req.URL.RequestURI(), bytes.NewReader(raw))
	r.Header.Set("Authorization", ce.req.Header.Get("Authorization"))
	r.Header.Set("Content-Type", "application/json")
	return r
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

// serve runs one request through the handler.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// wantError checks a Matrix error answer.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, errcode string) {
	t.Helper()
	var body struct {
		Errcode string `json:"errcode"`
		Error   string `json:"error"`
	}
	if rec.Code != status || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Errcode != errcode || body.Error == "" {
		t.Fatalf("got %d %s, want %d %s with a message", rec.Code, rec.Body.String(), status, errcode)
	}
}

// newMock is a federation named localhost over home, with a short batch
// delay.
func newMock(t *testing.T, home Home, tw Tweaks) *Federation {
	t.Helper()
	f, err := New(home, Config{ServerName: "localhost", BatchDelay: 5 * time.Millisecond, Tweaks: tw})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// presenceEDU is a transaction body with one m.presence EDU of items.
func presenceTxn(origin string, items ...any) map[string]any {
	return map[string]any{
		"origin": origin, "origin_server_ts": 1, "pdus": []any{},
		"edus": []any{map[string]any{"edu_type": "m.presence", "content": map[string]any{"push": items}}},
	}
}
