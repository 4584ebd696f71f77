package mockserver

import (
	"net/http"
	"net/url"
	"strings"
)

// Routing works on the escaped path, one segment at a time, so that an
// encoded "/" (%2F) stays inside the user ID it belongs to instead of
// splitting the path, and "%40alice%3Alocalhost" names @alice:localhost.

// userIDSegment marks the path parameter in a route's segments.
const userIDSegment = "{userId}"

type route struct {
	segments   []string // after the version prefix
	hasUserID  bool
	operations []operation
	allow      []string // the Allow header: every method served, OPTIONS too
}

type operation struct {
	method        string
	authenticated bool // needs an access token, and so is rate limited
	handle        handlerFunc
}

func newRoute(path string, ops ...operation) route {
	rt := route{segments: strings.Split(strings.TrimPrefix(path, "/"), "/"), operations: ops}
	var methods []string
	for _, op := range ops {
		methods = append(methods, op.method)
		if op.method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	rt.allow = []string{strings.Join(append(methods, http.MethodOptions), ", ")}
	for _, seg := range rt.segments {
		rt.hasUserID = rt.hasUserID || seg == userIDSegment
	}
	return rt
}

// routes lists an API version's routes. Order matters where two could
// match: /presence/list/{userId} comes before /presence/{userId}/status, so
// /presence/list/status is the list of "status" (a malformed user ID), the
// literal segment winning over the parameter.
func (s *Server) routes(api *apiVersion) []route {
	flows := operation{method: http.MethodGet, handle: s.getLoginFlows}
	rs := []route{
		newRoute("/register", flows, operation{method: http.MethodPost, handle: s.postRegister}),
		newRoute("/login", flows, operation{method: http.MethodPost, handle: s.postLogin}),
	}
	if api.presenceLists {
		rs = append(rs, newRoute("/presence/list/"+userIDSegment,
			operation{method: http.MethodGet, authenticated: true, handle: s.getPresenceList},
			operation{method: http.MethodPost, authenticated: true, handle: s.postPresenceList}))
	}
	return append(rs, newRoute("/presence/"+userIDSegment+"/status",
		operation{method: http.MethodGet, authenticated: true, handle: s.getStatus},
		operation{method: http.MethodPut, authenticated: true, handle: s.putStatus}))
}

// operation returns the route's operation for a method, or nil. HEAD is
// served as GET, as net/http's ServeMux does; net/http drops the body.
func (rt *route) operation(method string) *operation {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for i := range rt.operations {
		if rt.operations[i].method == method {
			return &rt.operations[i]
		}
	}
	return nil
}

type routeMatch struct {
	api           *apiVersion
	route         *route
	userID        string // decoded
	userIDDecoded bool   // false when the segment's escapes are broken
}

// maxSegments is more than any route has; longer paths match nothing.
const maxSegments = 10

func (s *Server) match(escapedPath string) (routeMatch, bool) {
	if !strings.HasPrefix(escapedPath, "/") {
		return routeMatch{}, false
	}
	var segs [maxSegments]string
	n := 0
	for rest := escapedPath[1:]; ; {
		if n == maxSegments {
			return routeMatch{}, false
		}
		seg, after, more := strings.Cut(rest, "/")
		segs[n] = seg
		n++
		if !more {
			break
		}
		rest = after
	}
	for mi := range s.mounts {
		mt := &s.mounts[mi]
		prefix := mt.api.prefix
		if n < len(prefix) || !segmentsAre(segs[:len(prefix)], prefix) {
			continue
		}
		tail := segs[len(prefix):n]
		for ri := range mt.routes {
			if m, ok := matchRoute(&mt.routes[ri], tail); ok {
				m.api = mt.api
				return m, true
			}
		}
	}
	return routeMatch{}, false
}

func matchRoute(rt *route, segs []string) (routeMatch, bool) {
	if len(segs) != len(rt.segments) {
		return routeMatch{}, false
	}
	m := routeMatch{route: rt}
	for i, want := range rt.segments {
		if want == userIDSegment {
			id, err := url.PathUnescape(segs[i])
			m.userID, m.userIDDecoded = id, err == nil
			if err != nil {
				m.userID = segs[i]
			}
			continue
		}
		if !segmentIs(segs[i], want) {
			return routeMatch{}, false
		}
	}
	return m, true
}

func segmentsAre(segs, literals []string) bool {
	for i, lit := range literals {
		if !segmentIs(segs[i], lit) {
			return false
		}
	}
	return true
}

// segmentIs compares an escaped segment with a literal one. Escaped and
// plain spellings of a character are the same path (RFC 3986, section
// 6.2.2.2), as net/http's ServeMux also treats them.
func segmentIs(escaped, literal string) bool {
	if !strings.Contains(escaped, "%") {
		return escaped == literal
	}
	decoded, err := url.PathUnescape(escaped)
	return err == nil && decoded == literal
}
