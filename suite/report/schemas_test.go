package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite/report"
)

// Every report names the documents the responses were validated against.
func TestEveryReportNamesTheSchemas(t *testing.T) {
	r := sample()
	r.Schemas = "the spec's own documents in ../shared/spec/v3/v1.19/data/api/client-server (--spec)"
	var text, md, junit, js bytes.Buffer
	report.WriteSummary(&text, r)
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"summary": text.String(), "Markdown": md.String()} {
		if !strings.Contains(out, "Responses validated against "+r.Schemas) {
			t.Errorf("the %s does not name the documents:\n%s", name, out)
		}
	}
	if !strings.Contains(junit.String(), `<property name="schemas" value="the spec&#39;s own documents in ../shared/spec/v3/v1.19`) {
		t.Errorf("the JUnit report has no schemas property:\n%s", junit.String())
	}
	back, err := report.ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	if back.Schemas != r.Schemas {
		t.Errorf("JSON: schemas %q, want %q", back.Schemas, r.Schemas)
	}
}
