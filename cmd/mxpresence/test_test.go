package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/remote"
	"github.com/mxpresence/mxpresence/suite/report"
)

func TestTestWithoutTargetChecksTheBundledMock(t *testing.T) {
	dir := t.TempDir()
	junit, jsonPath := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.json")
	code, out, errOut := mxpresence(t, "test", "--no-color", "--junit", junit, "--json", jsonPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	all, n := len(suite.Catalogue()), 0
	for _, r := range suite.Catalogue() {
		// The federation requirements run against the bundled mock when
		// the build can join rooms (GOEXPERIMENT=jsonv2).
		if r.AppliesTo("v1") && (!r.Federation || remote.CanJoin) {
			n++
		}
	}
	if !strings.Contains(errOut, "checking the bundled mock server at http://127.0.0.1:") {
		t.Errorf("stderr does not say the bundled mock is checked: %s", errOut)
	}
	want := fmt.Sprintf("VERDICT: PASS (v1 API): %d of %d requirements met (%d not applicable)\n", n, n, all-n)
	if !strings.HasSuffix(out, want) {
		t.Errorf("output does not end with %q:\n%s", want, out)
	}

	var junitDoc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(data, &junitDoc); err != nil {
		t.Fatalf("JUnit file is not XML: %v", err)
	}
	if junitDoc.Tests != all || junitDoc.Failures != 0 || !strings.HasPrefix(junitDoc.Suites[0].Cases[0].Name, "PRES-STATUS-PUT-01 [MUST]") {
		t.Errorf("JUnit: %d tests, %d failures, first case %q", junitDoc.Tests, junitDoc.Failures, junitDoc.Suites[0].Cases[0].Name)
	}

	result := readReport(t, jsonPath)
	if len(result.WithOutcome(report.Passed)) != n {
		t.Errorf("JSON report: %d passed of %d", len(result.WithOutcome(report.Passed)), n)
	}
}

func TestSkipFileFlagsUnexpectedPassesAndRejectsTypos(t *testing.T) {
	dir := t.TempDir()
	skip := filepath.Join(dir, "known-failures")
	os.WriteFile(skip, []byte("# known\nPRES-LIST-GET-01 pretend our lists are broken\n"), 0o644)
	code, out, errOut := mxpresence(t, "test", "--no-color", "--skip-file", skip, "--focus", "PRES-LIST-GET")
	if code != 0 {
		t.Fatalf("exit %d: an unexpected pass must not fail the run\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "UNEXPECTED PASSES") || !strings.Contains(out, "PRES-LIST-GET-01 [MUST]") || !strings.Contains(out, "1 unexpected passes") {
		t.Errorf("the unexpected pass is not flagged:\n%s", out)
	}

	os.WriteFile(skip, []byte("PRES-LIST-GET-99 no such requirement\n"), 0o644)
	if code, _, errOut := mxpresence(t, "test", "--skip-file", skip); code != 2 || !strings.Contains(errOut, `no requirement "PRES-LIST-GET-99"`) {
		t.Errorf("exit %d, stderr %q; want 2 naming the unknown ID", code, errOut)
	}
}

func TestListPrintsTheCatalogue(t *testing.T) {
	code, out, _ := mxpresence(t, "test", "--list", "--format", "markdown")
	checkedIn, err := os.ReadFile("../../suite/CATALOGUE.md")
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 || out != string(checkedIn) {
		t.Errorf("exit %d; --list --format markdown differs from suite/CATALOGUE.md", code)
	}
	_, out, _ = mxpresence(t, "test", "--list")
	for _, r := range suite.Catalogue() {
		if !strings.Contains(out, r.ID+"  "+string(r.Level)) {
			t.Errorf("--list lacks %s", r.ID)
		}
	}
}

// startServeProcess runs `mxpresence serve` in a process of its own on a
// free loopback port and returns its base URL; the process stops with the
// test.
func startServeProcess(t *testing.T, args ...string) string {
	t.Helper()
	serve := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	serve.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "http://127.0.0.1:"); i >= 0 {
			go io.Copy(io.Discard, out)
			return strings.Fields(sc.Text()[i:])[0]
		}
	}
	t.Fatal("serve printed no address")
	return ""
}

// The suite passes against a separately started `mxpresence serve`, once in
// one process and once in three, and again against the same server: every
// run registers fresh users, so runs never meet.
func TestTestAgainstASeparateServe(t *testing.T) {
	target := startServeProcess(t)
	for _, args := range [][]string{{}, {"--procs", "3"}, {}} {
		code, stdout, stderr := mxpresence(t, append([]string{"test", "--target", target, "--no-color"}, args...)...)
		if code != 0 || !strings.Contains(stdout, "VERDICT: PASS") {
			t.Errorf("test --target %s %v: exit %d\n%s\n%s", target, args, code, stdout, stderr)
		}
	}
}

// With open registration closed, the shared secret alone is enough; without
// it, the run stops at once and says what to give.
func TestSharedSecretWhenRegistrationIsClosed(t *testing.T) {
	target := startServeProcess(t, "--no-registration", "--shared-secret", "s3cret")
	code, stdout, stderr := mxpresence(t, "test", "--target", target, "--api", "v3", "--shared-secret", "s3cret", "--no-color")
	if code != 0 || !strings.Contains(stdout, "VERDICT: PASS") {
		t.Errorf("with the shared secret: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = mxpresence(t, "test", "--target", target, "--api", "v3")
	if code != 2 || !strings.Contains(stderr, "open registration is closed") || !strings.Contains(stderr, "--shared-secret SECRET") {
		t.Errorf("without it: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = mxpresence(t, "test", "--target", target, "--api", "v3", "--shared-secret", "wrong")
	if code != 2 || !strings.Contains(stderr, "Check the shared secret") {
		t.Errorf("with a wrong one: exit %d, stderr %q", code, stderr)
	}
}

// Every API version passes against the mock, which serves them all at
// once, and auto picks the newest the mock's /versions offers. Requirements
// of other versions are reported as not applicable, never as passed.
func TestEveryVersionPassesAgainstTheMock(t *testing.T) {
	for _, api := range []string{"v1", "r0", "v3", "auto"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			jsonPath := filepath.Join(t.TempDir(), "report.json")
			code, out, errOut := mxpresence(t, "test", "--api", api, "--no-color", "--json", jsonPath)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			result := readReport(t, jsonPath)
			version := api
			if api == "auto" {
				version = "v3"
				if !strings.Contains(errOut, "v1.1; testing the v3 API (--api v3)") {
					t.Errorf("auto did not say what it chose: %s", errOut)
				}
			}
			if result.API != version {
				t.Errorf("report says API %s, want %s", result.API, version)
			}
			for _, r := range suite.Catalogue() {
				want := report.Passed
				switch {
				case !r.AppliesTo(version), r.Federation && !remote.CanJoin:
					want = report.NotApplicable
				case r.Timers:
					want = report.Skipped // only with --timers
				case r.Feature != "":
					want = report.Skipped // the reference advertises no unstable feature
				}
				if got, _ := result.Outcome(r.ID); got != want {
					t.Errorf("%s: %s, want %s", r.ID, got, want)
				}
			}
		})
	}
}

// With --timers the bundled mock runs the timer requirements too, on short
// thresholds that the report names, and passes them.
func TestTimersPassAgainstTheMock(t *testing.T) {
	for _, api := range []string{"r0", "v3"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			jsonPath := filepath.Join(t.TempDir(), "report.json")
			code, out, errOut := mxpresence(t, "test", "--api", api, "--timers", "--no-color", "--json", jsonPath)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			result := readReport(t, jsonPath)
			for _, r := range suite.Catalogue() {
				want := report.Passed
				switch {
				case !r.AppliesTo(api), r.Federation && !remote.CanJoin:
					want = report.NotApplicable
				case r.Feature != "":
					want = report.Skipped // the reference advertises no unstable feature
				}
				if got, _ := result.Outcome(r.ID); got != want {
					t.Errorf("%s: %s, want %s", r.ID, got, want)
				}
			}
			if !strings.Contains(result.Thresholds, "idle after 2s") || !strings.Contains(out, "Timer requirements assumed: idle after 2s") {
				t.Errorf("the report does not name the thresholds: %q\n%s", result.Thresholds, out)
			}
		})
	}
}

func TestNewestAPI(t *testing.T) {
	cases := []struct {
		supported []string
		want      string
	}{
		{nil, "v1"},
		{[]string{"r0.0.1", "r0.6.1"}, "r0"},
		{[]string{"r0.6.1", "v1.1", "v1.11"}, "v3"},
		{[]string{"v1.1"}, "v3"},
	}
	for _, c := range cases {
		if got := newestAPI(c.supported); got != c.want {
			t.Errorf("newestAPI(%v) = %s, want %s", c.supported, got, c.want)
		}
	}
}
