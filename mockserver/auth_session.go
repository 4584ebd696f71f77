package mockserver

import "net/http"

// getWhoami serves GET /account/whoami: the token's user and device. The
// mock has no guests and no application services, so is_guest is left out
// (false, by the spec's default) and the user is always the token's.
func (s *Server) getWhoami(w http.ResponseWriter, r *http.Request, c call) {
	buf := make([]byte, 0, 96)
	buf = append(buf, `{"user_id":`...)
	buf = appendString(buf, c.viewer.id)
	buf = append(buf, `,"device_id":`...)
	buf = appendString(buf, c.sess.deviceID)
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// postLogout serves POST /logout: the token that made the request, and its
// device, are gone before the answer goes out; a token another login on
// the same device ID got goes with them. A body, which the spec does not
// define, may be left out or be an object, as for join and leave.
func (s *Server) postLogout(w http.ResponseWriter, r *http.Request, c call) {
	if _, ok := decodeBody(s, w, r, decodeOptionalObject); !ok {
		return
	}
	s.revokeDevice(c.sess)
	writeJSON(w, http.StatusOK, emptyObject)
}

// postLogoutAll serves POST /logout/all: every token of the user, this
// one included, stops working before the answer goes out. Tokens issued
// by requests that finish later are new logins, and work.
func (s *Server) postLogoutAll(w http.ResponseWriter, r *http.Request, c call) {
	if _, ok := decodeBody(s, w, r, decodeOptionalObject); !ok {
		return
	}
	s.revokeAllTokens(c.viewer)
	writeJSON(w, http.StatusOK, emptyObject)
}
