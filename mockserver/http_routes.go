package mockserver

import (
	"net/http"
	"net/url"
	"strings"
)

// Routing works on the escaped path, one segment at a time, so that an
// encoded "/" (%2F) stays inside the user ID it belongs to instead of
// splitting the path, and "%40alice%3Alocalhost" names @alice:localhost.
// Room IDs in paths are read the same way.

// The path parameters, as they appear in a route's segments.
const (
	userIDSegment        = "{userId}"
	roomIDSegment        = "{roomId}"
	roomIDOrAliasSegment = "{roomIdOrAlias}"
	filterIDSegment      = "{filterId}" // any segment; its handler reads it
)

type route struct {
	segments   []string // after the mount's prefix
	hasUserID  bool
	room       roomParam // which room parameter the path has, if any
	operations []operation
	allow      []string // the Allow header: every method served, OPTIONS too
}

// roomParam tells routes with a room in the path apart.
type roomParam int

const (
	noRoom             roomParam = iota
	roomIDParam                  // {roomId}: a room ID
	roomIDOrAliasParam           // {roomIdOrAlias}: a room ID or a room alias
)

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
		switch seg {
		case userIDSegment:
			rt.hasUserID = true
		case roomIDSegment:
			rt.room = roomIDParam
		case roomIDOrAliasSegment:
			rt.room = roomIDOrAliasParam
		}
	}
	return rt
}

// A mount is a set of routes under one path prefix: an API version's, or
// the few that belong to no version (/versions, the admin API), whose api
// is nil.
type mount struct {
	prefix []string
	api    *apiVersion
	routes []route
}

// mountAll lays out every route the server serves: each version under its
// own prefix, then the routes of no version.
func (s *Server) mountAll(versions []*apiVersion) []mount {
	var ms []mount
	for _, api := range versions {
		ms = append(ms, mount{prefix: api.prefix, api: api, routes: s.routes(api)})
	}
	return append(ms,
		mount{prefix: []string{"_matrix", "client"}, routes: []route{
			newRoute("/versions", operation{method: http.MethodGet, handle: s.getVersions}),
		}},
		mount{prefix: []string{"_synapse", "admin", "v1"}, routes: []route{
			newRoute("/register",
				operation{method: http.MethodGet, handle: s.getAdminRegisterNonce},
				operation{method: http.MethodPost, handle: s.postAdminRegister}),
		}},
	)
}

// routes lists an API version's routes. Order matters where two could
// match: /presence/list/{userId} comes before /presence/{userId}/status, so
// /presence/list/status is the list of "status" (a malformed user ID), the
// literal segment winning over the parameter.
func (s *Server) routes(api *apiVersion) []route {
	flows := operation{method: http.MethodGet, handle: s.getLoginFlows}
	var rs []route
	switch api.registration {
	case registerInOneStep:
		rs = append(rs,
			newRoute("/register", flows, operation{method: http.MethodPost, handle: s.postRegister}),
			newRoute("/login", flows, operation{method: http.MethodPost, handle: s.postLogin}))
	case registerInteractive:
		// GET /register is v1's alone; later versions ask with a POST.
		rs = append(rs,
			newRoute("/register", operation{method: http.MethodPost, handle: s.postRegisterInteractive}),
			newRoute("/login", flows, operation{method: http.MethodPost, handle: s.postLoginIdentified}))
	}
	rs = append(rs, s.deliveryRoutes(api)...)
	if api.presenceLists {
		rs = append(rs, newRoute("/presence/list/"+userIDSegment,
			operation{method: http.MethodGet, authenticated: true, handle: s.getPresenceList},
			operation{method: http.MethodPost, authenticated: true, handle: s.postPresenceList}))
	}
	if api.hasRooms() {
		rs = append(rs,
			newRoute("/createRoom", operation{method: http.MethodPost, authenticated: true, handle: s.postCreateRoom}),
			newRoute("/join/"+roomIDOrAliasSegment, operation{method: http.MethodPost, authenticated: true, handle: s.postJoin}),
			newRoute("/rooms/"+roomIDSegment+"/join", operation{method: http.MethodPost, authenticated: true, handle: s.postJoin}),
			newRoute("/rooms/"+roomIDSegment+"/leave", operation{method: http.MethodPost, authenticated: true, handle: s.postLeave}))
	}
	if api.hasStartupCalls() {
		rs = append(rs, s.startupRoutes()...)
	}
	return append(rs, newRoute("/presence/"+userIDSegment+"/status",
		operation{method: http.MethodGet, authenticated: true, handle: s.getStatus},
		operation{method: http.MethodPut, authenticated: true, handle: s.putStatus}))
}

// hasStartupCalls reports whether the version mounts the calls a client
// makes at start (capabilities, whoami, push rules, profile, joined rooms,
// logout, username availability): r0 and v3 clients make them. v1 stays
// the 2015 presence API the seed describes; its clients began with
// /initialSync.
func (v *apiVersion) hasStartupCalls() bool { return v.registration == registerInteractive }

// startupRoutes are the routes of the calls a client makes at start.
// Reading a profile needs no token, as the spec has it; nor does asking
// whether a username is free, which comes before there is an account.
func (s *Server) startupRoutes() []route {
	get := func(h handlerFunc) operation {
		return operation{method: http.MethodGet, authenticated: true, handle: h}
	}
	profile := "/profile/" + userIDSegment
	var rs []route
	for _, f := range []profileField{displayNameField, avatarURLField} {
		rs = append(rs, newRoute(profile+"/"+f.name,
			operation{method: http.MethodGet, handle: s.getProfileField(f)},
			operation{method: http.MethodPut, authenticated: true, handle: s.putProfileField(f)}))
	}
	return append(rs,
		newRoute(profile, operation{method: http.MethodGet, handle: s.getProfile}),
		newRoute("/capabilities", get(s.getCapabilities)),
		newRoute("/account/whoami", get(s.getWhoami)),
		newRoute("/pushrules/", get(s.getPushRules)),
		newRoute("/pushrules/global/", get(s.getGlobalPushRules)),
		newRoute("/joined_rooms", get(s.getJoinedRooms)),
		newRoute("/logout", operation{method: http.MethodPost, authenticated: true, handle: s.postLogout}),
		newRoute("/logout/all", operation{method: http.MethodPost, authenticated: true, handle: s.postLogoutAll}),
		newRoute("/register/available", operation{method: http.MethodGet, handle: s.getRegisterAvailable}))
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
	api           *apiVersion // nil for the routes of no version
	route         *route
	userID        string // decoded
	userIDDecoded bool   // false when the segment's escapes are broken
	roomID        string // the room ID or alias, decoded
	roomIDDecoded bool   // as userIDDecoded
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
		prefix := mt.prefix
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
		switch want {
		case userIDSegment:
			m.userID, m.userIDDecoded = unescapeSegment(segs[i])
			continue
		case roomIDSegment, roomIDOrAliasSegment:
			m.roomID, m.roomIDDecoded = unescapeSegment(segs[i])
			continue
		case filterIDSegment:
			continue
		}
		if !segmentIs(segs[i], want) {
			return routeMatch{}, false
		}
	}
	return m, true
}

// unescapeSegment decodes a path parameter. When its escapes are broken it
// returns the segment as given, for the error message, and false.
func unescapeSegment(seg string) (string, bool) {
	if !strings.Contains(seg, "%") {
		return seg, true
	}
	decoded, err := url.PathUnescape(seg)
	if err != nil {
		return seg, false
	}
	return decoded, true
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
