package mockserver

import "net/http"

// postLoginIdentified serves POST /login in r0 and v3: m.login.password
// with the user in an m.id.user identifier, or in the deprecated top-level
// user that older clients send, alone or beside the identifier. Given
// both, they must name the same user; the answer carries a device ID, the
// client's if it named one.
func (s *Server) postLoginIdentified(w http.ResponseWriter, r *http.Request, c call) {
	l, ok := decodeBody(s, w, r, decodeIdentifiedLogin)
	if !ok {
		return
	}
	name := l.identifierUser
	if !l.hasIdentifier {
		name = l.legacyUser
	} else if l.hasLegacyUser && s.loginUserID(l.legacyUser) != s.loginUserID(l.identifierUser) {
		writeError(w, badJSON("user: names another user than identifier.user; give one, or the same in both"))
		return
	}
	u, err := s.checkPassword(name, l.password)
	if err != nil {
		writeError(w, err)
		return
	}
	deviceID := l.deviceID
	if !l.hasDeviceID {
		deviceID = newDeviceID()
	}
	writeDeviceAccount(w, Account{UserID: u.id, AccessToken: s.issueDeviceToken(u, deviceID), HomeServer: s.serverName}, deviceID)
}
