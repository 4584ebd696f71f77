package match

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"

	"github.com/onsi/gomega/matchers"
	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
)

// Miss is what a failed match found wrong with an exchange, in terms that
// stay the same from run to run (no user IDs, tokens or timings), so that
// the report can count one defect once however many requirements meet it.
type Miss struct {
	// Pointer is where: a JSON pointer into the body, "" for the status
	// or the body as a whole, or "header NAME".
	Pointer string
	// Rule is what was expected, e.g. "status 200", "errcode M_FORBIDDEN".
	Rule string
	// Found is the kind of thing found instead: an errcode, a JSON type, a
	// media type, "absent", "no response".
	Found string
}

// Missed returns what a matcher of this package found wrong in the exchange
// of its last failed match, looking inside gomega.And and gomega.Or, which
// requirements use to ask for a status and an errcode at once; false when
// it has not failed or is not one of this package's matchers.
func Missed(m types.GomegaMatcher) (Miss, bool) {
	switch m := m.(type) {
	case *exchangeMatcher:
		if m.missed != nil {
			return *m.missed, true
		}
	case *matchers.AndMatcher:
		return firstMissed(m.Matchers)
	case *matchers.OrMatcher:
		return firstMissed(m.Matchers)
	}
	return Miss{}, false
}

func firstMissed(ms []types.GomegaMatcher) (Miss, bool) {
	for _, m := range ms {
		if miss, ok := Missed(m); ok {
			return miss, true
		}
	}
	return Miss{}, false
}

// missStatus is a wrong status: the body says what came instead.
func missStatus(want int) func(*client.Exchange) Miss {
	return func(ex *client.Exchange) Miss { return Miss{Rule: StatusRule(want, ex.Status()), Found: bodyKind(ex)} }
}

// StatusRule names what a response with status found broke when want was
// due, so that every requirement meeting the same response words it the
// same way, whatever it asked for exactly: where the class is wrong (a
// success where a refusal was due, say), the class alone, "status 4xx";
// where only the code is, the code, "status 404". The errcode a requirement
// also wanted is not part of it: a wrong status is one defect, whichever
// error body would have come with the right one. A want below 100 names a
// class: 4 is any 4xx.
func StatusRule(want, found int) string {
	class := want
	if want >= 100 {
		class = want / 100
	}
	if want < 100 || found/100 != class {
		return fmt.Sprintf("status %dxx", class)
	}
	return fmt.Sprintf("status %d", want)
}

// NoResponseRule is what an exchange that got no response broke, whatever
// its requirement wanted of the response.
const NoResponseRule = "a response within --timeout"

// missErrcode is a wrong status or, with the right status, a wrong errcode.
func missErrcode(status int, errcode string) func(*client.Exchange) Miss {
	return func(ex *client.Exchange) Miss {
		if ex.Status() != status {
			return Miss{Rule: StatusRule(status, ex.Status()), Found: bodyKind(ex)}
		}
		return Miss{Pointer: "/errcode", Rule: "errcode " + errcode, Found: bodyKind(ex)}
	}
}

// missHeader is a header that is absent or not what was expected.
func missHeader(name, rule string, found func(value string) string) func(*client.Exchange) Miss {
	return func(ex *client.Exchange) Miss {
		value := ex.Header(name)
		if value == "" {
			return Miss{Pointer: "header " + name, Rule: rule, Found: "absent"}
		}
		return Miss{Pointer: "header " + name, Rule: rule, Found: found(value)}
	}
}

// mediaType is a Content-Type without its parameters.
func mediaType(value string) string {
	media, _, err := mime.ParseMediaType(value)
	if err != nil {
		return "unparsable"
	}
	return media
}

// lacking names the first wanted item a header list lacks.
func lacking(wanted []string) func(string) string {
	return func(value string) string {
		items := map[string]bool{}
		for _, item := range strings.Split(value, ",") {
			items[strings.ToLower(strings.TrimSpace(item))] = true
		}
		for _, w := range wanted {
			if !items[strings.ToLower(w)] {
				return "lacks " + w
			}
		}
		return "all listed"
	}
}

// bodyKind says what a body is, for a finding: its errcode when it is a
// Matrix error, else its JSON type, or that it is empty or not JSON.
func bodyKind(ex *client.Exchange) string {
	if m, err := matrixError(ex); err == nil {
		return m.Errcode
	}
	body := bytes.TrimSpace(ex.Response.Body)
	if len(body) == 0 {
		return "empty body"
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "body not JSON"
	}
	switch v.(type) {
	case map[string]any:
		return "object without errcode"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}
