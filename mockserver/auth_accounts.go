package mockserver

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Account is a registered user and an access token for them.
type Account struct {
	UserID      string // e.g. @alice:localhost
	AccessToken string
	HomeServer  string // the server name
}

// Register creates an account, as POST /register does, for tests and for
// accounts made before a server starts. localpart may also be a full user ID
// on this server.
func (s *Server) Register(localpart, password string) (Account, error) {
	if password == "" {
		return Account{}, fmt.Errorf("register %q: the password is empty", localpart)
	}
	acct, err := s.register(localpart, password)
	if err != nil {
		return Account{}, fmt.Errorf("register %q: %s (%s)", localpart, err.message, err.errcode)
	}
	return acct, nil
}

// passwordFlows is v1's one login and registration flow.
var passwordFlows = []byte(`{"flows":[{"type":"m.login.password"}]}`)

// getLoginFlows serves GET /register and GET /login.
func (s *Server) getLoginFlows(w http.ResponseWriter, r *http.Request, c call) {
	writeJSON(w, http.StatusOK, passwordFlows)
}

// postRegister serves POST /register: m.login.password in one step. Without
// a user the server picks a fresh localpart.
func (s *Server) postRegister(w http.ResponseWriter, r *http.Request, c call) {
	if s.closedRegistration {
		writeError(w, errRegistrationClosed)
		return
	}
	creds, ok := decodeBody(s, w, r, decodePasswordCredentials)
	if !ok {
		return
	}
	var acct Account
	var err *apiError
	if creds.hasName {
		acct, err = s.register(creds.name, creds.password)
	} else {
		acct, err = s.registerFresh(creds.password)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeAccount(w, acct)
}

// postLogin serves POST /login: a new token each time; earlier tokens stay
// valid.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request, c call) {
	creds, ok := decodeBody(s, w, r, decodePasswordCredentials)
	if !ok {
		return
	}
	if !creds.hasName {
		writeError(w, badJSON("user: missing; it is required"))
		return
	}
	u, err := s.checkPassword(creds.name, creds.password)
	if err != nil {
		writeError(w, err)
		return
	}
	writeAccount(w, Account{UserID: u.id, AccessToken: s.issueToken(u), HomeServer: s.serverName})
}

// loginUserID is the user ID a login names: a full ID as given, or a
// localpart on this server.
func (s *Server) loginUserID(name string) string {
	if strings.HasPrefix(name, "@") {
		return name
	}
	return "@" + name + ":" + s.serverName
}

// checkPassword finds the user a login names if the password is theirs. An
// unknown user and a wrong password get the same error, after the same
// work, so a client cannot learn which users exist.
func (s *Server) checkPassword(name, password string) (*user, *apiError) {
	u := s.userByID(s.loginUserID(name))
	if u == nil {
		hashPassword([16]byte{}, password) // the work a known user's check costs
		return nil, errLoginFailed
	}
	if !u.passwordIs(password) {
		return nil, errLoginFailed
	}
	return u, nil
}

// passwordCredentials is what POST /register and POST /login in v1 take
// from their body.
type passwordCredentials struct {
	name     string
	hasName  bool
	password string
}

// decodePasswordCredentials decodes the body POST /register and POST
// /login share. The login type is judged first: the other fields mean
// something only for a type the server knows.
func decodePasswordCredentials(body []byte) (passwordCredentials, *apiError) {
	var pc passwordCredentials
	creds, err := decodeCredentials(body)
	if err != nil {
		return pc, err
	}
	if !creds.isPasswordLogin() {
		return pc, errBadLoginType
	}
	password, hasPassword, err := stringField("password", creds.password)
	if err != nil {
		return pc, err
	}
	if !hasPassword {
		return pc, badJSON("password: missing; it is required")
	}
	if password == "" {
		return pc, badJSON("password: must not be empty")
	}
	pc.password = password
	pc.name, pc.hasName, err = stringField("user", creds.user)
	if err != nil {
		return passwordCredentials{}, err
	}
	return pc, nil
}

// register creates an account and issues its first token.
func (s *Server) register(name, password string) (Account, *apiError) {
	u, err := s.createUser(name, password)
	if err != nil {
		return Account{}, err
	}
	return Account{UserID: u.id, AccessToken: s.issueToken(u), HomeServer: s.serverName}, nil
}

// registerFresh registers an account under a localpart the server picks.
func (s *Server) registerFresh(password string) (Account, *apiError) {
	u, err := s.createFreshUser(password)
	if err != nil {
		return Account{}, err
	}
	return Account{UserID: u.id, AccessToken: s.issueToken(u), HomeServer: s.serverName}, nil
}

// createUser creates an account, with no token yet.
func (s *Server) createUser(name, password string) (*user, *apiError) {
	if s.invalid != nil {
		return nil, errorf(http.StatusInternalServerError, "M_UNKNOWN", "this server is misconfigured: "+s.invalid.Error())
	}
	id, err := s.newUserID(name)
	if err != nil {
		return nil, err
	}
	u := newUser(id, password, s.clock(), s.burst)
	if _, taken := s.users.LoadOrStore(id, u); taken {
		return nil, errUserInUse
	}
	return u, nil
}

// createFreshUser creates an account under the next numbered localpart
// nobody has taken; a number is valid under the strict grammar and short.
func (s *Server) createFreshUser(password string) (*user, *apiError) {
	for {
		u, err := s.createUser(strconv.FormatUint(s.lastPicked.Add(1), 10), password)
		if err != errUserInUse {
			return u, err
		}
	}
}

// newUserID turns what a client asked for (a localpart, or a full ID on
// this server) into the user ID to create.
func (s *Server) newUserID(name string) (string, *apiError) {
	localpart := name
	if strings.HasPrefix(name, "@") {
		lp, server, ok := splitUserID(name)
		if !ok {
			return "", invalidUsername(name, "is not a Matrix user ID (@localpart:server.name)")
		}
		if server != s.serverName {
			return "", invalidUsername(name, "names another server; this one is "+s.serverName)
		}
		localpart = lp
	}
	if !validNewLocalpart(localpart) {
		return "", invalidUsername(name, "may hold only the characters a-z, 0-9, '.', '_', '=', '-' and '/'")
	}
	id := "@" + localpart + ":" + s.serverName
	if len(id) > maxUserIDLength {
		return "", invalidUsername(name, fmt.Sprintf("makes a user ID longer than %d bytes", maxUserIDLength))
	}
	return id, nil
}

func invalidUsername(name, why string) *apiError {
	return errorf(http.StatusBadRequest, "M_INVALID_USERNAME", "user: "+quoteForMessage(name)+" "+why)
}

func writeAccount(w http.ResponseWriter, a Account) {
	writeJSON(w, http.StatusOK, append(appendAccount(make([]byte, 0, 128), a), '}'))
}

// writeDeviceAccount is writeAccount with the device the token belongs
// to, as r0 and v3 answer.
func writeDeviceAccount(w http.ResponseWriter, a Account, deviceID string) {
	buf := appendAccount(make([]byte, 0, 160), a)
	buf = append(buf, `,"device_id":`...)
	buf = appendString(buf, deviceID)
	writeJSON(w, http.StatusOK, append(buf, '}'))
}

// appendAccount appends an account object without its closing brace.
func appendAccount(buf []byte, a Account) []byte {
	buf = append(buf, `{"user_id":`...)
	buf = appendString(buf, a.UserID)
	buf = append(buf, `,"access_token":`...)
	buf = appendString(buf, a.AccessToken)
	buf = append(buf, `,"home_server":`...)
	return appendString(buf, a.HomeServer)
}

// newDeviceID names a device the client did not name: ten capital letters
// and digits, as Synapse's are ten capitals.
func newDeviceID() string { return rand.Text()[:10] }

// errRegistrationClosed answers open registration when it is off.
var errRegistrationClosed = errorf(http.StatusForbidden, "M_FORBIDDEN", "registration is disabled")
