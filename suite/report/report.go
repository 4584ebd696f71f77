// Package report holds the outcome of a conformance run, one entry per
// requirement, and its findings, and writes it for people (a summary per
// endpoint), for CI (JUnit XML, and Markdown for a CI page) and for
// machines (JSON, which it can also read back).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Outcome is what became of one requirement in a run.
type Outcome string

const (
	Passed Outcome = "passed"
	// Failed fails the run: a MUST not met, or a SHOULD in a strict run.
	Failed Outcome = "failed"
	// Warned is a SHOULD not met in a run that is not strict.
	Warned Outcome = "warned"
	// KnownFailure is a failure the skip file expects; it fails nothing.
	KnownFailure Outcome = "known-failure"
	// UnexpectedPass is a pass the skip file expected to fail: flagged, so
	// the file can be pruned.
	UnexpectedPass Outcome = "unexpected-pass"
	// Skipped was not run: filtered out by focus or labels.
	Skipped Outcome = "skipped"
	// NotApplicable does not hold for the API version under test.
	NotApplicable Outcome = "not-applicable"
	// Interrupted was running when the run was interrupted (SIGINT,
	// SIGTERM): it says nothing of the server.
	Interrupted Outcome = "interrupted"
	// Errored stands for the whole run when it could not start: the one
	// entry of such a result, its message saying why.
	Errored Outcome = "errored"
)

// Entry is one requirement and its outcome.
type Entry struct {
	ID       string  `json:"id"`
	Level    string  `json:"level"`
	Endpoint string  `json:"endpoint"`
	Text     string  `json:"text"`
	Outcome  Outcome `json:"outcome"`
	// Message is why it failed or warned: the assertion and the exchange.
	Message string `json:"message,omitempty"`
	// Reason is the skip file's reason, or why it was not run.
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Result is a whole run.
type Result struct {
	API    string `json:"api"`
	Target string `json:"target"`
	Strict bool   `json:"strict"`
	// Schemas names the documents every response was validated against:
	// the embedded ones and their source, or a spec checkout (--spec).
	Schemas  string        `json:"schemas,omitempty"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Entries  []Entry       `json:"requirements"`
	// Findings are the distinct violations the run saw.
	Findings []Finding `json:"findings"`
	// Error says why the run could not start; empty when it ran.
	Error string `json:"error,omitempty"`
	// Interrupted is a run stopped by a signal before it finished: what it
	// holds was met, but the run gives no verdict.
	Interrupted bool `json:"interrupted,omitempty"`
	// Federation is what the target sent the suite's remote server, apart
	// from the verdict; nil when the run played no remote server.
	Federation *FederationFigures `json:"federation,omitempty"`
	// Thresholds names the idle and offline thresholds the timer
	// requirements assumed; empty when they did not run (no --timers).
	Thresholds string `json:"thresholds,omitempty"`
}

// Passed reports the verdict: the run started and no requirement failed.
func (r *Result) Passed() bool { return r.Error == "" && !r.Interrupted && r.Count(Failed) == 0 }

// SetupID names the one entry of a run that could not start.
const SetupID = "MXPRESENCE-SETUP"

// CannotStart is the result of a run that could not start, for the reports
// CI reads: one errored entry saying why.
func CannotStart(api, target string, started time.Time, why error) *Result {
	return &Result{
		API: api, Target: target, Started: started, Duration: time.Since(started), Error: why.Error(), Findings: []Finding{},
		Entries: []Entry{{
			ID: SetupID, Level: "MUST", Endpoint: "setup", Outcome: Errored, Message: why.Error(),
			Text: "The target answers, and the suite can provision users on it.",
		}},
	}
}

// Count counts the entries with an outcome.
func (r *Result) Count(o Outcome) int {
	n := 0
	for _, e := range r.Entries {
		if e.Outcome == o {
			n++
		}
	}
	return n
}

// Outcome returns the outcome of a requirement, and whether it is present.
func (r *Result) Outcome(id string) (Outcome, bool) {
	for _, e := range r.Entries {
		if e.ID == id {
			return e.Outcome, true
		}
	}
	return "", false
}

// WithOutcome lists the IDs of the entries with an outcome, in run order.
func (r *Result) WithOutcome(o Outcome) []string {
	var ids []string
	for _, e := range r.Entries {
		if e.Outcome == o {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// WriteJSON writes the result as one indented JSON object.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadJSON reads what WriteJSON wrote.
func ReadJSON(rd io.Reader) (*Result, error) {
	var r Result
	if err := json.NewDecoder(rd).Decode(&r); err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	return &r, nil
}
