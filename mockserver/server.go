package mockserver

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxpresence/mxpresence/mockserver/federation"
)

// Options configure a Server. The zero value is a server named localhost,
// on the real clock, rate limited at DefaultRateLimit, logging nothing,
// with open registration and no shared-secret registration.
type Options struct {
	// ServerName is the server part of every user ID; default "localhost".
	ServerName string
	// Clock drives last_active_ago, currently_active, the rate limiter and
	// the expiry of registration sessions and nonces; default time.Now.
	Clock func() time.Time
	// RateLimit is the requests per second each user may make, with a
	// burst of as many (at least one). Zero or less means DefaultRateLimit.
	RateLimit float64
	// NoRateLimit turns rate limiting off.
	NoRateLimit bool
	// Logger receives one record per request: method, path (access token
	// redacted), status and duration. Nil logs nothing, at no cost.
	Logger *slog.Logger
	// Deviations switch on faults and variations (see Faults and
	// Variations); none gives the reference behaviour.
	Deviations []Deviation
	// ClosedRegistration refuses open registration (POST /register, in
	// every version) with 403 M_FORBIDDEN, as a homeserver with
	// registration disabled does. Register and shared-secret registration
	// still work: they are the operator's.
	ClosedRegistration bool
	// RegistrationSharedSecret switches on shared-secret registration at
	// /_synapse/admin/v1/register, keyed with this secret. Empty turns it
	// off.
	RegistrationSharedSecret string
	// BodyReadTimeout bounds the time a client takes to send a request
	// body; zero or less means DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// Federation switches the Server-Server API on (FederationHandler) and
	// the sending of presence to other servers; nil leaves it off.
	Federation *FederationOptions
	// IdleAfter is how long an online user may go without activity before
	// they are shown unavailable; zero or less means DefaultIdleAfter.
	IdleAfter time.Duration
	// OfflineAfter is how long after a device's last sync it stops counting
	// as connected; a user whose devices all stopped is offline. Zero or
	// less means DefaultOfflineAfter.
	OfflineAfter time.Duration
}

// Validate reports options New would accept but that make a broken server:
// a server name that is not one yields user IDs no client accepts.
func (o Options) Validate() error {
	name := o.serverName()
	if !validServerName(name) {
		return fmt.Errorf("server name %q is not a Matrix server name (a DNS name, IPv4 address or [IPv6] literal, with an optional :port)", name)
	}
	if len("@x:")+len(name) > maxUserIDLength {
		return fmt.Errorf("server name %q is too long: user IDs on it would exceed %d bytes", name, maxUserIDLength)
	}
	if math.IsNaN(o.RateLimit) {
		return errors.New("rate limit is NaN")
	}
	return nil
}

func (o Options) serverName() string {
	if o.ServerName == "" {
		return "localhost"
	}
	return o.ServerName
}

// Server is the mock homeserver. It is an http.Handler, safe for
// concurrent use; all its state is in memory and lives as long as it does.
type Server struct {
	serverName   string
	clock        func() time.Time
	rate, burst  float64 // rate 0: not limited
	logger       *slog.Logger
	mounts       []mount
	versionsBody []byte       // the answer to GET /versions
	deviated     http.Handler // the reference wrapped in Options.Deviations; nil without

	closedRegistration bool
	sharedSecret       []byte // nil: shared-secret registration is off

	users      sync.Map      // user ID -> *user
	tokens     sync.Map      // SHA-256 of the token -> *session
	rooms      sync.Map      // room ID -> *room
	uiaAuth    oneTimeCodes  // user-interactive auth sessions of /register
	nonces     oneTimeCodes  // shared-secret registration nonces
	lastPicked atomic.Uint64 // the last number a server-picked localpart took
	buffers    sync.Pool     // *[]byte for bodies and responses
	invalid    error         // from Options.Validate; refuses registration

	stream       *presenceStream // positions of presence changes and joins; wakes long-polls
	seams        deliverySeams   // zero in the reference; deviations reach in here
	filters      sync.Map        // filterKey -> *storedFilter
	lastFilterID atomic.Uint64
	lot          parkingLot // long-polls waiting on hijacked connections
	bodyTimeout  time.Duration

	fed         *federation.Federation // nil: federation off
	remotes     sync.Map               // user ID -> *user, the remote users federation brought
	remoteCount atomic.Int64           // how many
	timers      presenceTimers         // idle and offline, per user (presence_devices.go)
	timerSeams  timerSeams             // zero in the reference
}

// New returns a server with no accounts. It does not fail: options that
// Validate rejects leave a server that answers every registration with a
// 500 naming the fault.
func New(opts Options) *Server {
	versions, err := apiVersions()
	if err != nil {
		panic("mockserver: an embedded spec document cannot be read, so this build is broken: " + err.Error())
	}
	s := &Server{
		serverName:         opts.serverName(),
		clock:              opts.Clock,
		logger:             opts.Logger,
		closedRegistration: opts.ClosedRegistration,
		uiaAuth:            oneTimeCodes{ttl: uiaSessionLifetime},
		nonces:             oneTimeCodes{ttl: nonceLifetime},
		invalid:            opts.Validate(),
		stream:             newPresenceStream(),
		bodyTimeout:        opts.bodyReadTimeout(),
	}
	if opts.RegistrationSharedSecret != "" {
		s.sharedSecret = []byte(opts.RegistrationSharedSecret)
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if !opts.NoRateLimit {
		s.rate = opts.RateLimit
		if !(s.rate > 0) {
			s.rate = DefaultRateLimit
		}
		s.burst = max(1, s.rate)
	}
	s.lot.init()
	s.initTimers(opts)
	s.mounts = s.mountAll(versions)
	s.versionsBody = versionsBody(versions)
	s.deviated = s.deviate(opts.Deviations)
	s.fed = s.newFederation(opts)
	return s
}

// A call is what routing and authentication learned about a request, handed
// to the handler that serves it.
type call struct {
	api    *apiVersion // nil on the routes of no version
	viewer *user       // the authenticated user; nil on open routes
	sess   *session    // the viewer's access token; nil on open routes
	userID string      // the {userId} path parameter, decoded and well formed
	roomID string      // the room path parameter, decoded and well formed
}

// handlerFunc is the shape of the reference handlers. Each may assume the
// checks before it in ServeHTTP passed.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c call)

// ServeHTTP checks a request in a fixed order, each failure answering at
// once: route and method (404, 405), access token (401), rate limit (429),
// path user ID or room ID (400); the handler then checks permission, body
// size and body, in that order, before it changes anything.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.limitBodyTime(w, r)
	if s.logger != nil {
		s.serveLogged(w, r)
		return
	}
	s.dispatch(w, r)
}

// dispatch serves a request as the reference does, or through the
// deviations switched on.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if s.deviated != nil {
		s.deviated.ServeHTTP(w, r)
		return
	}
	s.serve(w, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Access-Control-Allow-Origin"] = allowAnyOrigin
	m, found := s.match(r.URL.EscapedPath())
	if r.Method == http.MethodOptions {
		// Before the 404: a browser preflights a path it then gets the
		// 404 for, and a failed preflight would hide that 404 from it.
		writePreflight(w, m.route)
		return
	}
	if !found {
		writeError(w, errUnrecognized)
		return
	}
	op := m.route.operation(r.Method)
	if op == nil {
		h["Allow"] = m.route.allow
		writeError(w, errMethodNotAllowed)
		return
	}
	c := call{api: m.api}
	if op.authenticated {
		sess, err := s.authenticateSession(r)
		if err != nil {
			writeError(w, err)
			return
		}
		if wait, ok := s.rateLimit(sess.user); !ok {
			writeRateLimited(w, wait)
			return
		}
		c.viewer, c.sess = sess.user, sess
	}
	if m.route.hasUserID {
		if !m.userIDDecoded || !validUserID(m.userID) {
			writeError(w, errorf(http.StatusBadRequest, "M_INVALID_PARAM",
				"userId: "+quoteForMessage(m.userID)+" is not a Matrix user ID (@localpart:server.name)"))
			return
		}
		c.userID = m.userID
	}
	if m.route.room != noRoom {
		if !m.roomIDDecoded || !validRoomPathParam(m.route.room, m.roomID) {
			writeError(w, badRoomParam(m.route.room, m.roomID))
			return
		}
		c.roomID = m.roomID
	}
	op.handle(w, r, c)
}
