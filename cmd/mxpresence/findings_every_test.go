package main

import (
	"slices"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/report"
)

// checkFindings holds the runs against faults and variations to what the
// findings promise (docs/suite.md#findings): every requirement that failed
// or warned met at least one finding, so no defect goes unnamed; and no
// two findings are one defect, the same response broken the same way,
// worded differently by the requirements that met it. It reads the runs
// the self-test makes anyway, so it costs no run of its own.
func checkFindings(t *testing.T, runs []deviationRun) {
	t.Helper()
	for _, run := range runs {
		if run.result == nil {
			continue // the caller reports the missing report
		}
		for _, problem := range findingProblems(run.result) {
			t.Errorf("%s (--api %s): %s", run.deviation.Name, run.deviation.SuiteAPI(), problem)
		}
	}
}

// findingProblems lists how a run's findings break those two promises.
func findingProblems(r *report.Result) []string {
	var problems []string
	met := map[string]bool{}
	defects := map[report.Signature]report.Signature{}
	for _, fd := range r.Findings {
		for _, id := range fd.Requirements {
			met[id] = true
		}
		if other, ok := defects[fd.Defect()]; ok {
			problems = append(problems, "two findings are one defect: "+other.String()+" and "+fd.Signature.String())
		}
		defects[fd.Defect()] = fd.Signature
	}
	for _, id := range append(r.WithOutcome(report.Failed), r.WithOutcome(report.Warned)...) {
		if !met[id] {
			problems = append(problems, id+" failed with no finding")
		}
	}
	slices.Sort(problems)
	return problems
}

// The check must be able to fail: a failed requirement with no finding, and
// a defect listed twice, are both caught.
func TestFindingProblemsCatchesBothBreaches(t *testing.T) {
	sig := report.Signature{Operation: "GET /x", Status: 200, Rule: "status 4xx", Found: "object without errcode"}
	other := sig
	other.Rule = "status 404"
	r := &report.Result{
		Entries: []report.Entry{
			{ID: "A-01", Outcome: report.Failed},
			{ID: "B-01", Outcome: report.Warned},
			{ID: "C-01", Outcome: report.Failed},
		},
		Findings: []report.Finding{
			{Signature: sig, Responses: 1, Requirements: []string{"A-01"}},
			{Signature: other, Responses: 1, Requirements: []string{"A-01"}},
		},
	}
	got := findingProblems(r)
	want := []string{
		"B-01 failed with no finding",
		"C-01 failed with no finding",
		"two findings are one defect: " + sig.String() + " and " + other.String(),
	}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	r.Entries = r.Entries[:1]
	r.Findings = r.Findings[:1]
	if got := findingProblems(r); len(got) != 0 {
		t.Errorf("a run that keeps both promises: %q", got)
	}
}

// Every requirement is one some fault makes fail: a requirement no fault
// can fail proves nothing about the suite.
func TestEveryRequirementHasAFault(t *testing.T) {
	declared := map[string]bool{}
	for _, d := range mockserver.Faults() {
		for _, id := range d.CaughtBy {
			declared[id] = true
		}
	}
	for _, r := range suite.Catalogue() {
		if !declared[r.ID] {
			t.Errorf("%s [%s]: no fault declares it", r.ID, r.Level)
		}
	}
}
