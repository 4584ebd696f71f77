package suite

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/schemas"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
)

// A requirement fails at the first thing it sees wrong, so which
// requirements fail can depend on timing; what was wrong does not. Findings
// keep the second: every violation a spec meets (a schema breach on any
// response, or a failed exchange matcher) is reduced to a signature that
// names no user, token or time, and the report counts each signature once.

// findingLog gathers the findings of a run from its specs.
type findingLog struct {
	mu       sync.Mutex
	findings report.Findings
	// met: the requirements that met a finding; last: the last response
	// each requirement read, which its behaviour findings are about.
	met  map[string]bool
	last map[string]lastRead
}

// lastRead is the response a requirement read last, as a behaviour finding
// names it.
type lastRead struct {
	sig report.Signature
	// broke: it broke its schema, which its schema finding already names.
	broke bool
}

func (l *findingLog) add(requirement string, sigs ...report.Signature) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[report.Signature]bool{} // one response counts once per signature
	for _, sig := range sigs {
		if !seen[sig] {
			seen[sig] = true
			l.findings.Add(sig, requirement)
		}
	}
	if len(sigs) > 0 {
		if l.met == nil {
			l.met = map[string]bool{}
		}
		l.met[requirement] = true
	}
}

// saw notes the last response a requirement read.
func (l *findingLog) saw(requirement, operation string, status int, broke bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last == nil {
		l.last = map[string]lastRead{}
	}
	l.last[requirement] = lastRead{report.Signature{Operation: operation, Status: status}, broke}
}

// addBehaviour records a behaviour finding against the last response the
// requirement read. When that response broke its schema, the schema
// finding already says what is wrong with it, and the check that then
// failed on it (a state that reads wrong because a field is malformed) is
// the same defect seen again: it adds nothing, or a defect that comes and
// goes would add a finding for each check it happened to meet.
func (l *findingLog) addBehaviour(requirement, rule, found string) {
	l.mu.Lock()
	last, ok := l.last[requirement]
	l.mu.Unlock()
	if ok && last.broke && l.has(requirement) {
		return
	}
	sig := last.sig
	if !ok {
		sig.Operation = "(no request)"
	}
	sig.Rule, sig.Found = stable(rule), stable(found)
	l.add(requirement, sig)
}

// has reports whether a requirement has met a finding.
func (l *findingLog) has(requirement string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.met[requirement]
}

func (l *findingLog) list() []report.Finding {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.findings.List()
}

// schemaFindings are the signatures of the ways a response breaks its
// schema: one per violation. A breach of mxpresence's own rule says so in
// its rule, so a finding never passes it off as the spec's.
func schemaFindings(api client.API, ex *client.Exchange) []report.Signature {
	sigs := specSchemaFindings(api, ex)
	var own *schemas.OwnRuleError
	if errors.As(ex.SchemaErr, &own) {
		for i := range sigs {
			sigs[i].Rule = ownRulePrefix + sigs[i].Rule
		}
	}
	return sigs
}

// ownRulePrefix labels the rule of a finding that breaks mxpresence's own
// rule rather than the spec's schema.
const ownRulePrefix = "mxpresence's own rule: "

func specSchemaFindings(api client.API, ex *client.Exchange) []report.Signature {
	sig := report.Signature{Operation: operationOf(api, ex), Status: ex.Status()}
	var invalid *schemas.ValidationError
	var notJSON *schemas.InvalidJSONError
	switch {
	case errors.As(ex.SchemaErr, &invalid):
		sigs := make([]report.Signature, 0, len(invalid.Violations))
		for _, v := range invalid.Violations {
			if echoed(v, invalid.Violations) {
				continue
			}
			s := sig
			s.Pointer, s.Rule, s.Found = anyIndex(v.Pointer), v.Rule, kindOf(v)
			sigs = append(sigs, s)
		}
		return sigs
	case errors.As(ex.SchemaErr, &notJSON):
		sig.Rule, sig.Found = "JSON", "body not JSON"
		if len(strings.TrimSpace(string(ex.Response.Body))) == 0 {
			sig.Found = "empty body"
		}
	default:
		sig.Rule, sig.Found = "schema", "unreadable body"
	}
	return []report.Signature{sig}
}

// echoed reports an allOf violation that only repeats, one level up, a
// violation of one of its parts: the part says what is wrong.
func echoed(v schemas.Violation, all []schemas.Violation) bool {
	if v.Rule != "allOf" {
		return false
	}
	for _, other := range all {
		if other.Rule != "allOf" && (other.Pointer == v.Pointer || strings.HasPrefix(other.Pointer, v.Pointer+"/")) {
			return true
		}
	}
	return false
}

// schemaBreach says how a body breaks its schema, violations first (what a
// reader wants on the first line), then where the schema is.
func schemaBreach(err error) string {
	var invalid *schemas.ValidationError
	if !errors.As(err, &invalid) {
		return err.Error()
	}
	parts := make([]string, len(invalid.Violations))
	for i, v := range invalid.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "; ") + "\n(the schema at " + invalid.Schema + ")"
}

// kindOf names the kind of value a violation found: its JSON type, with
// the empty string apart (servers that fill in a record before it is
// written show it), or absent.
func kindOf(v schemas.Violation) string {
	if v.Missing {
		return "absent"
	}
	switch x := v.Value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		if x == "" {
			return "empty string"
		}
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	switch reflect.ValueOf(v.Value).Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String: // json.Number
		return "number"
	}
	return fmt.Sprintf("%T", v.Value)
}

// anyIndex writes array indices in a pointer as *: the third event of a
// list breaking a rule is the same defect as the first doing so.
func anyIndex(pointer string) string {
	tokens := strings.Split(pointer, "/")
	for i, t := range tokens {
		if t != "" && strings.Trim(t, "0123456789") == "" {
			tokens[i] = "*"
		}
	}
	return strings.Join(tokens, "/")
}

// operationOf names what an exchange called without naming any user or
// room: the operation's method and path template, or the request's path
// (relative to the API prefix) with user and room IDs replaced.
func operationOf(api client.API, ex *client.Exchange) string {
	method := ex.Request.Method
	if ex.Operation != (client.Operation{}) {
		if method == "" {
			method = ex.Operation.Method
		}
		return method + " " + ex.Operation.Path
	}
	path := ""
	if ex.Request.URL != nil {
		path = strings.TrimPrefix(ex.Request.URL.EscapedPath(), api.Prefix)
	}
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		switch {
		case strings.HasPrefix(seg, "@"), strings.HasPrefix(seg, "%40"):
			segments[i] = "{userId}"
		case strings.HasPrefix(seg, "!"), strings.HasPrefix(seg, "%21"):
			segments[i] = "{roomId}"
		}
	}
	return method + " " + strings.Join(segments, "/")
}

// findingAssertion is a gomega assertion that, when an exchange matcher of
// package match fails, records what it found wrong before the failure ends
// the spec.
type findingAssertion struct {
	types.Assertion
	spec   *Spec
	actual any
}

func (a findingAssertion) To(m types.GomegaMatcher, optionalDescription ...any) bool {
	return a.Assertion.To(a.recording(m, false, optionalDescription), optionalDescription...)
}

func (a findingAssertion) Should(m types.GomegaMatcher, optionalDescription ...any) bool {
	return a.Assertion.Should(a.recording(m, false, optionalDescription), optionalDescription...)
}

func (a findingAssertion) NotTo(m types.GomegaMatcher, optionalDescription ...any) bool {
	return a.Assertion.NotTo(a.recording(m, true, optionalDescription), optionalDescription...)
}

func (a findingAssertion) ToNot(m types.GomegaMatcher, optionalDescription ...any) bool {
	return a.Assertion.ToNot(a.recording(m, true, optionalDescription), optionalDescription...)
}

func (a findingAssertion) ShouldNot(m types.GomegaMatcher, optionalDescription ...any) bool {
	return a.Assertion.ShouldNot(a.recording(m, true, optionalDescription), optionalDescription...)
}

// recording wraps the matcher so that its failure leaves a finding.
func (a findingAssertion) recording(m types.GomegaMatcher, negated bool, description []any) types.GomegaMatcher {
	return &recordingMatcher{GomegaMatcher: m, spec: a.spec, negated: negated, description: description}
}

type recordingMatcher struct {
	types.GomegaMatcher
	spec        *Spec
	negated     bool
	description []any
}

func (m *recordingMatcher) Match(actual any) (bool, error) {
	ok, err := m.GomegaMatcher.Match(actual)
	if ok == m.negated && err == nil {
		m.spec.recordMiss(m.GomegaMatcher, m.negated, actual, m.description)
	}
	return ok, err
}
