package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/safetext"
)

// Exchange is one request and what came back, recorded as it went over the
// wire. Secrets stay in the record, so the client can use a token it was
// given; String, the only way an exchange is shown, redacts them.
type Exchange struct {
	Operation Operation // zero when the request is not one of the API's operations
	Request   RecordedRequest
	Response  *RecordedResponse // nil when no response came
	Err       error             // the request failed or the body was cut short
	Duration  time.Duration

	// SchemaErr is set when the status is one the operation documents and
	// the body breaks that status's schema.
	SchemaErr error
	// SchemaDoc names the document the body was validated against.
	SchemaDoc string
	// Undocumented is set when the operation does not document the status.
	// That alone is no fault; a failure message says it.
	Undocumented *schemas.UndocumentedStatusError
}

// RecordedRequest is a request as sent.
type RecordedRequest struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// RecordedResponse is a response as received.
type RecordedResponse struct {
	Status int
	Proto  string
	Header http.Header
	Body   []byte
}

// Status is the response status, or 0 when no response came.
func (e *Exchange) Status() int {
	if e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// Header returns a response header, or "" when no response came.
func (e *Exchange) Header(name string) string {
	if e.Response == nil {
		return ""
	}
	return e.Response.Header.Get(name)
}

// DecodeJSON decodes the response body into v.
func (e *Exchange) DecodeJSON(v any) error {
	if e.Response == nil {
		return fmt.Errorf("no response: %w", e.Err)
	}
	if err := json.Unmarshal(e.Response.Body, v); err != nil {
		return fmt.Errorf("response body is not the JSON expected: %w", err)
	}
	return nil
}

// MatrixError is the error object of the Matrix spec.
type MatrixError struct {
	Errcode      string `json:"errcode"`
	Error        string `json:"error"`
	RetryAfterMS *int64 `json:"retry_after_ms,omitempty"`
}

// MatrixError decodes the body as a Matrix error.
func (e *Exchange) MatrixError() (MatrixError, error) {
	var m MatrixError
	err := e.DecodeJSON(&m)
	return m, err
}

// maxShownBody keeps a failure message readable when a server answers with
// a page of HTML.
const maxShownBody = 4096

// String shows the exchange as it went over the wire, access tokens and
// passwords redacted: the request line, headers and body, then the status
// line, headers and body, then what the spec says of it. Control
// characters the server sent are escaped, so that printing an exchange
// cannot paint over the terminal.
func (e *Exchange) String() string { return safetext.Escape(e.wire()) }

func (e *Exchange) wire() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--> %s %s\n", e.Request.Method, redactURL(e.Request.URL))
	writeHeaders(&b, redactHeader(e.Request.Header))
	writeBody(&b, redactBody(e.Request.Body))
	if e.Response == nil {
		fmt.Fprintf(&b, "<-- no response after %s: %v\n", e.Duration.Round(time.Millisecond), e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "<-- %s %d %s (%s)\n", e.Response.Proto, e.Response.Status, http.StatusText(e.Response.Status), e.Duration.Round(time.Millisecond))
	writeHeaders(&b, e.Response.Header)
	writeBody(&b, redactBody(e.Response.Body))
	if e.Err != nil {
		fmt.Fprintf(&b, "    !! reading the response failed: %v\n", e.Err)
	}
	if e.Undocumented != nil {
		fmt.Fprintf(&b, "    note: %v\n", e.Undocumented)
	}
	if e.SchemaErr != nil {
		fmt.Fprintf(&b, "    !! the body breaks %s for %d: %v\n", e.SchemaLabel(), e.Response.Status, e.SchemaErr)
	}
	return b.String()
}

// SchemaLabel says whose rule the body breaks, and in which document:
// "the spec's schema" or "mxpresence's own rule", never the one for the
// other.
func (e *Exchange) SchemaLabel() string {
	label := schemas.BreachLabel(e.SchemaErr)
	if e.SchemaDoc != "" {
		label += " in " + e.SchemaDoc
	}
	return label
}

func writeHeaders(b *strings.Builder, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(b, "    %s: %s\n", name, v)
		}
	}
}

func writeBody(b *strings.Builder, body []byte) {
	if len(body) == 0 {
		return
	}
	shown, more := body, 0
	if len(shown) > maxShownBody {
		shown, more = shown[:maxShownBody], len(body)-maxShownBody
	}
	b.WriteString("\n")
	for _, line := range strings.Split(string(shown), "\n") {
		fmt.Fprintf(b, "    %s\n", line)
	}
	if more > 0 {
		fmt.Fprintf(b, "    ... %d more bytes\n", more)
	}
	b.WriteString("\n")
}

const redacted = "REDACTED"

// redactURL hides the access token in a URL. It works on the raw query,
// piece by piece between "&" and ";": url.Query drops a pair holding ";",
// so a lookup there would print a token sent after one.
func redactURL(u *url.URL) string {
	if u.RawQuery == "" {
		return u.String()
	}
	c := *u
	c.RawQuery = redactQuery(u.RawQuery)
	return c.String()
}

// redactQuery replaces the value of every access_token pair in a raw
// query, its key matched after unescaping, and keeps the rest as it is.
func redactQuery(raw string) string {
	var b strings.Builder
	for raw != "" {
		piece, sep := raw, ""
		if end := strings.IndexAny(raw, "&;"); end >= 0 {
			piece, sep, raw = raw[:end], raw[end:end+1], raw[end+1:]
		} else {
			raw = ""
		}
		b.WriteString(redactPair(piece))
		b.WriteString(sep)
	}
	return b.String()
}

func redactPair(pair string) string {
	decoded, err := url.QueryUnescape(pair)
	if err != nil {
		decoded = pair
	}
	// Decoded whole, so an escaped "=" still splits key from value.
	k, v, _ := strings.Cut(decoded, "=")
	if strings.TrimSpace(k) != "access_token" || v == "" {
		return pair
	}
	return "access_token=" + redacted
}

func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	if out.Get("Authorization") != "" {
		out.Set("Authorization", "Bearer "+redacted)
	}
	return out
}

// secretFields matches the values of JSON fields that hold secrets, in
// request and response bodies alike (registration and login carry them).
var secretFields = regexp.MustCompile(`("(?:access_token|password|refresh_token|mac)"\s*:\s*)"(?:[^"\\]|\\.)*"`)

func redactBody(body []byte) []byte {
	return secretFields.ReplaceAll(body, []byte(`$1"`+redacted+`"`))
}
