// Package remote is the remote homeserver the suite plays to test presence
// over federation: a server named 127.0.0.1:PORT on loopback, serving HTTPS
// with a certificate made for the run and a fresh ed25519 key at
// /_matrix/key/v2/server. It verifies the X-Matrix signature of every
// request the target makes against the keys the target publishes, records
// every transaction it receives with its arrival time, and signs its own
// requests to the target: joins and leaves (make_join/send_join,
// make_leave/send_leave) and transactions of its own.
//
// The protocol's cryptography (canonical JSON, ed25519, X-Matrix, event
// hashes and IDs) is maunium.net/go/mautrix's; nothing here signs or hashes
// by hand.
package remote

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix/federation"
)

// ErrNoJoin says why a build without CanJoin cannot join rooms over
// federation.
var ErrNoJoin = errors.New("this mxpresence was built without GOEXPERIMENT=jsonv2, which mautrix's federation/pdu package (event signing and IDs) needs on Go 1.26; build or run it with GOEXPERIMENT=jsonv2 to check presence over federation")

// Options configure a remote server.
type Options struct {
	// Target is the base URL of the target's federation API, e.g.
	// http://127.0.0.1:8008; the target's keys are fetched from
	// Target/_matrix/key/v2/server. The suite never resolves the target's
	// server name: every request to it goes to this URL.
	Target string
	// Timeout bounds each request to the target.
	Timeout time.Duration
}

// Server is the suite's remote homeserver.
type Server struct {
	name       string // 127.0.0.1:PORT
	targetName string // the target's server name, from its key response
	key        *federation.SigningKey
	out        *federation.Client // signs requests to the target
	auth       *federation.ServerAuth
	srv        *http.Server
	started    time.Time

	mu     sync.Mutex
	txns   []*Transaction
	others []Request // every other request the target made
	notify chan struct{}
}

// Request is a request the target made to the remote server, other than a
// transaction.
type Request struct {
	Arrived time.Time
	Method  string
	Path    string
	Status  int // what the remote server answered
}

// Start serves a remote server on a free loopback port until Close, and
// learns the target's server name from its key server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("remote server: listen: %w", err)
	}
	cert, err := selfSigned()
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{name: ln.Addr().String(), key: federation.GenerateSigningKey(), started: time.Now(), notify: make(chan struct{})}
	s.out = newClient(s.name, s.key, opts)
	s.auth = federation.NewServerAuth(s.out, federation.NewInMemoryCache(), func(federation.XMatrixAuth) string { return s.name })
	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		// TLS handshake noise (a client that gives up, a probe) stays out
		// of the suite's output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go s.srv.ServeTLS(ln, "", "")

	if s.targetName, err = s.learnTargetName(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("remote server: the target's keys at %s/_matrix/key/v2/server: %w", opts.Target, err)
	}
	return s, nil
}

// learnTargetName reads the target's server name from its key response,
// once its self-signature verifies; the same keys verify the target's
// requests later (fetched again by mautrix's ServerAuth, by that name).
func (s *Server) learnTargetName(ctx context.Context) (string, error) {
	var keys federation.ServerKeyResponse
	// The transport sends any server name to the target's URL; the name
	// is what the response tells.
	if err := s.out.MakeRequest(ctx, "target.invalid", false, http.MethodGet, federation.KeyURLPath{"v2", "server"}, nil, &keys); err != nil {
		return "", err
	}
	if keys.ServerName == "" {
		return "", errors.New("the key response names no server_name")
	}
	if err := keys.VerifySelfSignature(); err != nil {
		return "", fmt.Errorf("the key response of %s does not verify: %w", keys.ServerName, err)
	}
	return keys.ServerName, nil
}

// Name is the remote server's name, 127.0.0.1:PORT.
func (s *Server) Name() string { return s.name }

// TargetName is the target's server name, as its key server gives it.
func (s *Server) TargetName() string { return s.targetName }

// UserID makes a user ID of the remote server.
func (s *Server) UserID(localpart string) string { return "@" + localpart + ":" + s.name }

// Close stops serving at once: the run is over, and a target's sender
// holding a connection open must not keep it waiting.
func (s *Server) Close() error { return s.srv.Close() }

// selfSigned makes the certificate of this run: the target is told not to
// verify federation TLS, as test setups are, so no authority signs it.
func selfSigned() (tls.Certificate, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("remote server: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("remote server: certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("remote server: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv}, nil
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/key/v2/server", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.key.GenerateKeyResponse(s.name, nil))
	})
	mux.HandleFunc("GET /_matrix/key/v2/server/{keyId}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.key.GenerateKeyResponse(s.name, nil))
	})
	mux.HandleFunc("GET /_matrix/federation/v1/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"server": map[string]string{"name": "mxpresence", "version": "remote"}})
	})
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnId}", s.receiveTransaction)
	// What a target may ask of a server whose user joined one of its
	// rooms: answered as a server whose users have no profile and no
	// devices, after the same authentication as a transaction.
	mux.Handle("GET /_matrix/federation/v1/query/profile", s.authenticated(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{})
	}))
	mux.Handle("GET /_matrix/federation/v1/user/devices/{userId}", s.authenticated(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"user_id": r.PathValue("userId"), "stream_id": 0, "devices": []any{}})
	}))
	mux.Handle("POST /_matrix/federation/v1/user/keys/query", s.authenticated(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"device_keys": map[string]any{}})
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "the suite's remote server does not serve this")
	})
	return s.recordOthers(mux)
}

// recordOthers keeps every request except transactions and key fetches,
// so a run can say what else the target asked.
func (s *Server) recordOthers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_matrix/federation/v1/send/") || strings.HasPrefix(r.URL.Path, "/_matrix/key/") {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.mu.Lock()
		s.others = append(s.others, Request{Arrived: time.Now(), Method: r.Method, Path: r.URL.Path, Status: sw.status})
		s.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (s *Server) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, rerr := s.auth.Authenticate(r)
		if rerr != nil {
			writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", rerr.Err)
			return
		}
		next(w, req)
	})
}

// Others lists the requests other than transactions that the target made.
func (s *Server) Others() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.others...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, errcode, msg string) {
	writeJSON(w, status, map[string]string{"errcode": errcode, "error": msg})
}
