package suite

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/onsi/gomega/matchers"
	"github.com/onsi/gomega/types"

	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/match"
	"github.com/mxpresence/mxpresence/suite/report"
)

// Behaviour findings. A schema breach or a failed exchange matcher says by
// itself what was wrong with a response; a failed check of behaviour (an
// event that never came, a filter that let everything through, a refused
// write that landed later) does not, so its signature is made from what
// the check says it checked and what it saw instead, against the last
// response the requirement read. Nothing in it is the requirement's: a
// check written the same way in two requirements that meets the same
// response is one finding. Whatever names a user, a room or a time is
// written generically, so the signature is the same on every run and every
// server.
//
// Where the words come from, so that a new requirement gets findings
// without work of its own:
//   - an assertion: the description's format string (before any %
//     argument is filled in, so no user ID) and what the matcher saw, e.g.
//     "m.presence events through a filter that excludes them: found not
//     empty";
//   - await, hold and the streams' waits: what they wait or watch for, and
//     what the last read showed;
//   - anything else that fails a requirement (a direct s.fail, a panic, a
//     timeout): the first line of its message, or how the spec ended.

// saw remembers the last response a requirement read, for the behaviour
// findings it may meet.
func (s *Spec) saw(ex *client.Exchange) {
	s.run.findings.saw(s.req.ID, operationOf(s.client.API(), ex), ex.Status(), ex.SchemaErr != nil)
}

// behaviourFinding records that the requirement's check, rule, saw found
// instead, against the last response it read.
func (s *Spec) behaviourFinding(rule, found string) {
	s.run.findings.addBehaviour(s.req.ID, rule, found)
}

// failBehaviour records a behaviour finding and fails the requirement.
func (s *Spec) failBehaviour(rule, found, message string, callerSkip ...int) {
	s.behaviourFinding(rule, found)
	skip := 1
	if len(callerSkip) > 0 {
		skip += callerSkip[0]
	}
	s.fail(message, skip)
}

var (
	// userOrRoom matches user, room and event IDs and aliases.
	userOrRoom = regexp.MustCompile(`[@!$#][A-Za-z0-9._=/+\-]+:[A-Za-z0-9.\-\[\]]+(:[0-9]+)?`)
	// moment matches durations and numbers of four digits or more: times,
	// counters, IDs (a status code, of three, stays).
	moment = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|ms|s|m|h)\b|\b[0-9]{4,}\b`)
	// formatVerb matches a verb of a format string.
	formatVerb = regexp.MustCompile(`%[-+# 0-9.*\[\]]*[a-zA-Z%]`)
)

// stable writes a text so that it names no user, room or moment, on one
// line: a behaviour finding's words.
func stable(text string) string {
	text, _, _ = strings.Cut(strings.TrimSpace(text), "\n")
	text = userOrRoom.ReplaceAllStringFunc(text, func(id string) string {
		switch id[0] {
		case '@':
			return "{user}"
		case '!':
			return "{room}"
		}
		return "{id}"
	})
	text = moment.ReplaceAllString(text, "N")
	return strings.TrimRight(strings.TrimSpace(text), ".:;,")
}

// describedRule is the rule an assertion's description names: its format
// string, the arguments left out, on one line; "" when there is none or it
// is all arguments.
func describedRule(description []any) string {
	if len(description) == 0 {
		return ""
	}
	format, ok := description[0].(string)
	if !ok {
		return ""
	}
	format, _, _ = strings.Cut(format, "\n")
	rule := stable(formatVerb.ReplaceAllString(format, "…"))
	if !strings.ContainsFunc(rule, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) {
		return ""
	}
	return rule
}

// matcherMiss says, in words that name no value, what a gomega matcher
// wanted and what it found when it failed.
func matcherMiss(m types.GomegaMatcher, negated bool) (want, found string) {
	pick := func(want, found, negatedFound string) (string, string) {
		if negated {
			return "not " + want, negatedFound
		}
		return want, found
	}
	switch m.(type) {
	case *matchers.BeEmptyMatcher:
		return pick("empty", "not empty", "empty")
	case *matchers.EqualMatcher, *matchers.BeEquivalentToMatcher:
		return pick("an equal value", "another value", "the value")
	case *matchers.ContainElementMatcher:
		return pick("the element", "element missing", "element present")
	case *matchers.HaveKeyMatcher:
		return pick("the key", "key missing", "key present")
	case *matchers.HaveOccurredMatcher:
		return pick("an error", "no error", "error")
	case *matchers.SucceedMatcher:
		return pick("success", "error", "success")
	case *matchers.BeNilMatcher:
		return pick("nil", "a value", "nil")
	case *matchers.BeNumericallyMatcher:
		return pick("a number in range", "out of range", "in range")
	case *matchers.HaveLenMatcher:
		return pick("the length", "another length", "that length")
	case *matchers.HavePrefixMatcher:
		return pick("the prefix", "another prefix", "that prefix")
	case *matchers.BeTrueMatcher:
		return pick("true", "false", "true")
	case *matchers.BeFalseMatcher:
		return pick("false", "true", "false")
	}
	name := strings.TrimSuffix(reflect.Indirect(reflect.ValueOf(m)).Type().Name(), "Matcher")
	return pick(name, "no match", "a match")
}

// recordMiss records what a failed assertion found wrong: the exchange
// matcher's miss when it has one, else a behaviour finding.
func (s *Spec) recordMiss(m types.GomegaMatcher, negated bool, actual any, description []any) {
	if ex, ok := actual.(*client.Exchange); ok {
		s.saw(ex)
		if miss, found := match.Missed(m); found && !negated {
			s.run.findings.add(s.req.ID, report.Signature{
				Operation: operationOf(s.client.API(), ex), Status: ex.Status(),
				Pointer: miss.Pointer, Rule: miss.Rule, Found: miss.Found,
			})
			return
		}
	}
	want, found := matcherMiss(m, negated)
	rule := describedRule(description)
	if rule == "" {
		kind := fmt.Sprintf("%T", actual)
		if _, isErr := actual.(error); isErr {
			kind = "error"
		}
		rule = fmt.Sprintf("%s (%s)", want, kind)
	}
	s.behaviourFinding(rule, found)
}
