package mockserver

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"time"
)

// Shared-secret registration is Synapse's admin API for making accounts on
// a server whose open registration is closed, and other homeservers
// implement it too: GET a nonce, then POST the account with an HMAC-SHA1,
// keyed with the secret, over the nonce, the username, the password and
// whether the account is an admin.

// nonceLifetime is how long a nonce stays usable, as in Synapse.
const nonceLifetime = 60 * time.Second

var (
	errSharedSecretOff = errorf(http.StatusBadRequest, "M_UNKNOWN", "shared secret registration is not enabled")
	errUnknownNonce    = errorf(http.StatusBadRequest, "M_UNKNOWN", "unrecognised nonce")
	errBadMAC          = errorf(http.StatusForbidden, "M_FORBIDDEN", "HMAC incorrect")
)

// getAdminRegisterNonce serves GET /_synapse/admin/v1/register.
func (s *Server) getAdminRegisterNonce(w http.ResponseWriter, r *http.Request, c call) {
	if s.sharedSecret == nil {
		writeError(w, errSharedSecretOff)
		return
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, `{"nonce":`...)
	buf = appendString(buf, s.nonces.issue(s.clock()))
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// postAdminRegister serves POST /_synapse/admin/v1/register. The nonce is
// spent by any request that names it, whatever becomes of it, so each
// nonce allows one guess at the MAC. The MAC is checked before anything
// about the account, so that without the secret a client learns nothing
// about which names are taken.
func (s *Server) postAdminRegister(w http.ResponseWriter, r *http.Request, c call) {
	if s.sharedSecret == nil {
		writeError(w, errSharedSecretOff)
		return
	}
	req, ok := decodeBody(s, w, r, decodeAdminRegistration)
	if !ok {
		return
	}
	if _, ok := s.nonces.take(req.nonce, s.clock()); !ok {
		writeError(w, errUnknownNonce)
		return
	}
	// Compared in constant time, as hex: a MAC in capitals is not this MAC.
	if !hmac.Equal([]byte(registrationMAC(s.sharedSecret, req)), []byte(req.mac)) {
		writeError(w, errBadMAC)
		return
	}
	u, err := s.createUser(req.username, req.password)
	if err != nil {
		writeError(w, err)
		return
	}
	deviceID := newDeviceID()
	writeDeviceAccount(w, Account{UserID: u.id, AccessToken: s.issueDeviceToken(u, deviceID), HomeServer: s.serverName}, deviceID)
}

// registrationMAC is the MAC a request must carry, in lower-case hex:
// nonce, username, password and "admin" or "notadmin", NUL between each,
// then a NUL and the user type when one is given.
func registrationMAC(secret []byte, req adminRegistration) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(req.nonce))
	m.Write([]byte{0})
	m.Write([]byte(req.username))
	m.Write([]byte{0})
	m.Write([]byte(req.password))
	m.Write([]byte{0})
	if req.admin {
		m.Write([]byte("admin"))
	} else {
		m.Write([]byte("notadmin"))
	}
	if req.userType != "" {
		m.Write([]byte{0})
		m.Write([]byte(req.userType))
	}
	return hex.EncodeToString(m.Sum(nil))
}
