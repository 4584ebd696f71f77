package report_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/suite/report"
)

func sample() *report.Result {
	e := func(id, level, endpoint string, o report.Outcome, msg, reason string) report.Entry {
		return report.Entry{ID: id, Level: level, Endpoint: endpoint, Text: id + " text", Outcome: o, Message: msg, Reason: reason, Duration: time.Millisecond}
	}
	return &report.Result{
		API: "v1", Target: "http://127.0.0.1:1", Started: time.Unix(0, 0), Duration: time.Second,
		Entries: []report.Entry{
			e("A-01", "MUST", "PUT /x", report.Passed, "", ""),
			e("A-02", "MUST", "PUT /x", report.Failed, "Expected 200, got 403", ""),
			e("A-03", "SHOULD", "PUT /x", report.Warned, "Expected 403, got 400", ""),
			e("B-01", "MUST", "GET /x", report.KnownFailure, "boom", "ticket 12"),
			e("B-02", "MUST", "GET /x", report.UnexpectedPass, "", "ticket 13"),
			e("B-03", "MUST", "GET /x", report.Skipped, "", "filtered out"),
		},
	}
}

func TestVerdict(t *testing.T) {
	r := sample()
	if r.Passed() {
		t.Error("a failed MUST passed the run")
	}
	r.Entries[1].Outcome = report.Passed
	if !r.Passed() {
		t.Error("warnings, known failures and unexpected passes failed the run")
	}
}

func TestSummary(t *testing.T) {
	var b bytes.Buffer
	report.WriteSummary(&b, sample())
	out := b.String()
	for _, want := range []string{
		"PUT /x                                 1       1       1       0       0       0",
		"GET /x                                 1       0       0       1       1       0",
		"FAILED\n\n  A-02 [MUST] A-02 text\n    Expected 200, got 403",
		"WARNINGS (SHOULD requirements not met; --strict makes them fail)\n\n  A-03",
		"KNOWN FAILURES (expected by the skip file)\n\n  B-01 [MUST] B-01 text\n    reason: ticket 12",
		"UNEXPECTED PASSES",
		"VERDICT: FAIL (v1 API): 2 of 5 requirements met (1 failed, 1 SHOULD warnings, 1 known failures, 1 unexpected passes, 1 not run)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestJUnitIsReadable(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJUnit(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 6 || doc.Failures != 1 || doc.Skipped != 2 || len(doc.Suites) != 2 {
		t.Fatalf("tests %d failures %d skipped %d suites %d", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites))
	}
	put := doc.Suites[0]
	if put.Name != "PUT /x" || put.Cases[1].Failure == nil || put.Cases[1].Failure.Body != "Expected 200, got 403" {
		t.Errorf("the failure is not where it belongs: %+v", put)
	}
	if p := put.Cases[2].Props; len(p) != 1 || p[0].Value != "warned" || put.Cases[2].Failure != nil {
		t.Errorf("a warning is not a passing case marked warned: %+v", put.Cases[2])
	}
	if s := doc.Suites[1].Cases[0].Skipped; s == nil || s.Message != "known failure: ticket 12" {
		t.Errorf("known failure: %+v", doc.Suites[1].Cases[0])
	}
}

func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.WithOutcome(report.Failed); len(got) != 1 || got[0] != "A-02" {
		t.Errorf("failed after round trip: %v", got)
	}
	if o, _ := back.Outcome("B-01"); o != report.KnownFailure {
		t.Errorf("B-01: %s", o)
	}
}
