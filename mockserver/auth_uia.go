package mockserver

import (
	"net/http"
	"time"
)

// Registration in r0 and v3 goes through user-interactive auth with one
// flow of one stage, m.login.dummy: the first POST /register answers 401
// with the flow and a session; the client repeats the request with
// auth: {"type": "m.login.dummy", "session": ...} and is registered. A
// client may also send the dummy stage at once, with no session, and is
// registered in one request: the spec makes session optional in auth, the
// dummy stage proves nothing that a session would make safer, and real
// homeservers accept it, so bots and scripts do it.

// uiaSessionLifetime is how long a registration session stays usable:
// ample for a person filling in a form, short enough that abandoned ones go.
const uiaSessionLifetime = 10 * time.Minute

// dummyFlows is the flows and params part of every 401 this API gives.
const dummyFlows = `{"flows":[{"stages":["m.login.dummy"]}],"params":{}`

// postRegisterInteractive serves POST /register in r0 and v3. Everything
// the client chose is checked before the auth: the kind, then the body,
// then the username, so a client learns that a name is taken before it
// completes a stage. A session is spent only by a registration that
// succeeds; anything that fails after it changes nothing. The dummy stage
// without a session needs none, and spends none.
func (s *Server) postRegisterInteractive(w http.ResponseWriter, r *http.Request, c call) {
	guest, err := registrationKind(r.URL.RawQuery)
	if err != nil {
		writeError(w, err)
		return
	}
	if s.closedRegistration {
		writeError(w, errRegistrationClosed)
		return
	}
	if guest {
		writeError(w, errGuestsRefused)
		return
	}
	reg, ok := decodeBody(s, w, r, decodeInteractiveRegistration)
	if !ok {
		return
	}
	if reg.hasUsername {
		id, err := s.newUserID(reg.username)
		if err != nil {
			writeError(w, err)
			return
		}
		if s.userByID(id) != nil {
			writeError(w, errUserInUse)
			return
		}
	}
	now := s.clock()
	oneStep := reg.hasAuth && !reg.hasAuthSession && reg.authType == "m.login.dummy"
	switch {
	case !reg.hasAuth:
		writeAuthChallenge(w, s.uiaAuth.issue(now), nil)
		return
	case oneStep && !reg.hasPassword:
		writeError(w, badJSON("password: missing; it is required"))
		return
	case oneStep:
		s.registerInteractive(w, reg, "", time.Time{})
		return
	case !reg.hasAuthSession:
		writeAuthChallenge(w, s.uiaAuth.issue(now), errUnknownStage)
		return
	case !s.uiaAuth.valid(reg.authSession, now):
		writeAuthChallenge(w, s.uiaAuth.issue(now), errUnknownSession)
		return
	case reg.authType != "m.login.dummy":
		// The session is still good: the client may retry the stage in it.
		writeAuthChallenge(w, reg.authSession, errUnknownStage)
		return
	case !reg.hasPassword:
		writeError(w, badJSON("password: missing; it is required"))
		return
	}
	expires, ok := s.uiaAuth.take(reg.authSession, now)
	if !ok { // another request spent it since the check above
		writeAuthChallenge(w, s.uiaAuth.issue(now), errUnknownSession)
		return
	}
	s.registerInteractive(w, reg, reg.authSession, expires)
}

// registerInteractive creates the account a registration that passed its
// auth asks for, and answers. session, when not empty, is the one the
// registration spent: it is given back (until expires) if the account
// cannot be made after all.
func (s *Server) registerInteractive(w http.ResponseWriter, reg interactiveRegistration, session string, expires time.Time) {
	var u *user
	var err *apiError
	if reg.hasUsername {
		u, err = s.createUser(reg.username, reg.password)
	} else {
		u, err = s.createFreshUser(reg.password)
	}
	if err != nil { // the name was taken since the check above
		if session != "" {
			s.uiaAuth.giveBack(session, expires)
		}
		writeError(w, err)
		return
	}
	if reg.inhibitLogin {
		buf := make([]byte, 0, 96)
		buf = append(buf, `{"user_id":`...)
		buf = appendString(buf, u.id)
		buf = append(buf, `,"home_server":`...)
		buf = appendString(buf, s.serverName)
		writeJSON(w, http.StatusOK, append(buf, '}'))
		return
	}
	deviceID := reg.deviceID
	if !reg.hasDeviceID {
		deviceID = newDeviceID()
	}
	writeDeviceAccount(w, Account{UserID: u.id, AccessToken: s.issueDeviceToken(u, deviceID), HomeServer: s.serverName}, deviceID)
}

var (
	errUnknownSession = errorf(http.StatusUnauthorized, "M_FORBIDDEN", "auth.session: unknown, expired or already used; continue in the session given here")
	errUnknownStage   = errorf(http.StatusUnauthorized, "M_FORBIDDEN", "auth.type: the only stage is m.login.dummy")
	errGuestsRefused  = errorf(http.StatusForbidden, "M_GUEST_ACCESS_FORBIDDEN", "guest access is disabled")
)

// registrationKind reads the kind query parameter: user (the default) or
// guest, a kind the spec defines and this server does not offer; anything
// else is malformed.
func registrationKind(rawQuery string) (guest bool, err *apiError) {
	kind, given := queryValue(rawQuery, "kind")
	switch {
	case !given || kind == "user":
		return false, nil
	case kind == "guest":
		return true, nil
	}
	return false, errorf(http.StatusBadRequest, "M_INVALID_PARAM", "kind: "+quoteForMessage(kind)+" is not user or guest")
}

// writeAuthChallenge answers 401 with the flows and the session to
// continue in; failed, when not nil, says why the last attempt failed, in
// the errcode and error that user-interactive auth adds for that.
func writeAuthChallenge(w http.ResponseWriter, session string, failed *apiError) {
	buf := make([]byte, 0, 192)
	buf = append(buf, dummyFlows...)
	buf = append(buf, `,"session":`...)
	buf = appendString(buf, session)
	if failed != nil {
		buf = append(buf, `,"errcode":`...)
		buf = appendString(buf, failed.errcode)
		buf = append(buf, `,"error":`...)
		buf = appendString(buf, failed.message)
	}
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(append(buf, '}'))
}
