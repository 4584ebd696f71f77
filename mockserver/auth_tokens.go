package mockserver

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// tokenPrefix makes a mock token recognisable in logs and bug reports.
const tokenPrefix = "mxp_"

// A session is one issued access token. The token map is keyed by the
// token's SHA-256, so the time a lookup takes depends on the hash, not on
// how much of a guessed token matches; the match is then confirmed in
// constant time. Every token belongs to a device, as on a real homeserver:
// the client's, when it named one, else one the server names.
type session struct {
	token    []byte
	user     *user
	deviceID string
}

// tokenKey is how the token map and each user's token set know a token.
type tokenKey = [sha256.Size]byte

// issueToken issues a token on a device the server names: v1 has no
// devices, and accounts made through the Go API name none.
func (s *Server) issueToken(u *user) string { return s.issueDeviceToken(u, newDeviceID()) }

// issueDeviceToken issues a token on the named device. The token enters the
// server's map and its user's set under the user's lock, so that a logout
// of all the user's tokens either sees it or comes before it.
func (s *Server) issueDeviceToken(u *user, deviceID string) string {
	var raw [32]byte
	rand.Read(raw[:])
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	key := tokenKey(sha256.Sum256([]byte(token)))
	u.mu.Lock()
	defer u.mu.Unlock()
	sess := &session{token: []byte(token), user: u, deviceID: deviceID}
	s.tokens.Store(key, sess)
	if u.tokens == nil {
		u.tokens = make(map[tokenKey]*session)
	}
	u.tokens[key] = sess
	return token
}

// revokeDevice deletes the device of sess: its token, and any other token
// a login on the same device ID issued, stop working at once.
func (s *Server) revokeDevice(sess *session) {
	u := sess.user
	u.mu.Lock()
	defer u.mu.Unlock()
	for key, other := range u.tokens {
		if other.deviceID == sess.deviceID {
			s.tokens.Delete(key)
			delete(u.tokens, key)
		}
	}
}

// revokeAllTokens makes every token of u stop working at once.
func (s *Server) revokeAllTokens(u *user) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for key := range u.tokens {
		s.tokens.Delete(key)
	}
	clear(u.tokens)
}

// maxTokenBytes bounds what is hashed; no issued token is longer.
const maxTokenBytes = 128

func (s *Server) userByToken(token string) *user {
	if sess := s.sessionByToken(token); sess != nil {
		return sess.user
	}
	return nil
}

func (s *Server) sessionByToken(token string) *session {
	if len(token) > maxTokenBytes {
		return nil
	}
	var buf [maxTokenBytes]byte
	presented := append(buf[:0], token...)
	v, ok := s.tokens.Load(tokenKey(sha256.Sum256(presented)))
	if !ok {
		return nil
	}
	sess := v.(*session)
	if subtle.ConstantTimeCompare(sess.token, presented) != 1 {
		return nil
	}
	return sess
}

// authenticate finds the user whose access token the request carries.
func (s *Server) authenticate(r *http.Request) (*user, *apiError) {
	sess, err := s.authenticateSession(r)
	if err != nil {
		return nil, err
	}
	return sess.user, nil
}

// authenticateSession finds the session of the access token the request
// carries.
func (s *Server) authenticateSession(r *http.Request) (*session, *apiError) {
	token, err := accessToken(r)
	if err != nil {
		return nil, err
	}
	sess := s.sessionByToken(token)
	if sess == nil {
		return nil, errUnknownToken
	}
	return sess, nil
}

// accessToken takes the token from the access_token query parameter, as v1
// defines, or from an Authorization: Bearer header, as every later version
// also allows. Both at once is refused rather than guessed at, as Synapse
// does.
func accessToken(r *http.Request) (string, *apiError) {
	fromQuery, inQuery := queryValue(r.URL.RawQuery, "access_token")
	headers := r.Header["Authorization"]
	switch {
	case inQuery && len(headers) > 0:
		return "", errMixedToken
	case inQuery:
		if fromQuery == "" {
			return "", errMissingToken
		}
		return fromQuery, nil
	case len(headers) == 0:
		return "", errMissingToken
	}
	if len(headers) > 1 {
		return "", errBadAuthHeader
	}
	// The scheme name is case-insensitive (RFC 9110, section 11.1).
	scheme, token, found := strings.Cut(headers[0], " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", errBadAuthHeader
	}
	if token == "" {
		return "", errMissingToken
	}
	return token, nil
}

// queryValue is url.Values.Get without building the map: the first value
// of key, and whether key is there at all. Pairs url.ParseQuery would skip
// (bad escapes, semicolons) are skipped here too.
func queryValue(rawQuery, key string) (value string, found bool) {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(k)
		if err != nil || k != key {
			continue
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return v, true
	}
	return "", false
}
