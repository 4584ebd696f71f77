package mockserver

import (
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
	name, hasName, password, err := s.readCredentials(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	var acct Account
	if hasName {
		acct, err = s.register(name, password)
	} else {
		acct, err = s.registerFresh(password)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeAccount(w, acct)
}

// postLogin serves POST /login: a new token each time; earlier tokens stay
// valid. An unknown user and a wrong password get the same answer, after
// the same work, so a client cannot learn which users exist.
func (s *Server) postLogin(w http.ResponseWriter, r *http.Request, c call) {
	name, hasName, password, err := s.readCredentials(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !hasName {
		writeError(w, badJSON("user: missing; it is required"))
		return
	}
	id := name
	if !strings.HasPrefix(name, "@") {
		id = "@" + name + ":" + s.serverName
	}
	u := s.userByID(id)
	if u == nil {
		hashPassword([16]byte{}, password) // the work a known user's check costs
		writeError(w, errLoginFailed)
		return
	}
	if !u.passwordIs(password) {
		writeError(w, errLoginFailed)
		return
	}
	writeAccount(w, Account{UserID: u.id, AccessToken: s.issueToken(u), HomeServer: s.serverName})
}

// readCredentials reads the body POST /register and POST /login share. The
// login type is judged first: the other fields mean something only for a
// type the server knows.
func (s *Server) readCredentials(w http.ResponseWriter, r *http.Request) (name string, hasName bool, password string, err *apiError) {
	bp, err := s.readBody(w, r)
	if err != nil {
		return "", false, "", err
	}
	defer s.releaseBuffer(bp)
	creds, err := decodeCredentials(*bp)
	if err != nil {
		return "", false, "", err
	}
	if !creds.isPasswordLogin() {
		return "", false, "", errBadLoginType
	}
	password, hasPassword, err := stringField("password", creds.password)
	if err != nil {
		return "", false, "", err
	}
	if !hasPassword {
		return "", false, "", badJSON("password: missing; it is required")
	}
	if password == "" {
		return "", false, "", badJSON("password: must not be empty")
	}
	name, hasName, err = stringField("user", creds.user)
	if err != nil {
		return "", false, "", err
	}
	return name, hasName, password, nil
}

func (s *Server) register(name, password string) (Account, *apiError) {
	if s.invalid != nil {
		return Account{}, errorf(http.StatusInternalServerError, "M_UNKNOWN", "this server is misconfigured: "+s.invalid.Error())
	}
	id, err := s.newUserID(name)
	if err != nil {
		return Account{}, err
	}
	u := newUser(id, password, s.clock(), s.burst)
	if _, taken := s.users.LoadOrStore(id, u); taken {
		return Account{}, errUserInUse
	}
	return Account{UserID: id, AccessToken: s.issueToken(u), HomeServer: s.serverName}, nil
}

// registerFresh registers the next numbered localpart nobody has taken;
// a number is valid under the strict grammar and short.
func (s *Server) registerFresh(password string) (Account, *apiError) {
	for {
		acct, err := s.register(strconv.FormatUint(s.lastPicked.Add(1), 10), password)
		if err != errUserInUse {
			return acct, err
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
	buf := make([]byte, 0, 128)
	buf = append(buf, `{"user_id":`...)
	buf = appendString(buf, a.UserID)
	buf = append(buf, `,"access_token":`...)
	buf = appendString(buf, a.AccessToken)
	buf = append(buf, `,"home_server":`...)
	buf = appendString(buf, a.HomeServer)
	buf = append(buf, '}')
	writeJSON(w, http.StatusOK, buf)
}
