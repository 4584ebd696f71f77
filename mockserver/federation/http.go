package federation

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"maunium.net/go/mautrix"
	mfed "maunium.net/go/mautrix/federation"
)

// routes is the federation API. Every route but the key server and the
// version needs a valid X-Matrix header (the spec has those two open).
func (f *Federation) routes() http.Handler {
	mux := http.NewServeMux()
	open := func(method string, h http.HandlerFunc) http.Handler { return only(method, h) }
	signed := func(method string, h http.HandlerFunc) http.Handler { return only(method, f.authenticated(h)) }
	mux.Handle("/_matrix/key/v2/server", open(http.MethodGet, f.getServerKey))
	mux.Handle("/_matrix/key/v2/server/{keyId}", open(http.MethodGet, f.getServerKey))
	mux.Handle("/_matrix/federation/v1/version", open(http.MethodGet, f.getVersion))
	mux.Handle("/_matrix/federation/v1/send/{txnId}", signed(http.MethodPut, f.putSend))
	mux.Handle("/_matrix/federation/v1/make_join/{roomId}/{userId}", signed(http.MethodGet, f.makeJoin))
	mux.Handle("/_matrix/federation/v2/send_join/{roomId}/{eventId}", signed(http.MethodPut, f.sendJoin))
	mux.Handle("/_matrix/federation/v1/make_leave/{roomId}/{userId}", signed(http.MethodGet, f.makeLeave))
	mux.Handle("/_matrix/federation/v2/send_leave/{roomId}/{eventId}", signed(http.MethodPut, f.sendLeave))
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "M_UNRECOGNIZED", "this server has no federation endpoint "+r.Method+" "+r.URL.Path)
	}))
	if f.tw.Inbound != nil {
		return f.tw.Inbound(f, mux)
	}
	return mux
}

// only answers other methods with 405 M_UNRECOGNIZED, as the spec has an
// unknown method on a known path answered.
func only(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "use "+method+" on this path")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// authenticated checks the X-Matrix header with the library: the header's
// form, the destination (this server, when given), the origin's keys
// (fetched from the origin over federation and cached), and the signature
// over method, URI, origin, destination and body. Any failure is 401
// M_UNAUTHORIZED (400 for a body that is not JSON, 413 for one too large)
// before the handler runs, so nothing changes.
func (f *Federation) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f.tw.SkipAuth != nil && f.tw.SkipAuth(r) {
			h(w, r)
			return
		}
		signed, rerr := f.auth.Authenticate(r)
		if rerr != nil {
			f.logf("federation: refused a request", "method", r.Method, "path", r.URL.Path, "errcode", rerr.ErrCode, "error", rerr.Err)
			writeRespError(w, rerr)
			return
		}
		h(w, signed)
	}
}

// Origin is the server that signed an authenticated request; empty on the
// open routes.
func Origin(r *http.Request) string { return mfed.OriginServerNameFromRequest(r) }

func writeRespError(w http.ResponseWriter, e *mautrix.RespError) {
	status := e.StatusCode
	if status == 0 {
		status = http.StatusUnauthorized
	}
	writeError(w, status, e.ErrCode, e.Err)
}

func writeError(w http.ResponseWriter, status int, errcode, message string) {
	body, _ := json.Marshal(map[string]string{"errcode": errcode, "error": message})
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// resolvingTransport turns the library's matrix-federation:// URLs into
// https ones without .well-known or SRV: a name with a port is contacted
// at that host and port, one without at port 8448, the Host header being
// the server name either way. Enough for test setups, where servers are
// IP literals with ports.
type resolvingTransport struct{ next http.RoundTripper }

func (t resolvingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "matrix-federation" {
		return nil, errors.New("federation: only matrix-federation:// URLs are sent, not " + r.URL.Scheme)
	}
	name := r.URL.Host
	r = r.Clone(r.Context())
	r.URL.Scheme = "https"
	r.URL.Host = hostPort(name)
	r.Host = name
	return t.next.RoundTrip(r)
}

// hostPort is where a server name is contacted.
func hostPort(name string) string {
	if _, _, err := net.SplitHostPort(name); err == nil {
		return name
	}
	if strings.HasPrefix(name, "[") || strings.Count(name, ":") == 0 {
		return name + ":8448"
	}
	return "[" + name + "]:8448"
}

// insecureTransport does not verify TLS certificates: test homeservers
// serve federation with self-signed ones, as the mock's peers here do.
func insecureTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // documented: test federation
	t.Proxy = nil
	return t
}
