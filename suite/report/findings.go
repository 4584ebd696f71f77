package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Signature says what was wrong with a response in terms that do not depend
// on which requirement met it, on the users it acted as or on timing: the
// same defect of a server gives the same signature on every run.
type Signature struct {
	// Operation is the operation's method and path template, e.g.
	// "GET /presence/{userId}/status".
	Operation string `json:"operation"`
	// Status is the response's status; 0 when no response came.
	Status int `json:"status"`
	// Pointer is where in the response: a JSON pointer into the body, with
	// array indices written as *, or "header NAME".
	Pointer string `json:"pointer"`
	// Rule is what was broken: a JSON Schema keyword (type, enum,
	// required, ...), or what a requirement expected (status 200, errcode
	// M_FORBIDDEN).
	Rule string `json:"rule"`
	// Found is the kind of value found there: a JSON type, "empty string",
	// "absent", an errcode, a media type.
	Found string `json:"found"`
}

func (s Signature) String() string {
	status := "no response"
	if s.Status != 0 {
		status = fmt.Sprint(s.Status)
	}
	where := s.Pointer
	if where == "" {
		where = "(body)"
	}
	return fmt.Sprintf("%s -> %s  %s  %s: found %s", s.Operation, status, where, s.Rule, s.Found)
}

func compareSignatures(a, b Signature) int {
	return cmp.Or(
		strings.Compare(a.Operation, b.Operation),
		cmp.Compare(a.Status, b.Status),
		strings.Compare(a.Pointer, b.Pointer),
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.Found, b.Found),
	)
}

// Finding is one distinct violation: every response of a run that broke the
// same rule at the same place in the same way.
type Finding struct {
	Signature
	// Responses counts the responses that showed it.
	Responses int `json:"responses"`
	// Requirements lists the IDs of the requirements that met it, sorted.
	Requirements []string `json:"requirements"`
}

// Defect is the part of a signature that names one defect: the response
// (operation, status, what was found where) and the kind of rule it breaks,
// without the wording of what each requirement wanted. Two requirements
// that want different things of the same response (one a 404, the other a
// 404 with M_NOT_FOUND; one M_NOT_JSON, the other any code for bad input)
// meet one defect, and the report lists it once.
func (s Signature) Defect() Signature {
	s.Rule = ruleKind(s.Rule)
	return s
}

// ruleKind is the kind of a rule: a status, an errcode, or the rule
// itself (a schema keyword, a behaviour).
func ruleKind(rule string) string {
	for _, kind := range []string{"status", "errcode"} {
		if strings.HasPrefix(rule, kind+" ") {
			return kind
		}
	}
	return rule
}

// ruleSeparator joins the wordings of one rule that several requirements
// gave one defect.
const ruleSeparator = " | "

// Findings gathers findings as a run meets them. The zero value is empty
// and ready; it is not safe for concurrent use on its own.
type Findings struct {
	byKey map[Signature]*Finding // by Defect
	rules map[Signature][]string // the wordings met, sorted
}

// Add counts one response showing sig, met by a requirement.
func (f *Findings) Add(sig Signature, requirement string) {
	f.merge(Finding{Signature: sig, Responses: 1, Requirements: []string{requirement}})
}

func (f *Findings) merge(in Finding) {
	if f.byKey == nil {
		f.byKey, f.rules = map[Signature]*Finding{}, map[Signature][]string{}
	}
	key := in.Defect()
	got, ok := f.byKey[key]
	if !ok {
		got = &Finding{Signature: in.Signature}
		f.byKey[key] = got
	}
	for _, rule := range strings.Split(in.Rule, ruleSeparator) {
		if !slices.Contains(f.rules[key], rule) {
			f.rules[key] = append(f.rules[key], rule)
			slices.Sort(f.rules[key])
		}
	}
	got.Rule = strings.Join(f.rules[key], ruleSeparator)
	got.Responses += in.Responses
	for _, id := range in.Requirements {
		if !slices.Contains(got.Requirements, id) {
			got.Requirements = append(got.Requirements, id)
		}
	}
	slices.Sort(got.Requirements)
}

// List returns the findings in a stable order: by operation, status,
// pointer, rule and kind found.
func (f *Findings) List() []Finding {
	out := make([]Finding, 0, len(f.byKey))
	for _, fd := range f.byKey {
		out = append(out, *fd)
	}
	slices.SortFunc(out, func(a, b Finding) int { return compareSignatures(a.Signature, b.Signature) })
	return out
}

// MergeFindings joins the findings of several runs (the shards of a
// parallel run): counts add up and requirement lists join.
func MergeFindings(lists ...[]Finding) []Finding {
	var all Findings
	for _, list := range lists {
		for _, fd := range list {
			all.merge(fd)
		}
	}
	return all.List()
}

// Signatures lists the signatures of the findings, in order: what two runs
// against the same server should agree on.
func (r *Result) Signatures() []Signature {
	out := make([]Signature, len(r.Findings))
	for i, fd := range r.Findings {
		out[i] = fd.Signature
	}
	return out
}

// findingsMetBy lists the findings any of the entries met.
func (r *Result) findingsMetBy(entries []Entry) []Finding {
	var out []Finding
	for _, fd := range r.Findings {
		if slices.ContainsFunc(entries, func(e Entry) bool { return slices.Contains(fd.Requirements, e.ID) }) {
			out = append(out, fd)
		}
	}
	return out
}
