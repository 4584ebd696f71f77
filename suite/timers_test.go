package suite_test

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mxpresence/mxpresence/mockserver"
	"github.com/mxpresence/mxpresence/suite"
	"github.com/mxpresence/mxpresence/suite/client"
	"github.com/mxpresence/mxpresence/suite/report"
)

// The timer requirements pass against the reference mock on short
// thresholds, when the suite is told them. Ginkgo runs one suite per
// process, so this runs as a process of its own like the reference run.
func TestReferenceMockMeetsTheTimerRequirements(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the mock's timers")
	}
	if !runsAlone(t, "^TestReferenceMockMeetsTheTimerRequirements$") {
		return
	}
	th := suite.Thresholds{IdleAfter: 2 * time.Second, OfflineAfter: time.Second}
	srv := httptest.NewServer(mockserver.New(mockserver.Options{IdleAfter: th.IdleAfter, OfflineAfter: th.OfflineAfter}))
	defer srv.Close()
	api, err := client.ForVersion("v3")
	if err != nil {
		t.Fatal(err)
	}
	result, err := suite.Run(suite.Config{Target: srv.URL, API: api, Strict: true, NoColor: true, Settle: 500 * time.Millisecond,
		Timers: true, Thresholds: th, Focus: []string{"PRES-TIME-"}}, t)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range suite.Catalogue() {
		if !req.Timers {
			continue
		}
		if got, _ := result.Outcome(req.ID); got != report.Passed {
			t.Errorf("%s: %s, want passed", req.ID, got)
		}
	}
	if result.Thresholds == "" {
		t.Error("the result does not name the thresholds it assumed")
	}
}

// aloneEnv names the test a child process runs alone.
const aloneEnv = "MXPRESENCE_SUITE_TEST_ALONE"

// runsAlone reports whether this process is the child that runs the test
// matching pattern; in the parent it runs that child and reports false.
func runsAlone(t *testing.T, pattern string) bool {
	if os.Getenv(aloneEnv) == pattern {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run="+pattern, "-test.v")
	cmd.Env = append(os.Environ(), aloneEnv+"="+pattern)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the run failed: %v\n%s", err, out)
	}
	return false
}
