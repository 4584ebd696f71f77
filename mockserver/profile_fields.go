package mockserver

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The profile of r0 and v3: a display name and an avatar URL per user,
// which anyone may read and only the user may set. An empty value is no
// value: setting "" clears the field, as Synapse does, and a cleared field
// reads as one never set.

// profile is a user's profile fields; the owner's lock guards them.
type profile struct {
	displayName string
	avatarURL   string
}

// A profileField is one of the fields the mock serves, at
// /profile/{userId}/{name}.
type profileField struct {
	name     string
	maxRunes int                       // longer values are refused
	check    func(value string) string // why a value is refused; "" accepts
	slot     func(p *profile) *string  // where the value lives
}

// The limits are Synapse's: the spec sets none per field, only 64 KiB for
// the whole profile, which these keep it far below.
var (
	displayNameField = profileField{name: "displayname", maxRunes: 256,
		check: func(string) string { return "" },
		slot:  func(p *profile) *string { return &p.displayName }}
	avatarURLField = profileField{name: "avatar_url", maxRunes: 1000,
		check: func(v string) string {
			if !validMXC(v) {
				return "is not an mxc:// URI (mxc://server.name/media-id)"
			}
			return ""
		},
		slot: func(p *profile) *string { return &p.avatarURL }}
)

var errNoProfile = errorf(http.StatusNotFound, "M_NOT_FOUND", "there is no such user on this server")

// getProfile serves GET /profile/{userId}: every field that is set. It
// needs no token, as the spec has it. A user of another server is as
// unknown as one who never was: the mock federates with nobody.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, c call) {
	u := s.userByID(c.userID)
	if u == nil {
		writeError(w, errNoProfile)
		return
	}
	p := u.profileCopy()
	buf := append(make([]byte, 0, 64), '{')
	for _, f := range []profileField{avatarURLField, displayNameField} {
		if v := *f.slot(&p); v != "" {
			if len(buf) > 1 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, f.name)
			buf = append(buf, ':')
			buf = appendString(buf, v)
		}
	}
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// getProfileField returns the handler of GET /profile/{userId}/{field}:
// the one field, or 404 when the user or the value is not there.
func (s *Server) getProfileField(f profileField) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) {
		u := s.userByID(c.userID)
		if u == nil {
			writeError(w, errNoProfile)
			return
		}
		p := u.profileCopy()
		v := *f.slot(&p)
		if v == "" {
			writeError(w, errorf(http.StatusNotFound, "M_NOT_FOUND", "this user has no "+f.name))
			return
		}
		buf := append(make([]byte, 0, 32+len(v)), '{')
		buf = appendString(buf, f.name)
		buf = append(buf, ':')
		buf = appendString(buf, v)
		writeJSON(w, http.StatusOK, append(buf, '}'))
	}
}

// putProfileField returns the handler of PUT /profile/{userId}/{field}:
// only the owner sets it, and the body is checked whole before it is.
func (s *Server) putProfileField(f profileField) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) {
		if c.userID != c.viewer.id {
			writeError(w, errorf(http.StatusForbidden, "M_FORBIDDEN", "you cannot change another user's profile"))
			return
		}
		value, ok := decodeBody(s, w, r, f.decode)
		if !ok {
			return
		}
		u := c.viewer
		u.mu.Lock()
		*f.slot(&u.profile) = value
		u.mu.Unlock()
		writeJSON(w, http.StatusOK, emptyObject)
	}
}

// decode reads a body of the form {"<field>": "value"}. Other members are
// ignored, as everywhere in the mock; the field itself must be there, as a
// string (null included: the spec lets a server refuse it, and "" clears).
func (f profileField) decode(body []byte) (string, *apiError) {
	obj, err := startObject(body)
	if err != nil {
		return "", err
	}
	var raw []byte
	if err := readFields(obj, "", field{f.name, &raw}); err != nil {
		return "", err
	}
	v, present, err := stringField(f.name, raw)
	if err != nil {
		return "", err
	}
	if !present {
		return "", errorf(http.StatusBadRequest, "M_MISSING_PARAM", f.name+": missing; it is required")
	}
	if v == "" {
		return "", nil
	}
	if n := utf8.RuneCountInString(v); n > f.maxRunes {
		return "", errorf(http.StatusBadRequest, "M_INVALID_PARAM", f.name+": longer than "+strconv.Itoa(f.maxRunes)+" characters")
	}
	if why := f.check(v); why != "" {
		return "", errorf(http.StatusBadRequest, "M_INVALID_PARAM", f.name+": "+quoteForMessage(v)+" "+why)
	}
	return v, nil
}

// validMXC reports whether v is an mxc:// URI: a server name, a slash and
// a media ID of letters, digits, '_' and '-'.
func validMXC(v string) bool {
	rest, ok := strings.CutPrefix(v, "mxc://")
	if !ok {
		return false
	}
	server, mediaID, ok := strings.Cut(rest, "/")
	if !ok || mediaID == "" || !validServerName(server) {
		return false
	}
	for _, c := range []byte(mediaID) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// profileCopy returns u's profile as it is now.
func (u *user) profileCopy() profile {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.profile
}
