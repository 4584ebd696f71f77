package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/suite/report"
)

var (
	emptyPresence = report.Signature{Operation: "GET /x", Status: 200, Pointer: "/presence", Rule: "enum", Found: "empty string"}
	wrongStatus   = report.Signature{Operation: "PUT /x", Status: 403, Rule: "status 200", Found: "M_FORBIDDEN"}
)

// withFindings is the sample run with two findings: one met by two
// requirements over three responses, one by one requirement.
func withFindings() *report.Result {
	r := sample()
	var f report.Findings
	f.Add(emptyPresence, "A-02")
	f.Add(wrongStatus, "A-03")
	f.Add(emptyPresence, "B-01")
	f.Add(emptyPresence, "A-02")
	r.Findings = f.List()
	return r
}

func TestFindingsCountResponsesAndJoinRequirements(t *testing.T) {
	got := withFindings().Findings
	if len(got) != 2 {
		t.Fatalf("%d findings, want 2: %+v", len(got), got)
	}
	// Sorted by operation first: GET /x before PUT /x.
	if got[0].Signature != emptyPresence || got[0].Responses != 3 || !slices.Equal(got[0].Requirements, []string{"A-02", "B-01"}) {
		t.Errorf("first finding %+v", got[0])
	}
	if got[1].Signature != wrongStatus || got[1].Responses != 1 || !slices.Equal(got[1].Requirements, []string{"A-03"}) {
		t.Errorf("second finding %+v", got[1])
	}
}

func TestMergeFindingsOfShards(t *testing.T) {
	a := []report.Finding{{Signature: emptyPresence, Responses: 2, Requirements: []string{"B-01"}}}
	b := []report.Finding{
		{Signature: emptyPresence, Responses: 1, Requirements: []string{"A-02", "B-01"}},
		{Signature: wrongStatus, Responses: 4, Requirements: []string{"A-03"}},
	}
	got := report.MergeFindings(a, b)
	if len(got) != 2 || got[0].Responses != 3 || !slices.Equal(got[0].Requirements, []string{"A-02", "B-01"}) || got[1].Responses != 4 {
		t.Errorf("merged %+v", got)
	}
}

func TestSummaryListsFindingsAndRefersToThem(t *testing.T) {
	var b bytes.Buffer
	report.WriteSummary(&b, withFindings())
	out := b.String()
	for _, want := range []string{
		"FINDINGS: 2 distinct findings, each counted once whichever requirements met it",
		"  F1  GET /x -> 200  /presence  enum: found empty string\n      3 responses; met by A-02, B-01",
		"  F2  PUT /x -> 403  (body)  status 200: found M_FORBIDDEN\n      1 response; met by A-03",
		"  A-02 [MUST] A-02 text\n    findings: F1\n",
		"; 2 distinct findings\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestJUnitCarriesFindings(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJUnit(&b, withFindings()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Name      string `xml:"name,attr"`
			SystemOut string `xml:"system-out"`
			Cases     []struct {
				Name  string `xml:"name,attr"`
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
	failed := doc.Suites[0].Cases[1]
	if len(failed.Props) != 1 || failed.Props[0].Name != "mxpresence.finding" || failed.Props[0].Value != emptyPresence.String() {
		t.Errorf("A-02's properties: %+v", failed.Props)
	}
	if out := doc.Suites[0].SystemOut; !strings.Contains(out, emptyPresence.String()) || !strings.Contains(out, wrongStatus.String()) {
		t.Errorf("PUT /x's system-out lacks the findings its requirements met:\n%s", out)
	}
	if out := doc.Suites[1].SystemOut; !strings.Contains(out, emptyPresence.String()) || strings.Contains(out, wrongStatus.String()) {
		t.Errorf("GET /x's system-out should list only F1 (met by B-01):\n%s", out)
	}
}

func TestJSONKeepsFindings(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, withFindings()); err != nil {
		t.Fatal(err)
	}
	back, err := report.ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Signatures(), withFindings().Signatures()) || back.Findings[0].Responses != 3 {
		t.Errorf("findings after round trip: %+v", back.Findings)
	}
}

func TestMarkdownSummary(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, withFindings()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"## mxpresence: FAIL (v1 API)\n",
		"2 of 5 requirements met (1 failed, 1 SHOULD warnings, 1 known failures, 1 unexpected passes, 1 not run); 2 distinct findings.",
		"| `PUT /x` | 1 | 1 | 1 | 0 | 0 | 0 |",
		"| **total** | **2** | **1** | **1** | **1** | **1** | **0** |",
		"| F1 | `GET /x` | 200 | `/presence` | enum | empty string | 3 | A-02, B-01 |",
		"### Failed requirements\n\n| requirement | level | why | findings |\n|---|---|---|---|\n| A-02 | MUST | Expected 200, got 403 | F1 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownReasonIsOneEscapedLine(t *testing.T) {
	r := sample()
	r.Entries[1].Message = "setting the presence\nExpected a | b, got " + strings.Repeat("é", 200) + "\n\n--> PUT ..."
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "| A-02 ") {
			row = line
		}
	}
	if !strings.Contains(row, `| setting the presence: Expected a \| b, got éé`) || !strings.HasSuffix(row, "… |  |") || strings.Contains(row, "-->") || !strings.Contains(row, "é…") {
		t.Errorf("row %q: want the first line, | escaped, cut on a character boundary", row)
	}
}

func TestCannotStartIsOneErroredEntry(t *testing.T) {
	r := report.CannotStart("v3", "http://127.0.0.1:1", time.Now(), errors.New("target unusable: connection refused\nTry --api r0."))
	if r.Passed() || r.Verdict() != "ERROR" || len(r.Entries) != 1 || r.Entries[0].Outcome != report.Errored {
		t.Fatalf("%+v", r)
	}
	var junit, md bytes.Buffer
	if err := report.WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Errors int `xml:"errors,attr"`
		Suites []struct {
			Cases []struct {
				Error *struct {
					Body string `xml:",chardata"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Errors != 1 || doc.Suites[0].Cases[0].Error == nil || !strings.Contains(doc.Suites[0].Cases[0].Error.Body, "connection refused") {
		t.Errorf("JUnit of a run that could not start:\n%s", junit.String())
	}
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## mxpresence: ERROR (v3 API)") || !strings.Contains(md.String(), "Try --api r0.") {
		t.Errorf("Markdown of a run that could not start:\n%s", md.String())
	}
}

func TestOneDefectIsOneFindingWhateverEachRequirementWanted(t *testing.T) {
	var f report.Findings
	wrongCode := report.Signature{Operation: "PUT /x", Status: 400, Pointer: "/errcode", Rule: "errcode M_NOT_JSON", Found: "M_UNKNOWN"}
	anyBadInput := wrongCode
	anyBadInput.Rule = "errcode M_BAD_JSON or M_NOT_JSON"
	f.Add(wrongCode, "A-01")
	f.Add(anyBadInput, "B-01")
	f.Add(wrongStatus, "C-01")
	got := f.List()
	if len(got) != 2 {
		t.Fatalf("%d findings, want 2: %+v", len(got), got)
	}
	if got[0].Rule != "errcode M_BAD_JSON or M_NOT_JSON | errcode M_NOT_JSON" || got[0].Responses != 2 || !slices.Equal(got[0].Requirements, []string{"A-01", "B-01"}) {
		t.Errorf("%+v", got[0])
	}
	merged := report.MergeFindings(got, []report.Finding{{Signature: wrongCode, Responses: 1, Requirements: []string{"D-01"}}})
	if len(merged) != 2 || merged[0].Rule != got[0].Rule || merged[0].Responses != 3 {
		t.Errorf("after merging a shard: %+v", merged)
	}
}
