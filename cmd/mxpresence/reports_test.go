package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite/report"
)

// A target that cannot be tested still leaves every report CI reads, each
// with one errored entry that says why, and the exit status is 2.
func TestUnreachableTargetStillWritesReports(t *testing.T) {
	dir := t.TempDir()
	junit, jsonPath, md := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json"), filepath.Join(dir, "summary.md")
	code, _, errOut := mxpresence(t, "test", "--target", "http://127.0.0.1:1", "--timeout", "1s",
		"--junit", junit, "--json", jsonPath, "--summary-md", md)
	if code != cannotRun || !strings.Contains(errOut, "cannot reach http://127.0.0.1:1") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	result := readReport(t, jsonPath)
	if result.Error == "" || len(result.Entries) != 1 || result.Entries[0].Outcome != report.Errored ||
		!strings.Contains(result.Entries[0].Message, "cannot reach http://127.0.0.1:1") {
		t.Errorf("JSON report: %+v", result)
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
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Errors != 1 || len(doc.Suites) != 1 || doc.Suites[0].Cases[0].Error == nil ||
		!strings.Contains(doc.Suites[0].Cases[0].Error.Body, "cannot reach") {
		t.Errorf("JUnit report (%v):\n%s", err, data)
	}
	summary, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(summary), "## mxpresence: ERROR (auto API)") {
		t.Errorf("Markdown summary (%v):\n%s", err, summary)
	}
}

// Refused provisioning is a run that cannot start too: the reports say so
// and name what to try.
func TestRefusedProvisioningWritesReportsWithWhatToTry(t *testing.T) {
	target := startServeProcess(t, "--no-registration")
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, _, errOut := mxpresence(t, "test", "--target", target, "--json", jsonPath)
	if code != cannotRun {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	result := readReport(t, jsonPath)
	for _, want := range []string{"cannot provision a user", "--api r0", "--shared-secret SECRET", "--users-file FILE"} {
		if !strings.Contains(result.Error, want) {
			t.Errorf("the report's error lacks %q: %s", want, result.Error)
		}
	}
	if result.API != "v3" {
		t.Errorf("the report names API %q; the server offers v1.1, so v3 was tried", result.API)
	}
}

// v3Only is the mock as a homeserver of today shows itself: /versions lists
// Matrix 1.x releases only, and the r0 and v1 prefixes are unknown paths.
func v3Only(t *testing.T) string {
	mock := mockserver.New(mockserver.Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_matrix/client/versions":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"versions":["v1.1","v1.2","v1.11"],"unstable_features":{}}`))
		case strings.HasPrefix(r.URL.Path, "/_matrix/client/r0/"), strings.HasPrefix(r.URL.Path, "/_matrix/client/api/v1/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`))
		default:
			mock.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// `mxpresence test --target URL`, with no other flag, tests the newest
// version the server offers: against a v3-only server, v3.
func TestBareTargetTestsTheNewestVersionOffered(t *testing.T) {
	target := v3Only(t)
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := mxpresence(t, "test", "--target", target, "--no-color", "--json", jsonPath)
	if code != conformant {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "the server offers v1.1, v1.2, v1.11; testing the v3 API") {
		t.Errorf("stderr does not say what was chosen and why: %s", errOut)
	}
	if !strings.Contains(out, "VERDICT: PASS (v3 API):") {
		t.Errorf("the verdict line does not name v3:\n%s", out)
	}
	if result := readReport(t, jsonPath); result.API != "v3" || result.Count(report.Passed) == 0 {
		t.Errorf("report: API %s, %d passed", result.API, result.Count(report.Passed))
	}
	// The version asked for is the version tested, even one the server
	// does not serve: then the run cannot start, and says what to try.
	code, _, errOut = mxpresence(t, "test", "--target", target, "--api", "r0")
	if code != cannotRun || !strings.Contains(errOut, "does not serve the r0 API at /_matrix/client/r0") || !strings.Contains(errOut, "--api v3") {
		t.Errorf("--api r0 against a v3-only server: exit %d, stderr %q", code, errOut)
	}
}

// --summary-md writes the Markdown summary, and a GitHub Actions step gets
// it appended to its step summary, after what other steps wrote there.
func TestMarkdownSummaryAndGitHubStepSummary(t *testing.T) {
	dir := t.TempDir()
	md, step := filepath.Join(dir, "summary.md"), filepath.Join(dir, "step-summary.md")
	if err := os.WriteFile(step, []byte("# Earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "test", "--no-color", "--mock-fault", "put-status-201", "--focus", "PRES-STATUS-PUT-0[12]", "--summary-md", md)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GITHUB_STEP_SUMMARY="+step)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		t.Fatalf("the run passed with put-status-201 on\n%s", out.String())
	}
	written, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	summary := string(written)
	for _, want := range []string{
		"## mxpresence: FAIL (v1 API)\n",
		"| `PUT /presence/{userId}/status` | 0 | 2 |",
		"| F1 | `PUT /presence/{userId}/status` | 201 | `(body)` | status 200 | object without errcode |",
		"### Failed requirements",
		`own presence to "online": Expected status 200 OK, got status 201 Created. | F1 |`,
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
	}
	appended, err := os.ReadFile(step)
	if err != nil {
		t.Fatal(err)
	}
	if string(appended) != "# Earlier step\n"+summary {
		t.Errorf("the step summary is not the earlier step's text followed by the summary:\n%s", appended)
	}
}
