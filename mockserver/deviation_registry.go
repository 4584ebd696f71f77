package mockserver

import (
	"net/http"
	"slices"
	"strings"

	"github.com/mxpresence/mxpresence/mockserver/federation"
)

// A Deviation is a named, documented departure from the reference
// behaviour. A Fault is one a conformant homeserver must not show: the
// conformance suite has to catch every fault, or it cannot fail. A Variation
// is a choice the spec leaves open: the suite has to pass it at MUST level,
// or it fails servers it should not.
//
// Each deviation wraps the reference server as middleware, reaching its
// internals where it must (to act as another user, say), so the reference
// handlers carry no trace of them.
type Deviation struct {
	Name        string
	Kind        DeviationKind
	Category    string // what kind of break a fault is, e.g. "auth not checked"
	Description string
	// CaughtBy lists the requirements that must fail when the fault is on.
	// Empty for variations, and for transient faults.
	CaughtBy []string
	// Transient marks a fault whose effect comes and goes, so that the
	// requirements meeting it differ from run to run: it declares none, and
	// the run must fail all the same.
	Transient bool
	// CheckWith is the API version whose suite run must catch the fault:
	// v1, r0 or v3; empty means v1.
	CheckWith string
	// Timers marks a deviation of the idle and offline timers: its suite
	// run must run the timer requirements (mxpresence test --timers).
	Timers bool
	wrap   func(s *Server, next http.Handler) http.Handler
	// federate sets the federation's tweaks, for the deviations of the
	// Server-Server API; nil for the others.
	federate func(s *Server, tw *federation.Tweaks)
}

// DeviationKind tells faults from variations.
type DeviationKind int

const (
	Fault DeviationKind = iota
	Variation
)

func (k DeviationKind) String() string {
	if k == Variation {
		return "variation"
	}
	return "fault"
}

// Faults lists every fault, by name.
func Faults() []Deviation { return sorted(allFaults()) }

// allFaults gathers the faults of every kind.
func allFaults() []Deviation {
	return slices.Concat(faults(), laterFaults(), coverageFaults(), federationFaults(), deviceFaults())
}

// Variations lists every legitimate variation, by name.
func Variations() []Deviation { return sorted(allVariations()) }

// allVariations gathers the variations of every kind.
func allVariations() []Deviation {
	return slices.Concat(variations(), orderVariations(), federationVariations(), deviceVariations())
}

// LookupDeviation finds a fault or variation by name.
func LookupDeviation(name string) (Deviation, bool) {
	for _, d := range append(allFaults(), allVariations()...) {
		if d.Name == name {
			return d, true
		}
	}
	return Deviation{}, false
}

func sorted(ds []Deviation) []Deviation {
	slices.SortFunc(ds, func(a, b Deviation) int { return strings.Compare(a.Name, b.Name) })
	return ds
}

// deviate wraps the reference handler in each deviation, the first given
// outermost; nil when there are none, so the reference pays nothing.
func (s *Server) deviate(ds []Deviation) http.Handler {
	if len(ds) == 0 {
		return nil
	}
	var h http.Handler = http.HandlerFunc(s.serve)
	for _, d := range slices.Backward(ds) {
		if d.wrap != nil { // federation deviations act through federate alone
			h = d.wrap(s, h)
		}
	}
	return h
}

// SuiteAPI is the API version a run against the deviation tests: CheckWith,
// or v1.
func (d Deviation) SuiteAPI() string {
	if d.CheckWith == "" {
		return "v1"
	}
	return d.CheckWith
}
