package federation

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/util/exhttp"
	mfed "maunium.net/go/mautrix/federation"
)

// Home is what the federation needs from the homeserver it speaks for. All
// user IDs are full Matrix IDs; the federation has checked their form.
type Home interface {
	// Room describes a local room; ok is false if there is none.
	Room(roomID string) (info RoomInfo, ok bool)
	// Join makes a remote user a joined member of a local room; Leave
	// takes them out again. Both fail if the room is not there.
	Join(roomID, userID string) error
	Leave(roomID, userID string) error
	// LocalPresence is a local user's presence as an EDU reports it.
	LocalPresence(userID string) (Presence, bool)
	// Destinations are the remote servers that have a joined member in a
	// room the local user has joined.
	Destinations(userID string) []string
	// ApplyPresence stores the presence of a remote user, as a remote
	// server reported it.
	ApplyPresence(p Presence)
}

// RoomInfo is what a join needs to know of a local room.
type RoomInfo struct {
	Creator string   // the local user who made it
	Public  bool     // anyone may join
	Members []string // joined members, local and remote
}

// Presence is one user's presence, as an m.presence push item carries it.
type Presence struct {
	UserID          string
	Presence        string // online, unavailable or offline
	StatusMsg       *string
	LastActiveAgo   int64 // milliseconds
	CurrentlyActive *bool
}

// RoomVersion is the one room version the mock's rooms have over
// federation.
const RoomVersion = "10"

// Config configures a Federation.
type Config struct {
	// ServerName is the homeserver's name: the server part of its users'
	// IDs, the origin of what it sends, the destination of what it gets.
	ServerName string
	// KeySeed is the ed25519 seed of the signing key (32 bytes); empty
	// makes a fresh key.
	KeySeed []byte
	// Transport carries outbound requests (transactions and key fetches)
	// once the server name is resolved to an https URL; nil is a
	// transport that does not verify TLS certificates (test setups use
	// self-signed ones).
	Transport http.RoundTripper
	// BatchDelay is how long the sender waits after a change for more
	// before it sends; zero is DefaultBatchDelay.
	BatchDelay time.Duration
	// Logger receives a record per outbound transaction and per refused
	// inbound request; nil logs nothing.
	Logger *slog.Logger
	// Tweaks switch on deviations (faults and variations); the zero
	// value is the reference behaviour.
	Tweaks Tweaks
}

// DefaultBatchDelay gathers the changes of a burst into one transaction
// while keeping delivery well inside any settle window.
const DefaultBatchDelay = 20 * time.Millisecond

// Federation serves one homeserver's federation API and sends its
// presence. It is safe for concurrent use.
type Federation struct {
	name    string
	home    Home
	key     *mfed.SigningKey
	client  *mfed.Client // signs outbound requests and fetches keys
	auth    *mfed.ServerAuth
	keyBody []byte // the signed answer of GET /_matrix/key/v2/server
	logger  *slog.Logger
	tw      Tweaks
	delay   time.Duration
	handler http.Handler
	rooms   roomEvents // the rooms' event graphs, for joins and leaves

	mu       sync.Mutex           // a leaf: nothing else is locked while it is held
	changed  map[string]bool      // users marked since the last flush; true: a real change
	storming map[string]time.Time // users a storm repeats, until when
	armed    bool
	dests    map[string]*destQueue
	txns     map[string]bool // origin + " " + txnId of applied transactions
	txnSeq   uint64
	started  time.Time
	stats    Stats
}

// Stats counts what the sender did; for tests and logs.
type Stats struct {
	Transactions int // sent and answered 200
	EDUs         int
	Failures     int // transactions that could not be delivered
}

// New returns the federation of the home server named in cfg.
func New(home Home, cfg Config) (*Federation, error) {
	if cfg.ServerName == "" {
		return nil, errors.New("federation: no server name")
	}
	key := mfed.GenerateSigningKey()
	if len(cfg.KeySeed) > 0 {
		if len(cfg.KeySeed) != ed25519.SeedSize {
			return nil, fmt.Errorf("federation: the key seed is %d bytes, not %d", len(cfg.KeySeed), ed25519.SeedSize)
		}
		key = keyFromSeed(cfg.KeySeed)
	}
	f := &Federation{
		name:     cfg.ServerName,
		home:     home,
		key:      key,
		logger:   cfg.Logger,
		tw:       cfg.Tweaks,
		delay:    cfg.BatchDelay,
		changed:  map[string]bool{},
		storming: map[string]time.Time{},
		dests:    map[string]*destQueue{},
		txns:     map[string]bool{},
		started:  time.Now(),
	}
	if f.tw.BatchDelay > 0 {
		f.delay = f.tw.BatchDelay
	}
	if f.delay <= 0 {
		f.delay = DefaultBatchDelay
	}
	transport := cfg.Transport
	if transport == nil {
		transport = insecureTransport()
	}
	// The library's client signs requests (X-Matrix) and fetches keys; its
	// own transport resolves names with .well-known and SRV and refuses
	// private addresses, so it gets the mock's simpler one instead.
	f.client = mfed.NewClient(f.name, key, nil, exhttp.ClientSettings{})
	f.client.HTTP = &http.Client{
		Transport:     resolvingTransport{next: transport},
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	signWith := key
	if f.tw.SignWithOtherKey {
		other := mfed.GenerateSigningKey()
		other.ID = key.ID // the published key's ID, so only the signature is wrong
		signWith = other
	}
	f.client.Key = signWith
	f.auth = mfed.NewServerAuth(f.client, mfed.NewInMemoryCache(), func(mfed.XMatrixAuth) string { return f.name })
	f.auth.MaxBodySize = maxBody
	body, err := keyResponse(f.name, key)
	if err != nil {
		return nil, err
	}
	f.keyBody = body
	f.handler = f.routes()
	return f, nil
}

// ServerName is the name the federation speaks as.
func (f *Federation) ServerName() string { return f.name }

// KeyID is the ID of the signing key.
func (f *Federation) KeyID() string { return string(f.key.ID) }

// Stats reports what the sender has done so far.
func (f *Federation) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Handler serves the federation API.
func (f *Federation) Handler() http.Handler { return f.handler }

// maxBody bounds an inbound request body: a full transaction (50 PDUs of
// at most 64 KiB, 100 EDUs) fits.
const maxBody = 8 << 20

func (f *Federation) logf(msg string, args ...any) {
	if f.logger != nil {
		f.logger.Info(msg, args...)
	}
}
