package suite_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
)

// The reference mock meets every requirement of v1, MUST and SHOULD alike,
// and the run says so requirement by requirement; those of later versions
// only are reported as not applicable. ginkgo runs one suite per
// process, so this is the one in-process run of this package; the broken
// variants run in processes of their own (cmd/mxpresence).
func TestReferenceMockMeetsEveryRequirement(t *testing.T) {
	srv := httptest.NewServer(mockserver.New(mockserver.Options{}))
	defer srv.Close()
	api, err := client.V1()
	if err != nil {
		t.Fatal(err)
	}
	result, err := suite.Run(suite.Config{Target: srv.URL, API: api, Strict: true, NoColor: true}, t)
	if err != nil {
		t.Fatal(err)
	}
	catalogue := suite.Catalogue()
	if len(result.Entries) != len(catalogue) {
		t.Errorf("%d requirements reported, the catalogue has %d", len(result.Entries), len(catalogue))
	}
	for _, req := range catalogue {
		got, ok := result.Outcome(req.ID)
		if !ok {
			t.Errorf("%s: not reported", req.ID)
			continue
		}
		want := report.Passed
		if !req.AppliesTo(api.Name) {
			want = report.NotApplicable
		}
		if got != want {
			t.Errorf("%s: %s, want %s", req.ID, got, want)
		}
	}
	if !result.Passed() {
		t.Error("verdict FAIL against the reference mock")
	}
}
