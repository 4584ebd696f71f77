// Package match holds gomega matchers for exchanges with a homeserver. They
// only judge; the specs decide what to assert. Every failure message ends
// with the whole exchange, as it went over the wire.
package match

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
)

// exchangeMatcher is a matcher over *client.Exchange described by what it
// wants and, after a match, what it got.
type exchangeMatcher struct {
	want  string
	check func(ex *client.Exchange) (ok bool, got string)
	got   string
	// miss says what a failed match found wrong, for the report's
	// findings; nil means the want and the kind of body found.
	miss   func(ex *client.Exchange) Miss
	missed *Miss
}

var _ types.GomegaMatcher = (*exchangeMatcher)(nil)

func (m *exchangeMatcher) Match(actual any) (bool, error) {
	ex, ok := actual.(*client.Exchange)
	if !ok {
		return false, fmt.Errorf("match: want a *client.Exchange, got %T", actual)
	}
	m.missed = nil
	if ex.Response == nil {
		m.got = fmt.Sprintf("no response (%v)", ex.Err)
		m.missed = &Miss{Rule: NoResponseRule, Found: "no response"}
		return false, nil
	}
	var matched bool
	matched, m.got = m.check(ex)
	if !matched {
		miss := Miss{Rule: m.want, Found: bodyKind(ex)}
		if m.miss != nil {
			miss = m.miss(ex)
		}
		m.missed = &miss
	}
	return matched, nil
}

func (m *exchangeMatcher) FailureMessage(actual any) string {
	return fmt.Sprintf("Expected %s, got %s.\n\n%s", m.want, m.got, actual)
}

func (m *exchangeMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected anything but %s, got %s.\n\n%s", m.want, m.got, actual)
}

// HaveStatus matches a response with the given status code.
func HaveStatus(code int) types.GomegaMatcher {
	return &exchangeMatcher{
		want: statusName(code),
		check: func(ex *client.Exchange) (bool, string) {
			return ex.Status() == code, describeStatus(ex)
		},
		miss: missStatus(code),
	}
}

// BeRejected matches any 4xx response: the server refused the request and,
// by the HTTP semantics of 4xx, changed nothing.
func BeRejected() types.GomegaMatcher {
	return &exchangeMatcher{
		want: "a 4xx status (the request refused)",
		check: func(ex *client.Exchange) (bool, string) {
			return ex.Status() >= 400 && ex.Status() < 500, describeStatus(ex)
		},
		miss: missStatus(4),
	}
}

// BeMatrixError matches a response with the given status whose body is a
// Matrix error object with the given errcode.
func BeMatrixError(status int, errcode string) types.GomegaMatcher {
	return &exchangeMatcher{
		want: fmt.Sprintf("%s with errcode %s", statusName(status), errcode),
		check: func(ex *client.Exchange) (bool, string) {
			m, err := matrixError(ex)
			if err != nil {
				return false, describeStatus(ex) + " whose body " + err.Error()
			}
			return ex.Status() == status && m.Errcode == errcode, describeStatus(ex)
		},
		miss: missErrcode(status, errcode),
	}
}

// HaveErrcodeIn matches a Matrix error body whose errcode is one of codes.
func HaveErrcodeIn(codes ...string) types.GomegaMatcher {
	return &exchangeMatcher{
		want: "a Matrix error with errcode " + strings.Join(codes, " or "),
		check: func(ex *client.Exchange) (bool, string) {
			m, err := matrixError(ex)
			if err != nil {
				return false, "a body that " + err.Error()
			}
			return slices.Contains(codes, m.Errcode), describeStatus(ex)
		},
		miss: func(ex *client.Exchange) Miss {
			return Miss{Pointer: "/errcode", Rule: "errcode " + strings.Join(codes, " or "), Found: bodyKind(ex)}
		},
	}
}

// HaveMatrixErrorBody matches a body that is a Matrix error object: a JSON
// object whose errcode is a string in the M_ namespace (or a namespaced
// custom code) and whose error, when present, is a string.
func HaveMatrixErrorBody() types.GomegaMatcher {
	return &exchangeMatcher{
		want: `a Matrix error body {"errcode": "M_...", "error": "..."}`,
		check: func(ex *client.Exchange) (bool, string) {
			if _, err := matrixError(ex); err != nil {
				return false, "a body that " + err.Error()
			}
			return true, "a Matrix error body"
		},
		miss: func(ex *client.Exchange) Miss {
			return Miss{Pointer: "/errcode", Rule: "Matrix error body", Found: bodyKind(ex)}
		},
	}
}

// HaveJSONContentType matches a response served as application/json.
func HaveJSONContentType() types.GomegaMatcher {
	return &exchangeMatcher{
		want: "Content-Type: application/json",
		check: func(ex *client.Exchange) (bool, string) {
			ct := ex.Header("Content-Type")
			media, _, err := mime.ParseMediaType(ct)
			return err == nil && media == "application/json", fmt.Sprintf("Content-Type: %q", ct)
		},
		miss: missHeader("Content-Type", "application/json", mediaType),
	}
}

// HaveHeaderListing matches a header whose comma-separated list holds every
// wanted item, compared without regard to case (header lists are tokens).
func HaveHeaderListing(name string, wanted ...string) types.GomegaMatcher {
	return &exchangeMatcher{
		want: fmt.Sprintf("header %s listing %s", name, strings.Join(wanted, ", ")),
		check: func(ex *client.Exchange) (bool, string) {
			got := ex.Header(name)
			items := map[string]bool{}
			for _, item := range strings.Split(got, ",") {
				items[strings.ToLower(strings.TrimSpace(item))] = true
			}
			for _, w := range wanted {
				if !items[strings.ToLower(w)] && !items["*"] {
					return false, fmt.Sprintf("%s: %q", name, got)
				}
			}
			return true, fmt.Sprintf("%s: %q", name, got)
		},
		miss: missHeader(name, "lists "+strings.Join(wanted, ", "), lacking(wanted)),
	}
}

// HaveHeader matches a header with exactly the given value.
func HaveHeader(name, value string) types.GomegaMatcher {
	return &exchangeMatcher{
		want: fmt.Sprintf("header %s: %s", name, value),
		check: func(ex *client.Exchange) (bool, string) {
			got := ex.Header(name)
			return got == value, fmt.Sprintf("%s: %q", name, got)
		},
		miss: missHeader(name, value, func(string) string { return "another value" }),
	}
}

// matrixError decodes a Matrix error body, saying what is wrong with it.
func matrixError(ex *client.Exchange) (client.MatrixError, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(ex.Response.Body, &fields); err != nil {
		return client.MatrixError{}, fmt.Errorf("is not a JSON object (%v)", err)
	}
	var m client.MatrixError
	if err := json.Unmarshal(fields["errcode"], &m.Errcode); err != nil || m.Errcode == "" {
		return m, fmt.Errorf("has no string errcode")
	}
	if raw, ok := fields["error"]; ok {
		if err := json.Unmarshal(raw, &m.Error); err != nil {
			return m, fmt.Errorf("has an error field that is not a string")
		}
	}
	return m, nil
}

func statusName(code int) string {
	return fmt.Sprintf("status %d %s", code, http.StatusText(code))
}

// describeStatus names the status and, for a Matrix error, its errcode.
func describeStatus(ex *client.Exchange) string {
	s := statusName(ex.Status())
	if m, err := matrixError(ex); err == nil {
		s += " " + m.Errcode
	}
	return s
}
