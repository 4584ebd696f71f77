package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite/report"
)

// Whatever the suite put in a result, the text and Markdown summaries show
// no control character from it raw: messages and findings quote the server.
func TestSummariesEscapeWhatTheServerSent(t *testing.T) {
	const paint = "\x1b[2K\r\x1b[32mVERDICT: PASS\x1b[0m"
	r := sample()
	r.Entries[1].Message = "Expected 200, got 403: " + paint
	r.Entries[2].Message = paint + "\n\n--> PUT /x\n<-- 400\n    " + paint
	r.Findings = []report.Finding{{Signature: report.Signature{Operation: "PUT /x", Status: 403, Rule: "status 200", Found: paint}, Responses: 1, Requirements: []string{"A-02"}}}
	var text, md bytes.Buffer
	report.WriteSummary(&text, r)
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"summary": text.String(), "Markdown": md.String()} {
		if strings.ContainsAny(out, "\x1b\r") {
			t.Errorf("the %s holds a raw control character:\n%s", name, out)
		}
		if !strings.Contains(out, `\x1b[32mVERDICT: PASS`) {
			t.Errorf("the %s does not quote the message, escaped:\n%s", name, out)
		}
	}
}
