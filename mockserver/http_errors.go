package mockserver

import (
	"net/http"
	"strconv"
	"time"
)

// apiError is a Matrix error: an HTTP status with the JSON object
// {"errcode": ..., "error": ...} that travels with it. Functions that can
// fail a request return *apiError rather than error, so that the status and
// errcode are decided where the failure is understood.
type apiError struct {
	status  int
	errcode string
	message string
}

func (e *apiError) Error() string { return e.errcode + ": " + e.message }

func errorf(status int, errcode, message string) *apiError {
	return &apiError{status: status, errcode: errcode, message: message}
}

func badJSON(message string) *apiError { return errorf(http.StatusBadRequest, "M_BAD_JSON", message) }

// The errors that never vary. Each is shared, so none may be modified.
var (
	errNotJSON   = errorf(http.StatusBadRequest, "M_NOT_JSON", "the body is not JSON text in UTF-8")
	errNotObject = badJSON("the body must be a JSON object")
	errTooLarge  = errorf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE",
		"the body is larger than "+strconv.Itoa(maxBodyBytes)+" bytes")
	errMissingToken  = errorf(http.StatusUnauthorized, "M_MISSING_TOKEN", "no access token was given")
	errUnknownToken  = errorf(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "the access token is not recognised")
	errMixedToken    = errorf(http.StatusUnauthorized, "M_MISSING_TOKEN", "give the access token once: in the access_token query parameter or in an Authorization: Bearer header, not both")
	errBadAuthHeader = errorf(http.StatusUnauthorized, "M_MISSING_TOKEN", "the Authorization header must be one header of the form \"Bearer TOKEN\"")
	// One answer for "no such user" and "not visible to you", so that the
	// response cannot tell a client which users exist.
	errNoPresence       = errorf(http.StatusNotFound, "M_NOT_FOUND", "there is no presence state for this user that you may see")
	errUnrecognized     = errorf(http.StatusNotFound, "M_UNRECOGNIZED", "unrecognised request")
	errMethodNotAllowed = errorf(http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "this path does not allow that method")
	errBadLoginType     = errorf(http.StatusBadRequest, "M_UNKNOWN", "bad login type: only m.login.password is supported")
	// One answer for "no such user" and "wrong password", for the same reason.
	errLoginFailed = errorf(http.StatusForbidden, "M_FORBIDDEN", "invalid user or password")
	errUserInUse   = errorf(http.StatusBadRequest, "M_USER_IN_USE", "that user ID is already taken")
)

func writeError(w http.ResponseWriter, e *apiError) {
	buf := make([]byte, 0, 64+len(e.message))
	buf = append(buf, `{"errcode":`...)
	buf = appendString(buf, e.errcode)
	buf = append(buf, `,"error":`...)
	buf = appendString(buf, e.message)
	buf = append(buf, '}')
	w.WriteHeader(e.status)
	w.Write(buf)
}

// writeRateLimited answers 429 with the wait in the body, as the spec's
// M_LIMIT_EXCEEDED carries it, and in Retry-After for HTTP-level clients.
func writeRateLimited(w http.ResponseWriter, wait time.Duration) {
	ms := (wait + time.Millisecond - 1) / time.Millisecond
	ms = max(ms, 1)
	secs := (ms + 999) / 1000
	w.Header().Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	buf := make([]byte, 0, 128)
	buf = append(buf, `{"errcode":"M_LIMIT_EXCEEDED","error":"too many requests","retry_after_ms":`...)
	buf = strconv.AppendInt(buf, int64(ms), 10)
	buf = append(buf, '}')
	w.WriteHeader(http.StatusTooManyRequests)
	w.Write(buf)
}

// writeJSON writes a body that is already JSON.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	w.Write(body)
}

var emptyObject = []byte("{}")
