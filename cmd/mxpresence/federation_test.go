package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

func federationIDs() []string {
	var ids []string
	for _, r := range suite.Catalogue() {
		if r.Federation {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func TestListShowsTheFederationRequirements(t *testing.T) {
	code, out, errOut := mxpresence(t, "test", "--list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	ids := federationIDs()
	if len(ids) != 13 {
		t.Errorf("%d federation requirements, want PRES-FED-01 to 13", len(ids))
	}
	for _, id := range ids {
		if !strings.Contains(out, id+"  ") {
			t.Errorf("--list does not show %s", id)
		}
	}
}

func TestFederationFlagIsChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--federation", "http://127.0.0.1:1"}, "--federation URL goes with --target"},
		{[]string{"--target", "http://127.0.0.1:1", "--federation", "127.0.0.1:8448"}, "want the target's federation API as an http or https URL"},
	} {
		code, _, errOut := mxpresence(t, append([]string{"test", "--no-color"}, tc.args...)...)
		if code != cannotRun || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tc.args, code, errOut, cannotRun, tc.want)
		}
	}
}

// The bundled mock federates and the federation requirements run against
// it by default: all pass, and the report carries what the mock sent. A
// build without GOEXPERIMENT=jsonv2 cannot join rooms (mautrix's pdu
// package), and then the report says so for each of them.
func TestBundledMockFederatesByDefault(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := mxpresence(t, "test", "--no-color", "--focus", "PRES-FED", "--json", jsonPath)
	if code != conformant {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	result := readReport(t, jsonPath)
	for _, id := range federationIDs() {
		outcome, _ := result.Outcome(id)
		switch {
		case remote.CanJoin && outcome != report.Passed:
			t.Errorf("%s: %s, want passed", id, outcome)
		case !remote.CanJoin && outcome != report.NotApplicable:
			t.Errorf("%s: %s, want not applicable in a build without GOEXPERIMENT=jsonv2", id, outcome)
		}
	}
	if !remote.CanJoin {
		for _, e := range result.Entries {
			if strings.HasPrefix(e.ID, "PRES-FED-") && !strings.Contains(e.Reason, "GOEXPERIMENT=jsonv2") {
				t.Errorf("%s is not applicable for the reason %q, which does not say what the build lacks", e.ID, e.Reason)
			}
		}
		return
	}
	f := result.Federation
	if f == nil {
		t.Fatal("the JSON report has no federation figures")
	}
	if f.Transactions == 0 || f.Changes == 0 || f.EDUsPerChangeMin < 1 || f.LargestPush < 1 || f.IdleWindow == 0 || f.TargetServer != "localhost" {
		t.Errorf("federation figures: %+v", f)
	}
	for _, want := range []string{"FEDERATION (what localhost sent", "EDUs per presence change:", "transactions/minute idle:", "largest push:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary does not say %q:\n%s", want, out)
		}
	}
}

func TestFederationOffSkipsTheFederationRequirements(t *testing.T) {
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := mxpresence(t, "test", "--no-color", "--federation", "off", "--focus", "PRES-FED-01", "--json", jsonPath)
	if code != conformant {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	result := readReport(t, jsonPath)
	for _, id := range federationIDs() {
		if outcome, _ := result.Outcome(id); outcome != report.NotApplicable {
			t.Errorf("%s: %s with --federation off, want not applicable", id, outcome)
		}
	}
	if result.Federation != nil || strings.Contains(out, "FEDERATION (") {
		t.Error("a run with --federation off reports federation figures")
	}
}
