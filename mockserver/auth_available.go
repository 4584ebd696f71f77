package mockserver

import "net/http"

var (
	errNoUsername   = errorf(http.StatusBadRequest, "M_MISSING_PARAM", "username: missing; it is required")
	availableAnswer = []byte(`{"available":true}`)
)

// getRegisterAvailable serves GET /register/available?username=: whether
// POST /register would take that name now, by the very checks it makes
// (a localpart or a full user ID on this server, under the strict
// grammar). It reserves nothing. With registration closed no name is
// available, and the answer is the 403 registration itself gives, so a
// client is not told to go ahead and then refused.
func (s *Server) getRegisterAvailable(w http.ResponseWriter, r *http.Request, c call) {
	if s.closedRegistration {
		writeError(w, errRegistrationClosed)
		return
	}
	name, given := queryValue(r.URL.RawQuery, "username")
	if !given {
		writeError(w, errNoUsername)
		return
	}
	id, err := s.newUserID(name)
	if err != nil {
		writeError(w, err)
		return
	}
	if s.userByID(id) != nil {
		writeError(w, errUserInUse)
		return
	}
	writeJSON(w, http.StatusOK, availableAnswer)
}
